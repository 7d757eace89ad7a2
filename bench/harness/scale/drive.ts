// Drivers shared by the scale points: N producer processes with C connections in all
// (produce-worker.ts), consumer-group processes (groups-worker.ts), heartbeat drivers
// (heartbeat-worker.ts). Each forks its workers, waits until all are ready, starts them
// together, and merges what they report.

import type { ChildProcess } from 'node:child_process';
import { forkWorker, wallNow } from '../common.js';
import { LatencyHistogram, type LatencySummary } from '../histogram.js';
import type { ScaleProduceConfig, ScaleProduceMessage } from './produce-worker.js';
import type { ScaleGroupsConfig, ScaleGroupsMessage } from './groups-worker.js';
import type { HeartbeatWorkerConfig, HeartbeatWorkerMessage } from './heartbeat-worker.js';
import { cpuMeter } from './proc.js';

export interface ProduceDrive {
  address: string;
  topic: string;
  partitions: number;
  processes: number;
  connections: number;
  messages: number;
  messageBytes: number;
  batchMessages: number;
  maxInFlightMessages: number;
  timeoutMs: number;
  /** The broker's pid: its CPU % from 'go' to the last ack. */
  brokerPid?: number;
}

export interface ProduceOutcome {
  messages: number;
  seconds: number;
  msgsPerSec: number;
  latency: LatencySummary;
  brokerCpuPercent: number | null;
  complete: boolean;
  error?: string;
}

/** Splits `total` into `parts` near-equal shares. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, index) => Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}

function kill(workers: ChildProcess[]): void {
  for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGTERM');
}

export async function driveProducers(drive: ProduceDrive): Promise<ProduceOutcome> {
  const workers: ChildProcess[] = [];
  try {
    const connectionsPerProcess = split(drive.connections, drive.processes).filter((count) => count > 0);
    const perConnection = Math.floor(drive.messages / drive.connections);
    const started = connectionsPerProcess.map((connections, workerIndex) => {
      const worker = forkWorker('scale/produce-worker');
      workers.push(worker);
      const config: ScaleProduceConfig = {
        broker: drive.address,
        topic: drive.topic,
        connections,
        messages: perConnection,
        messageBytes: drive.messageBytes,
        partitions: drive.partitions,
        batchMessages: Math.min(drive.batchMessages, perConnection),
        maxInFlightMessages: drive.maxInFlightMessages,
        timeoutMs: drive.timeoutMs,
        workerIndex,
      };
      let onReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (onReady = resolve));
      const done = new Promise<Extract<ScaleProduceMessage, { type: 'done' }>>((resolve, reject) => {
        worker.on('message', (message: ScaleProduceMessage) => {
          if (message.type === 'ready') onReady();
          else if (message.type === 'done') resolve(message);
          else reject(new Error(`producer process ${workerIndex + 1}: ${message.error}`));
        });
        worker.once('exit', (code, signal) => reject(new Error(`producer process ${workerIndex + 1} exited (${signal ?? code}) before it reported`)));
      });
      worker.send({ type: 'start', config });
      return { ready, done };
    });
    const results = started.map((entry) => entry.done);
    await Promise.race([Promise.all(started.map((entry) => entry.ready)), Promise.all(results)]);
    const goWallMs = wallNow();
    const meter = drive.brokerPid === undefined ? undefined : cpuMeter(drive.brokerPid);
    for (const worker of workers) worker.send({ type: 'go' });
    const done = await Promise.all(results);
    const brokerCpuPercent = meter?.stop() ?? null;
    const histogram = new LatencyHistogram();
    for (const report of done) histogram.add(LatencyHistogram.decode(report.histogram));
    const messages = done.reduce((sum, report) => sum + report.messages, 0);
    const seconds = (Math.max(...done.map((report) => report.endWallMs)) - goWallMs) / 1000;
    const errors = done.filter((report) => report.error !== undefined).map((report) => report.error);
    return {
      messages,
      seconds,
      msgsPerSec: Math.round(messages / seconds),
      latency: histogram.summary(),
      brokerCpuPercent,
      complete: done.every((report) => report.complete),
      ...(errors.length > 0 ? { error: errors.join('; ') } : {}),
    };
  } finally {
    kill(workers);
  }
}

export interface GroupsOutcome {
  /** From 'go' to the last group's last message. */
  seconds: number;
  /** Messages read by all groups together, per second. */
  msgsPerSec: number;
  /** The first and last group to finish, s after 'go'. */
  firstGroupSeconds: number;
  brokerCpuPercent: number | null;
}

export async function driveGroups(options: { address: string; brokerPid: number; topic: string; partitions: number; groups: number; processes: number; expectedMessages: number; timeoutMs: number }): Promise<GroupsOutcome> {
  const workers: ChildProcess[] = [];
  const names = Array.from({ length: options.groups }, (_, index) => `scale-group-${index}`);
  const shares = split(options.groups, Math.min(options.processes, options.groups));
  const finished = new Map<string, number>();
  let allFinished: () => void = () => undefined;
  const whenAllFinished = new Promise<void>((resolve) => (allFinished = resolve));
  try {
    let first = 0;
    const readies = shares.map((count, workerIndex) => {
      const worker = forkWorker('scale/groups-worker');
      workers.push(worker);
      const config: ScaleGroupsConfig = { broker: options.address, topic: options.topic, partitions: options.partitions, groups: names.slice(first, first + count), expectedMessages: options.expectedMessages };
      first += count;
      return new Promise<void>((resolve, reject) => {
        worker.on('message', (message: ScaleGroupsMessage) => {
          if (message.type === 'ready') resolve();
          else if (message.type === 'finished') {
            finished.set(message.group, message.wallMs);
            if (finished.size === options.groups) allFinished();
          } else reject(new Error(`consumer process ${workerIndex + 1}: ${message.error}`));
        });
        worker.once('exit', (code, signal) => reject(new Error(`consumer process ${workerIndex + 1} exited (${signal ?? code})`)));
        worker.send({ type: 'start', config });
      });
    });
    await Promise.all(readies);
    const goWallMs = wallNow();
    const meter = cpuMeter(options.brokerPid);
    for (const worker of workers) worker.send({ type: 'go' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      whenAllFinished,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${finished.size} of ${options.groups} groups read the topic in ${options.timeoutMs} ms`)), options.timeoutMs))),
    ]).finally(() => clearTimeout(timer));
    const brokerCpuPercent = meter.stop();
    const ends = [...finished.values()];
    const seconds = (Math.max(...ends) - goWallMs) / 1000;
    return {
      seconds,
      msgsPerSec: Math.round((options.groups * options.expectedMessages) / seconds),
      firstGroupSeconds: (Math.min(...ends) - goWallMs) / 1000,
      brokerCpuPercent,
    };
  } finally {
    for (const worker of workers) if (worker.connected) worker.send({ type: 'stop' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    kill(workers);
  }
}

export interface HeartbeatOutcome {
  joinMs: number;
  answersPerSec: number;
  errors: number;
  brokerCpuPercent: number | null;
  /** The busiest driver process's CPU %, of one core. */
  driverCpuPercent: number;
  latency: LatencySummary;
}

export async function driveHeartbeats(options: Omit<HeartbeatWorkerConfig, 'workerIndex' | 'members'> & { members: number; processes: number }): Promise<HeartbeatOutcome> {
  const workers: ChildProcess[] = [];
  try {
    const shares = split(options.members, options.processes);
    const reports = shares.map((members, workerIndex) => {
      const worker = forkWorker('scale/heartbeat-worker');
      workers.push(worker);
      const { processes: _processes, ...rest } = options;
      const config: HeartbeatWorkerConfig = { ...rest, members, workerIndex };
      let joinMs = 0;
      return new Promise<{ joinMs: number; done: Extract<HeartbeatWorkerMessage, { type: 'done' }> }>((resolve, reject) => {
        worker.on('message', (message: HeartbeatWorkerMessage) => {
          if (message.type === 'joined') joinMs = message.joinMs;
          else if (message.type === 'done') resolve({ joinMs, done: message });
          else reject(new Error(`heartbeat driver ${workerIndex + 1}: ${message.error}`));
        });
        worker.once('exit', (code, signal) => reject(new Error(`heartbeat driver ${workerIndex + 1} exited (${signal ?? code}) before it reported`)));
        worker.send({ type: 'start', config });
      });
    });
    const results = await Promise.all(reports);
    const histogram = new LatencyHistogram();
    for (const { done } of results) histogram.add(LatencyHistogram.decode(done.histogram));
    const cpu = results.map(({ done }) => done.brokerCpuPercent).filter((value): value is number => value !== null);
    return {
      joinMs: Math.max(...results.map((result) => result.joinMs)),
      answersPerSec: Math.round(results.reduce((sum, { done }) => sum + done.answers / done.seconds, 0)),
      errors: results.reduce((sum, { done }) => sum + done.errors, 0),
      // Every driver measured the same broker over nearly the same window: their mean.
      brokerCpuPercent: cpu.length === 0 ? null : Math.round((cpu.reduce((sum, value) => sum + value, 0) / cpu.length) * 10) / 10,
      driverCpuPercent: Math.max(...results.map(({ done }) => done.driverCpuPercent)),
      latency: histogram.summary(),
    };
  } finally {
    // Drivers leave their groups and exit by themselves; give them time before forcing it.
    await Promise.all(workers.map((worker) => (worker.exitCode !== null ? undefined : new Promise((resolve) => { const timer = setTimeout(() => { worker.kill('SIGTERM'); resolve(undefined); }, 15_000); worker.once('exit', () => { clearTimeout(timer); resolve(undefined); }); }))));
  }
}
