// Two (or more) brokers in this process on 127.0.0.1 whose replica roles the test supplies
// through one shared ReplicaState (what etcd would hold; no etcd, no controller): each broker
// on port 0 with its own temp data directory and fsync never, and the ReplicaFetcher that
// copies a partition from its leader's log to a follower's. The fixture of the replication,
// coordinator-failover and cluster-routing tests; every broker, directory and fetcher is
// handed to the test file's cleanups (run newest first).

import { rmSync } from 'node:fs';
import { type Broker, type BrokerOptions, NativeLeaderChannel, type ReplicaState, silentLogger, startBroker } from '../../src/broker/index.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import type { ReplicaLog } from '../../src/storage/types.js';
import { tempDir } from './broker.js';

export type Cleanup = () => Promise<void> | void;

export interface ReplicatedBrokerOptions {
  /** acks=all needs this many in-sync replicas (the broker's default when absent). */
  minInsyncReplicas?: number;
  ackTimeoutMs: number;
  /** More broker options: a Kafka listener, coordinator roles, a metadata source... */
  broker?: Omit<Partial<BrokerOptions>, 'dataDir' | 'port' | 'replication'>;
}

export interface FollowOptions {
  leaderEpoch: number;
  maxWaitMs: number;
  /** Bytes per ReplicaFetch (the fetcher's default when absent). */
  maxBytes?: number;
}

export class ReplicatedBrokers {
  /** The started brokers by id; a test removes one it stops, so Metadata sources skip it. */
  readonly brokers = new Map<number, Broker>();

  constructor(
    readonly state: ReplicaState,
    private readonly cleanups: Cleanup[],
  ) {}

  async start(brokerId: number, options: ReplicatedBrokerOptions): Promise<Broker> {
    const dataDir = tempDir();
    const replication = { brokerId, state: this.state, ackTimeoutMs: options.ackTimeoutMs, ...(options.minInsyncReplicas === undefined ? {} : { minInsyncReplicas: options.minInsyncReplicas }) };
    const broker = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, ...options.broker, replication });
    this.cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    this.cleanups.push(() => broker.close());
    this.brokers.set(brokerId, broker);
    return broker;
  }

  get(brokerId: number): Broker {
    const broker = this.brokers.get(brokerId);
    if (!broker) throw new Error(`no broker ${brokerId} is running`);
    return broker;
  }

  replicaLog(brokerId: number, topic: string, partition: number): ReplicaLog {
    return this.get(brokerId).context.replicas!.replicaLog(topic, partition);
  }

  /** Tells every running broker's replica manager that the roles of a partition changed. */
  changed(topic: string, partition: number): void {
    for (const broker of this.brokers.values()) broker.context.replicas!.stateChanged(topic, partition);
  }

  /** Starts copying `topic`-`partition` from the leader's log to the follower's (stopped at cleanup). */
  follow(followerId: number, leaderId: number, topic: string, partition: number, options: FollowOptions): ReplicaFetcher {
    const fetcher = new ReplicaFetcher({
      channel: new NativeLeaderChannel('127.0.0.1', this.get(leaderId).port, followerId),
      maxWaitMs: options.maxWaitMs,
      ...(options.maxBytes === undefined ? {} : { partitionMaxBytes: options.maxBytes }),
      warn: () => undefined,
    });
    fetcher.add({ topic, partition, log: this.replicaLog(followerId, topic, partition), leaderEpoch: options.leaderEpoch });
    fetcher.start();
    this.cleanups.push(() => fetcher.stop());
    return fetcher;
  }
}
