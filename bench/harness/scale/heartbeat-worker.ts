// A heartbeat driver process of the scale benchmark: plays `members` consumer-group members
// (KIP-848 ConsumerGroupHeartbeat, native protocol, no SDK) over `connections` raw
// connections (test/helpers/raw-client.ts). Members join (epoch 0), then every member
// heartbeats once per `intervalMs` on a paced schedule (each 10 ms tick sends what is due,
// so the offered rate is members / interval whatever the answers do), carrying its current
// epoch and the partitions of its last assignment, as a real member does. A member never
// has two heartbeats outstanding (a late answer delays its next one).
// Measures, over `measureMs` after `warmupMs`: answers per second, answer latency
// (send to answer) p50/p99/max, errors, and the broker's CPU % (/proc/<pid>/stat).
// IPC: start -> joined { joinMs } -> (warm-up, measure) -> done { ... }.

import { performance } from 'node:perf_hooks';
import { ApiKey } from '../../../src/protocol/apis.js';
import type * as M from '../../../src/protocol/messages.js';
import { RawClient } from '../../../test/helpers/raw-client.js';
import { LatencyHistogram } from '../histogram.js';
import { cpuMeter } from './proc.js';
import { serveRunWorker } from '../worker-process.js';

export interface HeartbeatWorkerConfig {
  port: number;
  brokerPid: number;
  topic: string;
  /** Group ids; members are spread evenly over them. */
  groups: string[];
  members: number;
  connections: number;
  intervalMs: number;
  warmupMs: number;
  measureMs: number;
  sessionTimeoutMs: number;
  workerIndex: number;
}

export type HeartbeatWorkerMessage =
  | { type: 'joined'; joinMs: number }
  | { type: 'done'; answers: number; errors: number; seconds: number; brokerCpuPercent: number | null; driverCpuPercent: number; histogram: string }
  | { type: 'failed'; error: string };

interface SimMember {
  groupId: string;
  memberId: string;
  memberEpoch: number;
  owned: M.TopicPartitions[];
  busy: boolean;
  connection: RawClient;
}

async function heartbeat(member: SimMember, config: HeartbeatWorkerConfig): Promise<M.ConsumerGroupHeartbeatResponse> {
  const joining = member.memberEpoch === 0;
  const request: M.ConsumerGroupHeartbeatRequest = joining
    ? { groupId: member.groupId, memberId: member.memberId, memberEpoch: 0, topics: [config.topic], sessionTimeoutMs: config.sessionTimeoutMs, clientId: `hb-${config.workerIndex}` }
    : { groupId: member.groupId, memberId: member.memberId, memberEpoch: member.memberEpoch, ownedPartitions: member.owned };
  const response = await member.connection.request<M.ConsumerGroupHeartbeatResponse>(ApiKey.ConsumerGroupHeartbeat, request);
  const answer = response.header;
  if (answer.errorCode === 0) {
    member.memberId = answer.memberId;
    member.memberEpoch = answer.memberEpoch;
    if (answer.assignment !== undefined) member.owned = answer.assignment;
  } else {
    // Fenced or unknown: start over as a real member would.
    member.memberEpoch = 0;
    member.owned = [];
  }
  return answer;
}

async function run(config: HeartbeatWorkerConfig, send: (message: HeartbeatWorkerMessage) => void): Promise<void> {
  const connections = await Promise.all(Array.from({ length: config.connections }, () => RawClient.connect(config.port)));
  const members: SimMember[] = Array.from({ length: config.members }, (_, index) => ({
    groupId: config.groups[index % config.groups.length]!,
    memberId: '',
    memberEpoch: 0,
    owned: [],
    busy: false,
    connection: connections[index % connections.length]!,
  }));
  // Join: at most 256 joins outstanding per connection.
  const joinStart = performance.now();
  const window = 256 * config.connections;
  for (let index = 0; index < members.length; index += window) {
    await Promise.all(members.slice(index, index + window).map((member) => heartbeat(member, config)));
  }
  send({ type: 'joined', joinMs: Math.round(performance.now() - joinStart) });

  const histogram = new LatencyHistogram();
  let measuring = false;
  let answers = 0;
  let errors = 0;
  let sent = 0;
  let cursor = 0;
  const ratePerMs = config.members / config.intervalMs;
  const start = performance.now();
  await new Promise<void>((resolve) => {
    let meter: { stop(): number | null } | undefined;
    let measureStart = 0;
    let ownCpu = process.cpuUsage();
    const tick = setInterval(() => {
      const now = performance.now();
      if (!measuring && now - start >= config.warmupMs) {
        measuring = true;
        measureStart = now;
        meter = cpuMeter(config.brokerPid);
        ownCpu = process.cpuUsage();
      }
      if (measuring && now - measureStart >= config.measureMs) {
        clearInterval(tick);
        const brokerCpuPercent = meter?.stop() ?? null;
        const seconds = (performance.now() - measureStart) / 1000;
        const used = process.cpuUsage(ownCpu);
        // This driver's own CPU: near 100% means the driver, not the broker, sets the pace.
        const driverCpuPercent = Math.round((used.user + used.system) / 1000 / seconds / 10 * 10) / 10;
        send({ type: 'done', answers, errors, seconds, brokerCpuPercent, driverCpuPercent, histogram: histogram.encode() });
        resolve();
        return;
      }
      const due = Math.floor((now - start) * ratePerMs) - sent;
      for (let index = 0; index < due; index++) {
        const member = members[cursor]!;
        cursor = (cursor + 1) % members.length;
        sent++;
        if (member.busy) continue; // its last heartbeat is still unanswered: skip this turn
        member.busy = true;
        const sentAt = performance.now();
        const counted = measuring;
        heartbeat(member, config).then(
          (answer) => {
            member.busy = false;
            if (!counted || !measuring) return;
            histogram.recordMs(performance.now() - sentAt);
            answers++;
            if (answer.errorCode !== 0) errors++;
          },
          () => {
            member.busy = false;
            if (counted) errors++;
          },
        );
      }
    }, 10);
  });
  // Leave, so the broker is not left with 10,000 sessions to expire.
  for (let index = 0; index < members.length; index += window) {
    await Promise.all(
      members.slice(index, index + window).map((member) =>
        member.connection.request(ApiKey.ConsumerGroupHeartbeat, { groupId: member.groupId, memberId: member.memberId, memberEpoch: -1 }).catch(() => undefined),
      ),
    );
  }
  await Promise.all(connections.map((connection) => connection.close()));
}

if (process.send !== undefined) serveRunWorker(run);
