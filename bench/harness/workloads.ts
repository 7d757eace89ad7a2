// The four end-to-end workloads shared by `bench/cli.ts` and the peer benchmarks
// (bench/peers), and the Target interface every system under test implements.
//
//   W1  1,000,000 messages of 100 B from one producer, every one acknowledged as stored.
//   W2    200,000 messages of 1 KiB, the same way.
//   W3  replay of W1's stream from the beginning (one consumer, read-only).
//   W4  100 B messages at a fixed 5,000 msg/s for 10 s; latency p50/p99/p99.9 from the
//       message's scheduled send time to its acknowledgement (so a stall is charged to
//       every message that should have been sent during it: no coordinated omission).
//
// `scale` shrinks counts and durations for smoke runs (the tests use it); 1 is the real run.

export const WorkloadIds = ['W1', 'W2', 'W3', 'W4'] as const;
export type WorkloadId = (typeof WorkloadIds)[number];

export const WorkloadKinds = { throughput: 'throughput', replay: 'replay', rate: 'rate' } as const;
export type WorkloadKind = (typeof WorkloadKinds)[keyof typeof WorkloadKinds];

export interface Workload {
  id: WorkloadId;
  kind: WorkloadKind;
  title: string;
  /** Messages produced (throughput, rate) or replayed (replay). */
  messages: number;
  messageBytes: number;
  /** rate: messages per second the producer is paced at. */
  ratePerSec?: number;
  /** rate: how long the paced producer runs. */
  durationMs?: number;
  /** replay: the workload whose stream is read back. */
  replayOf?: WorkloadId;
  /** Hard stop for the whole run; a run that hits it is reported as incomplete. */
  timeoutMs: number;
}

export const WORKLOADS: Readonly<Record<WorkloadId, Workload>> = {
  W1: { id: 'W1', kind: 'throughput', title: '1M x 100 B, acked', messages: 1_000_000, messageBytes: 100, timeoutMs: 300_000 },
  W2: { id: 'W2', kind: 'throughput', title: '200k x 1 KiB, acked', messages: 200_000, messageBytes: 1024, timeoutMs: 300_000 },
  W3: { id: 'W3', kind: 'replay', title: 'replay W1 from start', messages: 1_000_000, messageBytes: 100, replayOf: 'W1', timeoutMs: 300_000 },
  W4: {
    id: 'W4',
    kind: 'rate',
    title: '5k msg/s x 10 s, 100 B',
    messages: 50_000,
    messageBytes: 100,
    ratePerSec: 5_000,
    durationMs: 10_000,
    timeoutMs: 60_000,
  },
};

/** A copy of `workload` with counts and durations multiplied by `scale` (0 < scale <= 1). */
export function scaleWorkload(workload: Workload, scale: number): Workload {
  if (!(scale > 0 && scale <= 1)) throw new Error(`scale must be in (0, 1], got ${scale}`);
  if (scale === 1) return workload;
  const scaled: Workload = { ...workload, messages: Math.max(1, Math.round(workload.messages * scale)) };
  if (workload.durationMs !== undefined) scaled.durationMs = Math.max(1, Math.round(workload.durationMs * scale));
  return scaled;
}

export function parseWorkloadIds(text: string): WorkloadId[] {
  const ids = text.split(',').map((part) => part.trim().toUpperCase()).filter((part) => part.length > 0);
  for (const id of ids) {
    if (!(WorkloadIds as readonly string[]).includes(id)) throw new Error(`unknown workload ${id} (known: ${WorkloadIds.join(', ')})`);
  }
  return ids as WorkloadId[];
}

/** What the runner asks a target's producer for: throughput (W1, W2) or latency (W4). */
export type ProducerMode = 'throughput' | 'latency';

/**
 * A producer of one target, driven by the runner. The runner keeps at most
 * `maxInFlightMessages` messages sent but not acknowledged, and hands over up to
 * `batchMessages` at once (1 in latency mode, where every message has its own send time).
 */
export interface TargetProducer {
  readonly batchMessages: number;
  readonly maxInFlightMessages: number;
  /** Sends `count` messages with value `payload`; resolves when all are acknowledged as stored. */
  publish(payload: Buffer, count: number): Promise<void>;
  close(): Promise<void>;
}

export interface ReplayRequest {
  stream: string;
  /** Stop after this many messages. */
  messages: number;
  /** Called as messages arrive (count and value bytes since the last call). */
  onMessages(count: number, valueBytes: number): void;
  /** The target stops reading by then even if `messages` were not reached. */
  deadline: number;
}

/** Static facts about how a target is run, copied into every result record. */
export interface TargetSettings {
  /** When the server makes data durable, e.g. "appendfsync everysec". */
  fsyncMode: string;
  /** What counts as acknowledged, e.g. "PubAck per message (JetStream file store)". */
  acks: string;
  /** How the client is driven, in one line. */
  driving: string;
  serverVersion?: string;
  clientVersion?: string;
}

export interface Target {
  /** Short system name for tables ("spool", "NATS JetStream", ...). */
  readonly name: string;
  readonly settings: TargetSettings;
  /** Connects. Called once before any workload. */
  setup(): Promise<void>;
  /** Creates a fresh, empty stream/topic named `stream` (deleting a leftover one). */
  createStream(stream: string): Promise<void>;
  /** Deletes the stream to free disk between runs; missing streams are fine. */
  deleteStream(stream: string): Promise<void>;
  producer(stream: string, mode: ProducerMode): Promise<TargetProducer>;
  /** Reads the stream from its first message until `messages` arrived or the deadline. */
  replay(request: ReplayRequest): Promise<void>;
  close(): Promise<void>;
}
