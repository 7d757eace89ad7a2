// A producer for the fault tests and bench/cluster.ts that keeps its own log of what was
// acknowledged (the checker's input, ack-checker.ts): acks=all batches of `batchMessages`
// messages valued `<producer>:<sequence>`, one request at a time, partitions taken in turn,
// each sent to the partition's leader as etcd names it (as the SDK will find it through
// Metadata once the cluster-client work lands). On an error, a broken connection or no answer
// within `requestTimeoutMs` it looks the leader up again and resends the same batch (so a
// batch may be written twice, never acknowledged out of order).

import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { decodeBrokerRegistration, decodePartitionState } from '../../src/cluster/values.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { encodeBatch } from '../../src/records/index.js';
import { messageValue, type AckedMessage, type AckLog } from './ack-checker.js';
import { RawClient } from './raw-client.js';

export interface LeaderAddress {
  nodeId: number;
  port: number;
}

export type Locator = (topic: string, partition: number) => Promise<LeaderAddress | null>;

/** Finds a partition's leader and its native port in etcd (null while there is none). */
export function etcdLocator(store: EtcdStore, layout = new KeyLayout('/spool')): Locator {
  return async (topic, partition) => {
    const stateKv = await store.get(layout.partition(topic, partition));
    const state = stateKv ? decodePartitionState(stateKv.value) : null;
    if (!state || state.leader < 0) return null;
    const brokerKv = await store.get(layout.broker(state.leader));
    const registration = brokerKv ? decodeBrokerRegistration(brokerKv.value) : null;
    return registration ? { nodeId: state.leader, port: registration.port } : null;
  };
}

export interface AckProducerOptions {
  producer: string;
  topic: string;
  partitions: number[];
  locate: Locator;
  batchMessages?: number;
  /** Bytes of each message (key + value), padded in the key; at least the value's length. */
  messageBytes?: number;
  log?: AckLog;
  requestTimeoutMs?: number;
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class AckProducer {
  readonly acked: AckedMessage[] = [];
  /** One entry per acknowledged batch: when, by which broker, and the send-to-ack latency. */
  readonly batches: Array<{ nodeId: number; atMs: number; latencyMs: number }> = [];
  readonly errors = new Map<string, number>();
  private stopped = false;
  private running: Promise<void> | null = null;
  private readonly clients = new Map<number, { port: number; client: RawClient }>();
  private sequence = 0;
  private turn = 0;

  constructor(private readonly options: AckProducerOptions) {}

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    for (const entry of this.clients.values()) entry.client.socket.destroy();
    this.clients.clear();
  }

  /** Acknowledged batches answered by `nodeId` at or after `sinceMs`. */
  ackedSince(sinceMs: number, nodeId?: number): number {
    return this.batches.filter((batch) => batch.atMs >= sinceMs && (nodeId === undefined || batch.nodeId === nodeId)).length;
  }

  private count(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  private async client(leader: LeaderAddress): Promise<RawClient> {
    const known = this.clients.get(leader.nodeId);
    if (known && known.port === leader.port && !known.client.isClosed) return known.client;
    known?.client.socket.destroy();
    const client = await RawClient.connect(leader.port);
    this.clients.set(leader.nodeId, { port: leader.port, client });
    return client;
  }

  private async run(): Promise<void> {
    const { producer, topic, partitions, locate } = this.options;
    const batchMessages = this.options.batchMessages ?? 1;
    const messageBytes = this.options.messageBytes ?? 0;
    const timeoutMs = this.options.requestTimeoutMs ?? 1_000;
    while (!this.stopped) {
      const partition = partitions[this.turn % partitions.length]!;
      const first = this.sequence;
      const records = Array.from({ length: batchMessages }, (_, index) => {
        const value = messageValue(producer, first + index);
        return { key: producer.padEnd(Math.max(producer.length, messageBytes - value.length), '.'), value };
      });
      let leader: LeaderAddress | null = null;
      try {
        leader = await locate(topic, partition);
        if (!leader) {
          this.count('no-leader');
          await sleep(50);
          continue;
        }
        const client = await this.client(leader);
        const batch = encodeBatch(records);
        const sentAt = performance.now();
        const response = await withTimeout(
          client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 30_000, partitions: [{ topic, partition, size: batch.length }] }, batch),
          timeoutMs,
        );
        const result = response.header.partitions[0];
        const code = response.header.errorCode !== 0 ? response.header.errorCode : result!.errorCode;
        if (code !== 0) {
          this.count(`code-${code}`);
          await sleep(20);
          continue;
        }
        const acked = records.map((record, index) => ({ producer, key: record.key, partition, offset: result!.baseOffset + index, sequence: first + index }));
        this.acked.push(...acked);
        this.options.log?.append(acked);
        this.batches.push({ nodeId: leader.nodeId, atMs: Date.now(), latencyMs: performance.now() - sentAt });
        this.sequence += batchMessages;
        this.turn++;
      } catch (error) {
        this.count(error instanceof Error ? error.message.replace(/\d+/g, 'N') : 'error');
        if (leader) {
          this.clients.get(leader.nodeId)?.client.socket.destroy();
          this.clients.delete(leader.nodeId);
        }
        await sleep(20);
      }
    }
  }
}
