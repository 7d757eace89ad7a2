// What the client knows of the cluster, from Metadata answers: partition counts per topic,
// each partition's leader (node id), and every broker's address. Concurrent look-ups of
// one topic share one request; an unknown topic is not cached (it may be created later) and
// surfaces as SpoolError UNKNOWN_TOPIC. invalidate() drops an entry after the broker says a
// topic or partition is unknown.
//
// Leaders: a producer or consumer that hears NOT_LEADER_OR_FOLLOWER (or LEASE_LOST,
// UNKNOWN_LEADER_EPOCH, or loses its connection to a leader) marks the topic stale;
// refreshLeaders() then asks again, one request for every stale topic at a time, and the
// callers route by the new answer. A broker before clusters sends no partitionInfo: its
// topics have no leaders here and everything goes to the broker the client reached
// (leaderOf() answers ANY_BROKER), as does everything while the cluster has one broker.

import { ApiKey, type MetadataResponse, type TopicMetadata } from '../protocol/index.js';
import { errorFromCode } from './errors.js';
import { sleep } from './retry.js';
import type { Client } from './client.js';
import { Errors, SpoolError } from '../util/errors.js';

/** leaderOf(): no routing needed, any connection (the client's shared one) will do. */
export const ANY_BROKER = -2;
/** leaderOf(): the partition has no leader now (an election is under way): refresh later. */
export const NO_LEADER = -1;

export interface BrokerAddress {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export class MetadataCache {
  private readonly partitions = new Map<string, number>();
  /** Leader node id per partition of a topic, from partitionInfo (absent: the broker sent none). */
  private readonly leaders = new Map<string, Int32Array>();
  private readonly inFlight = new Map<string, Promise<number>>();
  /** Topics whose leaders a broker said are out of date, waiting for refreshLeaders(). */
  private readonly stale = new Set<string>();
  private refreshing: Promise<void> | null = null;
  /** When the last leader refresh ended (ms, monotonic): the next waits out the retry policy's first delay. */
  private refreshedAtMs = -Infinity;
  /** A Metadata answer carried partition leaders (a cluster, even with one broker left alive). */
  private clustered = false;
  /** The brokers of the last answer, by node id. */
  readonly brokers = new Map<number, BrokerAddress>();

  constructor(private readonly client: Client) {}

  /** The cached partition count, or undefined (synchronous: the producer's fast path). */
  cachedPartitions(topic: string): number | undefined {
    return this.partitions.get(topic);
  }

  /**
   * A cluster (the last Metadata answer named more than one broker, or told partition
   * leaders): requests must go to partition leaders. False on a single broker, whose
   * answers carry no leaders: everything then takes the client's shared connection.
   */
  get routed(): boolean {
    return this.clustered || this.brokers.size > 1;
  }

  /**
   * The node a partition's requests go to: ANY_BROKER (one broker, or a broker that does not
   * tell leaders), NO_LEADER, or the leader's node id. Synchronous: the producer asks per
   * queue per drain.
   */
  leaderOf(topic: string, partition: number): number {
    if (!this.routed) return ANY_BROKER;
    const leaders = this.leaders.get(topic);
    if (leaders === undefined) return ANY_BROKER;
    const leader = leaders[partition];
    return leader === undefined ? NO_LEADER : leader;
  }

  /** A Metadata answer has been had (false: whether this is a cluster is not known yet). */
  get known(): boolean {
    return this.brokers.size > 0;
  }

  /** Some topic waits for refreshLeaders() (a cheap check before asking per partition). */
  get anyStale(): boolean {
    return this.stale.size > 0;
  }

  isStale(topic: string): boolean {
    return this.stale.has(topic);
  }

  /** A broker said this topic's leadership moved (or its leader is unreachable): ask again before routing. */
  markStale(topic: string): void {
    this.stale.add(topic);
  }

  get refreshInFlight(): boolean {
    return this.refreshing !== null;
  }

  /**
   * Fetches metadata for every stale topic (one request at a time; callers share it). The
   * topics stop being stale whether it works or not: a failed refresh leaves the old leaders,
   * the next request to them fails again and marks them stale again, so a producer's
   * retries (not this refresh) bound how long it keeps trying.
   */
  refreshLeaders(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    const topics = [...this.stale];
    if (topics.length === 0) return Promise.resolve();
    // Spaced by the first retry delay: a partition without a leader (an election under way)
    // is asked about again a few times a second, not in a loop.
    const waitMs = Math.max(0, this.refreshedAtMs + this.client.retryPolicy.options.initialRetryTimeMs - performance.now());
    this.refreshing = (waitMs > 0 ? sleep(waitMs, this.client.signal) : Promise.resolve())
      .then(() => this.fetchAll(topics))
      .then(
        () => undefined,
        () => undefined, // reported by the request that fails next (see above)
      )
      .finally(() => {
        for (const topic of topics) this.stale.delete(topic);
        this.refreshing = null;
        this.refreshedAtMs = performance.now();
      });
    return this.refreshing;
  }

  async partitionCount(topic: string): Promise<number> {
    const known = this.partitions.get(topic);
    if (known !== undefined) return known;
    let lookup = this.inFlight.get(topic);
    if (!lookup) {
      lookup = this.fetch([topic])
        .then((topics) => {
          const entry = topics.get(topic);
          if (entry === undefined) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`);
          return entry;
        })
        .finally(() => this.inFlight.delete(topic));
      this.inFlight.set(topic, lookup);
    }
    return lookup;
  }

  /** Fetches metadata for `topics` and caches the partition counts and leaders. Throws the error of a failed topic. */
  async fetch(topics: string[]): Promise<Map<string, number>> {
    const header = await this.request(topics);
    const result = new Map<string, number>();
    for (const topic of header.topics ?? []) {
      const failure = errorFromCode(topic.errorCode, topic.errorMessage);
      if (failure) {
        if (failure.kind === Errors.UNKNOWN_TOPIC) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic.name} does not exist`);
        throw failure;
      }
      result.set(topic.name, topic.partitions);
    }
    return result;
  }

  /** Like fetch() but caches what it can and throws nothing about single topics. */
  private async fetchAll(topics: string[]): Promise<void> {
    await this.request(topics);
  }

  private async request(topics: string[]): Promise<MetadataResponse> {
    const response = await this.client.request(ApiKey.Metadata, { topics });
    const header = response.header as unknown as MetadataResponse;
    this.learnBrokers(header.brokers ?? []);
    for (const topic of header.topics ?? []) if (topic.errorCode === 0) this.learnTopic(topic);
    return header;
  }

  private learnBrokers(brokers: MetadataResponse['brokers']): void {
    this.brokers.clear();
    for (const broker of brokers) this.brokers.set(broker.nodeId, { nodeId: broker.nodeId, host: broker.host, port: broker.port });
    this.client.brokersChanged();
  }

  private learnTopic(topic: TopicMetadata): void {
    this.partitions.set(topic.name, topic.partitions);
    const info = topic.partitionInfo;
    if (!Array.isArray(info)) {
      this.leaders.delete(topic.name);
      return;
    }
    this.clustered = true;
    const leaders = new Int32Array(topic.partitions).fill(NO_LEADER);
    for (const entry of info) {
      if (Number.isInteger(entry.partition) && entry.partition >= 0 && entry.partition < topic.partitions) leaders[entry.partition] = entry.leader;
    }
    this.leaders.set(topic.name, leaders);
  }

  invalidate(topic: string): void {
    this.partitions.delete(topic);
    this.leaders.delete(topic);
  }

  clear(): void {
    this.partitions.clear();
    this.leaders.clear();
    this.stale.clear();
    this.brokers.clear();
    this.clustered = false;
  }
}

/** Errors after which a partition's leader may be elsewhere (Kafka's client refreshes metadata on these). */
export function leaderMoved(error: unknown): boolean {
  if (!(error instanceof SpoolError)) return false;
  switch (error.kind) {
    case Errors.NOT_LEADER_OR_FOLLOWER:
    case Errors.LEASE_LOST:
    case Errors.UNKNOWN_LEADER_EPOCH:
    case Errors.FENCED_LEADER_EPOCH:
    case Errors.NETWORK_ERROR:
    case Errors.BROKER_NOT_AVAILABLE:
    case Errors.REQUEST_TIMED_OUT:
    case Errors.UNKNOWN_PARTITION:
      return true;
    default:
      return false;
  }
}

/** The connection failed (rather than a broker's answer): a single broker may just be restarting. */
export function isNetworkError(error: unknown): boolean {
  return error instanceof SpoolError && (error.kind === Errors.NETWORK_ERROR || error.kind === Errors.BROKER_NOT_AVAILABLE || error.kind === Errors.REQUEST_TIMED_OUT);
}
