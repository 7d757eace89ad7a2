// A test cluster of real `spool serve --cluster` processes over a real etcd (Debian's), and
// what the replication tests need around it: the partition state and leader address from
// etcd, an acks=all producer that follows the leader (found in etcd, as the SDK will find it
// through Metadata), a reader of a partition's values, and per-segment checksums of a
// replica's log files. Run `npm run build` first (the brokers are dist/).

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { decodeBrokerRegistration, decodePartitionState, type PartitionState } from '../../src/cluster/values.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { batchOf, recordsOf } from '../broker/records.js';
import { startBroker, tempDir, type BrokerProcess } from './broker.js';
import { startEtcd, type TestEtcd } from './etcd.js';
import { Errors } from '../../src/util/errors.js';
import { RawClient } from './raw-client.js';

export class TestCluster {
  readonly layout = new KeyLayout('/spool');
  readonly brokers = new Map<number, BrokerProcess>();
  private readonly dataDirs = new Map<number, string>();

  private constructor(
    readonly etcd: TestEtcd,
    readonly store: EtcdStore,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv | undefined = undefined,
  ) {}

  static async start(nodeIds: number[], options: { leaseTtlMs: number; replicaLagTimeMaxMs: number; args?: string[]; env?: NodeJS.ProcessEnv }): Promise<TestCluster> {
    const etcd = await startEtcd();
    const store = new EtcdStore({ endpoints: [etcd.endpoint] });
    const cluster = new TestCluster(etcd, store, ['--cluster-lease-ttl-ms', String(options.leaseTtlMs), '--replica-lag-time-max-ms', String(options.replicaLagTimeMaxMs), ...(options.args ?? [])], options.env);
    await Promise.all(nodeIds.map((id) => cluster.serve(id)));
    return cluster;
  }

  /** Starts (or restarts, on the same data dir) broker `nodeId`; `env` adds to (or overrides) the cluster's environment for this start. */
  async serve(nodeId: number, env?: NodeJS.ProcessEnv): Promise<BrokerProcess> {
    let dataDir = this.dataDirs.get(nodeId);
    if (dataDir === undefined) {
      dataDir = tempDir('spool-cluster-');
      this.dataDirs.set(nodeId, dataDir);
    }
    const environment = this.env || env ? { ...this.env, ...env } : undefined;
    const broker = await startBroker({ dataDir, args: ['--cluster', this.etcd.url, '--node-id', String(nodeId), '--http', 'off', ...this.args], ...(environment ? { env: environment } : {}) });
    this.brokers.set(nodeId, broker);
    return broker;
  }

  /** The next serve(nodeId) starts on `dataDir` (a directory made elsewhere, e.g. by a single broker); destroy() removes it. */
  useDataDir(nodeId: number, dataDir: string): void {
    this.dataDirs.set(nodeId, dataDir);
  }

  dataDir(nodeId: number): string {
    return this.dataDirs.get(nodeId)!;
  }

  async state(topic: string, partition: number): Promise<PartitionState | null> {
    const kv = await this.store.get(this.layout.partition(topic, partition));
    return kv ? decodePartitionState(kv.value) : null;
  }

  /** The registered native port of a broker, or null when it is not registered. */
  async portOf(nodeId: number): Promise<number | null> {
    const kv = await this.store.get(this.layout.broker(nodeId));
    return kv ? decodeBrokerRegistration(kv.value)!.port : null;
  }

  async destroy(): Promise<void> {
    await Promise.all([...this.brokers.values()].map((broker) => broker.kill()));
    for (const broker of this.brokers.values()) broker.cleanup();
    this.store.close();
    await this.etcd.destroy();
  }
}

/** Creates a topic through a broker's native CreateTopics (the controller places it). */
export async function createReplicatedTopic(port: number, name: string, partitions: number, replicationFactor: number): Promise<M.CreateTopicsResponse> {
  // Right after start the controller may not yet see every broker's registration (its watch
  // lags the brokers' own writes): INVALID_REPLICATION_FACTOR then, so try again for a while.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = await RawClient.connect(port);
    try {
      const response = await client.request<M.CreateTopicsResponse>(ApiKey.CreateTopics, { topics: [{ name, partitions, replicationFactor }] });
      const code = response.header.topics[0]?.errorCode ?? 0;
      if (code !== Errors.INVALID_REPLICATION_FACTOR.code || Date.now() > deadline) return response.header;
    } finally {
      client.socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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

/**
 * Produces `p<n>` values one batch at a time with acks=all to partition 0's leader as etcd
 * names it; on an error, a broken connection or no answer within `requestTimeoutMs` it looks
 * the leader up again and retries the same value (so a value may be written twice, never
 * acknowledged out of order). `acked` holds the acknowledged values in order; `answers`
 * counts the error codes seen.
 */
export class FollowingProducer {
  readonly acked: string[] = [];
  readonly errors = new Map<string, number>();
  /** Every value acknowledged, with the broker that acknowledged it. */
  readonly ackedBy: Array<{ value: string; nodeId: number; atMs: number }> = [];
  private stopped = false;
  private running: Promise<void> | null = null;
  private client: { nodeId: number; client: RawClient } | null = null;
  private next = 0;

  constructor(
    private readonly cluster: TestCluster,
    private readonly topic: string,
    private readonly requestTimeoutMs = 1_000,
  ) {}

  start(): void {
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
    this.client?.client.socket.destroy();
  }

  private count(what: string): void {
    this.errors.set(what, (this.errors.get(what) ?? 0) + 1);
  }

  private async connection(): Promise<{ nodeId: number; client: RawClient } | null> {
    const state = await this.cluster.state(this.topic, 0);
    if (!state || state.leader < 0) return null;
    if (this.client?.nodeId === state.leader && !this.client.client.isClosed) return this.client;
    this.client?.client.socket.destroy();
    this.client = null;
    const port = await this.cluster.portOf(state.leader);
    if (port === null) return null;
    this.client = { nodeId: state.leader, client: await RawClient.connect(port) };
    return this.client;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const value = `p${this.next}`;
      try {
        const target = await this.connection();
        if (!target) {
          this.count('no-leader');
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        const batch = batchOf([value]);
        const response = await withTimeout(
          target.client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 30_000, partitions: [{ topic: this.topic, partition: 0, size: batch.length }] }, batch),
          this.requestTimeoutMs,
        );
        const code = response.header.errorCode !== 0 ? response.header.errorCode : response.header.partitions[0]!.errorCode;
        if (code === 0) {
          this.acked.push(value);
          this.ackedBy.push({ value, nodeId: target.nodeId, atMs: Date.now() });
          this.next++;
        } else {
          this.count(`code-${code}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } catch (error) {
        this.count(error instanceof Error ? error.message.replace(/\d+/g, 'N') : 'error');
        this.client?.client.socket.destroy();
        this.client = null;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}

/** Every value in partition 0 of `topic` on the broker at `port`, read from offset 0 up to its high watermark. */
export async function readValues(port: number, topic: string): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    const values: string[] = [];
    let offset = 0;
    for (;;) {
      const { header, parts } = await client.fetch([{ topic, partition: 0, offset, maxBytes: 4 * 1024 * 1024 }]);
      const entry = header.partitions[0]!;
      if (entry.errorCode !== 0) throw new Error(`fetch at ${offset}: error ${entry.errorCode} ${entry.errorMessage ?? ''}`);
      const records = parts[0] && parts[0].length > 0 ? recordsOf(parts[0]).filter((record) => record.offset >= offset) : [];
      if (records.length === 0) return values;
      for (const record of records) values.push(record.value);
      offset = records[records.length - 1]!.offset + 1;
    }
  } finally {
    client.socket.destroy();
  }
}

/** Acknowledged values all present in `log`, in acknowledgement order (duplicates of retried values allowed). */
export function missingOrReordered(acked: readonly string[], log: readonly string[]): string[] {
  const problems: string[] = [];
  let at = 0;
  for (const value of acked) {
    const found = log.indexOf(value, at);
    if (found < 0) {
      problems.push(log.includes(value) ? `${value} out of order` : `${value} missing`);
      continue;
    }
    at = found + 1;
  }
  return problems;
}

/** name -> sha256 of every segment (.log file) of topic-partition in a broker's data dir. */
export function segmentChecksums(dataDir: string, topic: string, partition: number): Record<string, string> {
  const dir = join(dataDir, `${topic}-${partition}`);
  if (!existsSync(dir)) return {};
  const sums: Record<string, string> = {};
  for (const name of readdirSync(dir).filter((entry) => entry.endsWith('.log')).sort()) {
    sums[name] = createHash('sha256').update(readFileSync(join(dir, name))).digest('hex');
  }
  return sums;
}
