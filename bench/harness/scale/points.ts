// The scale points (bench/scale.ts): each one starts a fresh broker process on a fresh temp
// data directory, measures one size, and returns one record.
//   partitions   one topic of P partitions, keyed 100 B messages (acks all) from one
//                producer: msg/s, p99, broker RSS and fds after the run, start-up after
//                kill -9 and after a clean stop. The broker runs under `ulimit -n`.
//   connections  C producer connections over a few processes: aggregate msg/s, p99.
//   idle         RSS of N idle connections (each did one request).
//   groups       G one-member groups read the same filled topic at once.
//   heartbeats   M simulated members heartbeat once per second each (raw protocol).
//   recovery     a log of L MB (checkpointed by a clean stop), then a tail of T MB, then
//                kill -9: start-up time and segments scanned.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../../../src/client/index.js';
import { ApiKey } from '../../../src/protocol/apis.js';
import { RawClient } from '../../../test/helpers/raw-client.js';
import { fillTopic, sleep } from '../common.js';
import { driveGroups, driveHeartbeats, driveProducers } from './drive.js';
import { startScaleBroker, type ScaleBroker, type ScaleBrokerOptions } from './broker.js';
import { openFds, rssMiB } from './proc.js';

export interface ScaleSettings {
  messages: number;
  messageBytes: number;
  openFileLimit: number | undefined;
  producerProcesses: number;
  consumerProcesses: number;
  connectionPartitions: number;
  groupPartitions: number;
  heartbeatConnections: number;
  heartbeatProcesses: number;
  heartbeatMeasureMs: number;
  recoverySegmentBytes: number;
  timeoutMs: number;
}

/** One measured point; `section` says which table it belongs to. */
export type ScalePoint = { section: string; size: number; complete: boolean; error?: string } & Record<string, unknown>;

const TOPIC = 'scale';

async function withBroker<T>(options: Omit<ScaleBrokerOptions, 'dataDir'>, body: (broker: ScaleBroker, dataDir: string) => Promise<T>): Promise<T> {
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-scale-'));
  let broker: ScaleBroker | undefined;
  try {
    broker = await startScaleBroker({ ...options, dataDir });
    return await body(broker, dataDir);
  } finally {
    await broker?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function createTopic(address: string, partitions: number, config?: Record<string, string | number>): Promise<number> {
  const client = new Client({ brokers: [address], clientId: 'scale-admin', requestTimeoutMs: 600_000 });
  const started = performance.now();
  try {
    await client.admin().createTopics({ topics: [{ topic: TOPIC, numPartitions: partitions, ...(config ? { config } : {}) }] });
  } finally {
    await client.close();
  }
  return Math.round(performance.now() - started);
}

function failed(section: string, size: number, error: unknown): ScalePoint {
  return { section, size, complete: false, error: error instanceof Error ? error.message : String(error) };
}

export async function partitionsPoint(partitions: number, settings: ScaleSettings): Promise<ScalePoint> {
  const section = 'partitions';
  const brokerOptions = settings.openFileLimit === undefined ? {} : { openFileLimit: settings.openFileLimit };
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-scale-'));
  let broker: ScaleBroker | undefined;
  try {
    broker = await startScaleBroker({ ...brokerOptions, dataDir });
    const running = broker;
    const createMs = await running.alive(createTopic(broker.address, partitions));
    const produced = await running.alive(driveProducers({
      address: broker.address,
      brokerPid: broker.pid,
      topic: TOPIC,
      partitions,
      processes: 1,
      connections: 1,
      messages: settings.messages,
      messageBytes: settings.messageBytes,
      batchMessages: 1000,
      maxInFlightMessages: 20_000,
      timeoutMs: settings.timeoutMs,
    }));
    const brokerCpuPercent = produced.brokerCpuPercent;
    const rssAfterRunMiB = rssMiB(broker.pid);
    const fdsAfterRun = openFds(broker.pid);
    // kill -9 right after the run: every partition's active segment is scanned at start.
    await broker.stop('SIGKILL');
    broker = await startScaleBroker({ ...brokerOptions, dataDir });
    const crashStartupMs = broker.startupMs;
    const scanned = /recovery: scanned (\d+) segment/.exec(broker.stderr())?.[1];
    const rssAfterCrashStartMiB = rssMiB(broker.pid);
    const stopStarted = performance.now();
    await broker.stop('SIGTERM');
    const cleanStopMs = Math.round(performance.now() - stopStarted);
    broker = await startScaleBroker({ ...brokerOptions, dataDir });
    const cleanStartupMs = broker.startupMs;
    const rssAfterCleanStartMiB = rssMiB(broker.pid);
    const fdsAfterCleanStart = openFds(broker.pid);
    return {
      section,
      size: partitions,
      partitions,
      messages: produced.messages,
      messageBytes: settings.messageBytes,
      seconds: produced.seconds,
      msgsPerSec: produced.msgsPerSec,
      p50Ms: produced.latency.p50Ms,
      p99Ms: produced.latency.p99Ms,
      brokerCpuPercent,
      createTopicMs: createMs,
      rssAfterRunMiB,
      fdsAfterRun,
      crashStartupMs,
      segmentsScanned: scanned === undefined ? 0 : Number(scanned),
      rssAfterCrashStartMiB,
      cleanStopMs,
      cleanStartupMs,
      rssAfterCleanStartMiB,
      fdsAfterCleanStart,
      openFileLimit: settings.openFileLimit ?? 'inherited',
      complete: produced.complete,
      ...(produced.error !== undefined ? { error: produced.error } : {}),
    };
  } catch (error) {
    return failed(section, partitions, error);
  } finally {
    await broker?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function connectionsPoint(connections: number, settings: ScaleSettings): Promise<ScalePoint> {
  const section = 'connections';
  try {
    return await withBroker({}, async (broker) => {
      await broker.alive(createTopic(broker.address, settings.connectionPartitions));
      const processes = Math.min(connections, settings.producerProcesses);
      // Per connection: send() calls of 100 messages, at most 1,000 unacknowledged.
      const produced = await broker.alive(driveProducers({
        address: broker.address,
        brokerPid: broker.pid,
        topic: TOPIC,
        partitions: settings.connectionPartitions,
        processes,
        connections,
        messages: settings.messages,
        messageBytes: settings.messageBytes,
        batchMessages: 100,
        maxInFlightMessages: 1000,
        timeoutMs: settings.timeoutMs,
      }));
      return {
        section,
        size: connections,
        connections,
        processes,
        partitions: settings.connectionPartitions,
        messages: produced.messages,
        messageBytes: settings.messageBytes,
        seconds: produced.seconds,
        msgsPerSec: produced.msgsPerSec,
        p50Ms: produced.latency.p50Ms,
        p99Ms: produced.latency.p99Ms,
        maxMs: produced.latency.maxMs,
        brokerCpuPercent: produced.brokerCpuPercent,
        rssAfterRunMiB: rssMiB(broker.pid),
        complete: produced.complete,
        ...(produced.error !== undefined ? { error: produced.error } : {}),
      };
    });
  } catch (error) {
    return failed(section, connections, error);
  }
}

export async function idlePoint(connections: number): Promise<ScalePoint> {
  const section = 'idle';
  try {
    return await withBroker({}, async (broker) => {
      await sleep(500);
      const rssBeforeMiB = rssMiB(broker.pid);
      const fdsBefore = openFds(broker.pid);
      const clients: RawClient[] = [];
      for (let index = 0; index < connections; index += 100) {
        const opened = await Promise.all(Array.from({ length: Math.min(100, connections - index) }, () => RawClient.connect(broker.port)));
        // One request each, so the broker has set the connection up fully (decoder, session).
        await Promise.all(opened.map((client) => client.request(ApiKey.ApiVersions, {})));
        clients.push(...opened);
      }
      await sleep(1000);
      const rssAfterMiB = rssMiB(broker.pid);
      const fdsAfter = openFds(broker.pid);
      await Promise.all(clients.map((client) => client.close()));
      const kibPerConnection = rssBeforeMiB === null || rssAfterMiB === null ? null : Math.round(((rssAfterMiB - rssBeforeMiB) * 1024) / connections);
      return { section, size: connections, connections, rssBeforeMiB, rssAfterMiB, kibPerConnection, fdsBefore, fdsAfter, complete: true };
    });
  } catch (error) {
    return failed(section, connections, error);
  }
}

export async function groupsPoint(groups: number, settings: ScaleSettings): Promise<ScalePoint> {
  const section = 'groups';
  try {
    return await withBroker({}, async (broker) => {
      await createTopic(broker.address, settings.groupPartitions);
      const client = new Client({ brokers: [broker.address], clientId: 'scale-fill' });
      try {
        await fillTopic(client, TOPIC, settings.messages, settings.messageBytes, settings.groupPartitions);
      } finally {
        await client.close();
      }
      const processes = Math.min(groups, settings.consumerProcesses);
      const outcome = await broker.alive(driveGroups({ address: broker.address, brokerPid: broker.pid, topic: TOPIC, partitions: settings.groupPartitions, groups, processes, expectedMessages: settings.messages, timeoutMs: settings.timeoutMs }));
      return {
        section,
        size: groups,
        groups,
        processes,
        partitions: settings.groupPartitions,
        messagesPerGroup: settings.messages,
        messageBytes: settings.messageBytes,
        seconds: outcome.seconds,
        firstGroupSeconds: outcome.firstGroupSeconds,
        msgsPerSec: outcome.msgsPerSec,
        brokerCpuPercent: outcome.brokerCpuPercent,
        rssAfterRunMiB: rssMiB(broker.pid),
        complete: true,
      };
    });
  } catch (error) {
    return failed(section, groups, error);
  }
}

export async function heartbeatsPoint(members: number, membersPerGroup: number, settings: ScaleSettings): Promise<ScalePoint> {
  const section = 'heartbeats';
  const groupCount = Math.max(1, Math.ceil(members / membersPerGroup));
  try {
    return await withBroker({}, async (broker) => {
      // A partition per member of a group, so every member owns one.
      const partitions = Math.min(membersPerGroup, 10_000);
      await createTopic(broker.address, partitions);
      const outcome = await broker.alive(driveHeartbeats({
        port: broker.port,
        brokerPid: broker.pid,
        topic: TOPIC,
        groups: Array.from({ length: groupCount }, (_, index) => `hb-group-${index}`),
        members,
        processes: Math.min(settings.heartbeatProcesses, members),
        connections: settings.heartbeatConnections,
        intervalMs: 1000,
        warmupMs: Math.min(3000, settings.heartbeatMeasureMs),
        measureMs: settings.heartbeatMeasureMs,
        sessionTimeoutMs: 60_000,
      }));
      return {
        section,
        size: members,
        members,
        groups: groupCount,
        membersPerGroup,
        partitions,
        offeredPerSec: members,
        answersPerSec: outcome.answersPerSec,
        errors: outcome.errors,
        joinMs: outcome.joinMs,
        brokerCpuPercent: outcome.brokerCpuPercent,
        driverCpuPercent: outcome.driverCpuPercent,
        p50Ms: outcome.latency.p50Ms,
        p99Ms: outcome.latency.p99Ms,
        maxMs: outcome.latency.maxMs,
        rssAfterRunMiB: rssMiB(broker.pid),
        complete: true,
      };
    });
  } catch (error) {
    return failed(section, members, error);
  }
}

/**
 * For one log size: fill it (1 KiB messages), stop cleanly (everything checkpointed), then
 * for each tail: start, append the tail, kill -9, time the start; stop cleanly again.
 */
export async function recoveryPoints(logMiB: number, tailsMiB: number[], settings: ScaleSettings): Promise<ScalePoint[]> {
  const section = 'recovery';
  const dataDir = mkdtempSync(join(tmpdir(), 'spool-scale-'));
  const messageBytes = 1024;
  let broker: ScaleBroker | undefined;
  const points: ScalePoint[] = [];
  const append = async (address: string, mebibytes: number): Promise<void> => {
    const produced = await driveProducers({ address, topic: TOPIC, partitions: 1, processes: 1, connections: 1, messages: mebibytes * 1024, messageBytes, batchMessages: 1000, maxInFlightMessages: 20_000, timeoutMs: settings.timeoutMs });
    if (!produced.complete) throw new Error(`filling ${mebibytes} MiB: ${produced.error ?? 'incomplete'}`);
  };
  try {
    broker = await startScaleBroker({ dataDir });
    await createTopic(broker.address, 1, { 'segment.bytes': settings.recoverySegmentBytes });
    await broker.alive(append(broker.address, logMiB));
    let logSoFarMiB = logMiB;
    for (const tailMiB of tailsMiB) {
      await broker.stop('SIGTERM');
      broker = await startScaleBroker({ dataDir });
      const cleanStartupMs = broker.startupMs;
      await broker.alive(append(broker.address, tailMiB));
      await broker.stop('SIGKILL');
      broker = await startScaleBroker({ dataDir });
      const scanned = /recovery: scanned (\d+) segment\(s\)[^,]*, trusted (\d+)/.exec(broker.stderr());
      points.push({
        section,
        size: logSoFarMiB,
        logMiB: logSoFarMiB,
        tailMiB,
        segmentBytes: settings.recoverySegmentBytes,
        cleanStartupMs,
        crashStartupMs: broker.startupMs,
        segmentsScanned: scanned ? Number(scanned[1]) : 0,
        segmentsTrusted: scanned ? Number(scanned[2]) : null,
        complete: true,
      });
      logSoFarMiB += tailMiB;
    }
    return points;
  } catch (error) {
    return [...points, failed(section, logMiB, error)];
  } finally {
    await broker?.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
}
