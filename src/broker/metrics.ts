// The broker's Prometheus metrics (prom-client), one registry per broker so brokers in one
// process (tests) do not share counters. http/ serves `registry.metrics()` at /metrics.
//
// Two kinds of metric:
// - Counted on the request path, once per request or per partition of a request, never
//   per message: requests per listener and api (count, errors by code, latency), bytes
//   and messages in per topic (a produce's bytes and its log-end-offset delta), bytes out
//   per topic (a fetch's bytes), connections accepted and refused, fsyncs (storage's
//   file-system seam, timedStorageFs). Children of labelled metrics are cached in maps so
//   the path does a map lookup and an add, not a label hash.
// - Collected at scrape time from the storage and the coordinator (partition offsets and
//   sizes, group lag and members, open connections, parked fetches): nothing on the hot
//   path. One snapshot per scrape feeds every such gauge (prom-client collects the
//   metrics of a scrape concurrently, so they share one memoized promise).
//
// Label cardinality is bounded (see README.md "Metrics"): at most maxTopicLabels topics get
// their own `topic` label on the per-topic counters (later ones count under "_other"), at
// most maxPartitionSeries partitions (topics in name order) get offset/size gauges, and at
// most maxGroupSeries group partitions get lag gauges. The totals (spool_topics,
// spool_partitions, spool_metric_series_dropped) say when the caps cut something off.

import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { GroupCoordinator } from '../groups/coordinator.js';
import { describeShareGroup, listShareGroupIds } from './core/share-describe.js';
import type { StorageFs } from '../storage/fs.js';
import type { LogManager } from '../storage/types.js';

/** What the scrape-time gauges read; attached once the broker has opened. */
export interface MetricsSource {
  readonly logs: LogManager;
  readonly coordinator: GroupCoordinator;
  parkedFetches(): number;
  /** Open connections per listener name. */
  connectionsByListener(): Map<string, number>;
  /** Request bytes held across the broker (request-memory.ts). */
  queuedRequestBytes(): number;
}

export interface BrokerMetricsOptions {
  /** prom-client's default process metrics (RSS, heap, event-loop lag, GC). Default false (tests run many brokers per process). */
  processMetrics?: boolean;
  /** Topics with their own label on the per-topic counters. Default 1000. */
  maxTopicLabels?: number;
  /** Partitions with offset and size gauges. Default 1000. */
  maxPartitionSeries?: number;
  /** Group partitions with lag and committed-offset gauges. Default 1000. */
  maxGroupSeries?: number;
}

export const MetricDefaults = { maxTopicLabels: 1000, maxPartitionSeries: 1000, maxGroupSeries: 1000 } as const;

/** The `topic` label of topics past maxTopicLabels. */
export const OTHER_TOPICS_LABEL = '_other';

const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const FSYNC_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface TopicCounters {
  bytesIn: Counter.Internal;
  messagesIn: Counter.Internal;
  bytesOut: Counter.Internal;
}

interface ApiCounters {
  requests: Counter.Internal;
  duration: Histogram.Internal<'listener' | 'api'>;
}

/** The request metrics of one listener: what a Connection calls per request. */
export class ListenerRequestMetrics {
  private readonly apis = new Map<string, ApiCounters>();

  constructor(
    private readonly metrics: BrokerMetrics,
    readonly listener: string,
  ) {}

  /** A request answered (or dropped: null code and no error); `startedMs` from performance.now(). */
  completed(api: string, startedMs: number, errorCode: string | null): void {
    let counters = this.apis.get(api);
    if (counters === undefined) {
      counters = {
        requests: this.metrics.requestsTotal.labels(this.listener, api),
        duration: this.metrics.requestDuration.labels(this.listener, api),
      };
      this.apis.set(api, counters);
    }
    counters.requests.inc();
    counters.duration.observe((performance.now() - startedMs) / 1000);
    if (errorCode !== null) this.metrics.requestErrors.labels(this.listener, api, errorCode).inc();
  }
}

/** Why a connection was refused (a label of spool_connections_refused_total). */
export type RefusalReason = 'max_connections' | 'shutting_down' | 'tls_handshake' | 'tls_client_certificate';

export class BrokerMetrics {
  readonly registry = new Registry();
  private source: MetricsSource | null = null;
  private readonly caps: Required<Omit<BrokerMetricsOptions, 'processMetrics'>>;
  private readonly topics = new Map<string, TopicCounters>();
  private readonly listeners = new Map<string, ListenerRequestMetrics>();
  private snapshotPromise: Promise<void> | null = null;

  readonly requestsTotal: Counter<'listener' | 'api'>;
  readonly requestErrors: Counter<'listener' | 'api' | 'code'>;
  readonly requestDuration: Histogram<'listener' | 'api'>;
  private readonly bytesIn: Counter<'topic'>;
  private readonly messagesIn: Counter<'topic'>;
  private readonly bytesOut: Counter<'topic'>;
  private readonly connectionsAccepted: Counter<'listener'>;
  private readonly connectionsRefused: Counter<'listener' | 'reason'>;
  private readonly saslAuthentications: Counter<'mechanism' | 'result'>;
  private readonly fsyncDuration: Histogram;
  private readonly recoverySeconds: Gauge;

  constructor(options: BrokerMetricsOptions = {}) {
    this.caps = {
      maxTopicLabels: options.maxTopicLabels ?? MetricDefaults.maxTopicLabels,
      maxPartitionSeries: options.maxPartitionSeries ?? MetricDefaults.maxPartitionSeries,
      maxGroupSeries: options.maxGroupSeries ?? MetricDefaults.maxGroupSeries,
    };
    const registers = [this.registry];
    this.requestsTotal = new Counter({ name: 'spool_requests_total', help: 'Requests answered, per listener and api', labelNames: ['listener', 'api'], registers });
    this.requestErrors = new Counter({
      name: 'spool_request_errors_total',
      help: 'Requests answered with a top-level error, per listener, api and error name',
      labelNames: ['listener', 'api', 'code'],
      registers,
    });
    this.requestDuration = new Histogram({
      name: 'spool_request_duration_seconds',
      help: 'Time from dispatch to answer (a parked long-poll fetch counts its wait)',
      labelNames: ['listener', 'api'],
      buckets: LATENCY_BUCKETS_SECONDS,
      registers,
    });
    this.bytesIn = new Counter({ name: 'spool_topic_bytes_in_total', help: 'Record batch bytes appended, per topic', labelNames: ['topic'], registers });
    this.messagesIn = new Counter({ name: 'spool_topic_messages_in_total', help: 'Records appended (offsets assigned), per topic', labelNames: ['topic'], registers });
    this.bytesOut = new Counter({ name: 'spool_topic_bytes_out_total', help: 'Record batch bytes served by fetches, per topic', labelNames: ['topic'], registers });
    this.connectionsAccepted = new Counter({ name: 'spool_connections_accepted_total', help: 'Connections accepted, per listener', labelNames: ['listener'], registers });
    this.connectionsRefused = new Counter({
      name: 'spool_connections_refused_total',
      help: 'Connections refused, per listener and reason (max_connections, shutting_down, tls_handshake, tls_client_certificate)',
      labelNames: ['listener', 'reason'],
      registers,
    });
    this.saslAuthentications = new Counter({
      name: 'spool_sasl_authentications_total',
      help: 'SASL exchanges (and console API logins), per mechanism and result (success, failure, locked_out)',
      labelNames: ['mechanism', 'result'],
      registers,
    });
    this.fsyncDuration = new Histogram({ name: 'spool_fsync_duration_seconds', help: 'Duration of every fsync storage makes (_count is the number of fsyncs)', buckets: FSYNC_BUCKETS_SECONDS, registers });
    this.recoverySeconds = new Gauge({ name: 'spool_recovery_seconds', help: 'Time the broker took to open its storage and groups at start (recovery included)', registers });
    this.registerScrapeGauges(registers);
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /** Gives the scrape-time gauges their source; called once the broker has opened. */
  attach(source: MetricsSource): void {
    this.source = source;
  }

  listener(name: string): ListenerRequestMetrics {
    let metrics = this.listeners.get(name);
    if (metrics === undefined) {
      metrics = new ListenerRequestMetrics(this, name);
      this.listeners.set(name, metrics);
    }
    return metrics;
  }

  /** A produce appended `bytes` of batches holding `messages` records to `topic`. */
  produced(topic: string, bytes: number, messages: number): void {
    const counters = this.topicCounters(topic);
    counters.bytesIn.inc(bytes);
    counters.messagesIn.inc(messages);
  }

  /** A fetch served `bytes` of `topic`. */
  fetched(topic: string, bytes: number): void {
    this.topicCounters(topic).bytesOut.inc(bytes);
  }

  /** A deleted topic's series go (a topic created again with the name starts from zero). */
  forgetTopic(topic: string): void {
    if (!this.topics.delete(topic)) return;
    for (const counter of [this.bytesIn, this.messagesIn, this.bytesOut]) counter.remove(topic);
  }

  connectionAccepted(listener: string): void {
    this.connectionsAccepted.labels(listener).inc();
  }

  connectionRefused(listener: string, reason: RefusalReason): void {
    this.connectionsRefused.labels(listener, reason).inc();
  }

  /** One authentication's outcome; `mechanism` is one of a few fixed names (security/sasl.ts). */
  saslAuthentication(mechanism: string, result: 'success' | 'failure' | 'locked_out'): void {
    this.saslAuthentications.labels(mechanism, result).inc();
  }

  setRecoverySeconds(seconds: number): void {
    this.recoverySeconds.set(seconds);
  }

  observeFsync(seconds: number): void {
    this.fsyncDuration.observe(seconds);
  }

  private topicCounters(topic: string): TopicCounters {
    let counters = this.topics.get(topic);
    if (counters !== undefined) return counters;
    const label = this.topics.size < this.caps.maxTopicLabels ? topic : OTHER_TOPICS_LABEL;
    counters = { bytesIn: this.bytesIn.labels(label), messagesIn: this.messagesIn.labels(label), bytesOut: this.bytesOut.labels(label) };
    // Topics past the cap share the "_other" children and are not remembered, so the map stays bounded too.
    if (label === topic) this.topics.set(topic, counters);
    return counters;
  }

  private registerScrapeGauges(registers: Registry[]): void {
    const snapshot = (): Promise<void> => this.snapshot();
    const gauge = <L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        // Every scrape-time gauge waits for the one snapshot of this scrape.
        collect: snapshot,
      });
    this.scrape = {
      topics: gauge('spool_topics', 'Topics (internal ones included)', []),
      partitions: gauge('spool_partitions', 'Partitions of all topics', []),
      logStart: gauge('spool_partition_log_start_offset', 'First offset still in the log', ['topic', 'partition']),
      logEnd: gauge('spool_partition_log_end_offset', 'Offset the next appended record gets', ['topic', 'partition']),
      size: gauge('spool_partition_size_bytes', 'Bytes of the partition log on disk (all segments)', ['topic', 'partition']),
      lag: gauge('spool_group_lag', 'Log end offset minus committed offset (log end minus log start without a commit)', ['group', 'topic', 'partition']),
      committed: gauge('spool_group_committed_offset', 'Committed offset (-1 when none)', ['group', 'topic', 'partition']),
      members: gauge('spool_group_members', 'Members of the group', ['group']),
      groups: gauge('spool_groups', 'Groups the coordinator knows', []),
      shareMembers: gauge('spool_share_group_members', 'Members of the share group seen lately', ['group']),
      shareInFlight: gauge('spool_share_group_in_flight', 'Records of the share-partition in flight (acquired, or released and not yet accepted)', ['group', 'topic', 'partition']),
      shareAcquired: gauge('spool_share_group_acquired', 'Records of the share-partition acquired (locked by a member) now', ['group', 'topic', 'partition']),
      shareDeadLetters: gauge('spool_share_group_dlq_messages', 'Records in the share group\'s dead-letter topic', ['group']),
      dropped: gauge('spool_metric_series_dropped', 'Series left out by the cardinality caps at the last scrape, per metric family', ['family']),
      connections: gauge('spool_connections_open', 'Open connections, per listener', ['listener']),
      parked: gauge('spool_fetches_parked', 'Long-poll fetches parked now', []),
      queued: gauge('spool_queued_request_bytes', 'Request bytes held across the broker (partial and undispatched frames)', []),
    };
  }

  private scrape!: {
    topics: Gauge;
    partitions: Gauge;
    logStart: Gauge<'topic' | 'partition'>;
    logEnd: Gauge<'topic' | 'partition'>;
    size: Gauge<'topic' | 'partition'>;
    lag: Gauge<'group' | 'topic' | 'partition'>;
    committed: Gauge<'group' | 'topic' | 'partition'>;
    members: Gauge<'group'>;
    groups: Gauge;
    shareMembers: Gauge<'group'>;
    shareInFlight: Gauge<'group' | 'topic' | 'partition'>;
    shareAcquired: Gauge<'group' | 'topic' | 'partition'>;
    shareDeadLetters: Gauge<'group'>;
    dropped: Gauge<'family'>;
    connections: Gauge<'listener'>;
    parked: Gauge;
    queued: Gauge;
  };

  /** One snapshot per scrape, shared by the gauges collected concurrently. */
  private snapshot(): Promise<void> {
    if (this.snapshotPromise === null) {
      this.snapshotPromise = this.takeSnapshot().finally(() => {
        // The next scrape takes a fresh one (the gauges of this scrape have all asked by now).
        setImmediate(() => (this.snapshotPromise = null));
      });
    }
    return this.snapshotPromise;
  }

  private async takeSnapshot(): Promise<void> {
    const s = this.scrape;
    for (const gauge of [s.logStart, s.logEnd, s.size, s.lag, s.committed, s.members, s.shareMembers, s.shareInFlight, s.shareAcquired, s.shareDeadLetters, s.dropped, s.connections]) gauge.reset();
    const source = this.source;
    if (source === null) return;
    s.parked.set(source.parkedFetches());
    s.queued.set(source.queuedRequestBytes());
    for (const [listener, count] of source.connectionsByListener()) s.connections.labels(listener).set(count);
    const topics = source.logs.listTopics().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let partitions = 0;
    let partitionSeries = 0;
    for (const topic of topics) {
      partitions += topic.partitions;
      for (let partition = 0; partition < topic.partitions && partitionSeries < this.caps.maxPartitionSeries; partition++) {
        let log;
        try {
          log = source.logs.getPartition(topic.name, partition);
        } catch {
          // Safe: the topic was deleted between listTopics and here; the next scrape will not list it.
          continue;
        }
        const labels = [topic.name, String(partition)] as const;
        s.logStart.labels(...labels).set(log.logStartOffset);
        s.logEnd.labels(...labels).set(log.logEndOffset);
        s.size.labels(...labels).set(log.sizeBytes);
        partitionSeries++;
      }
    }
    s.topics.set(topics.length);
    s.partitions.set(partitions);
    s.dropped.labels('partition').set(partitions - partitionSeries);
    await this.snapshotGroups(source);
  }

  private async snapshotGroups(source: MetricsSource): Promise<void> {
    const s = this.scrape;
    // Share groups have their own series (snapshotShareGroups) and no committed offsets.
    const groups = (await source.coordinator.listGroups()).groups.filter((group) => group.kind !== 'share');
    s.groups.set(groups.length);
    // Describing a group walks its partitions: describe no more groups than lag series allowed.
    const shown = groups.slice(0, this.caps.maxGroupSeries);
    const described = await source.coordinator.describeGroups({ groupIds: shown.map((group) => group.groupId) });
    let series = 0;
    // Groups not described count one dropped series each (at least one partition).
    let dropped = groups.length - shown.length;
    for (const group of described.groups) {
      s.members.labels(group.groupId).set(group.members.length);
      for (const offset of group.offsets) {
        if (series >= this.caps.maxGroupSeries) {
          dropped++;
          continue;
        }
        const labels = [group.groupId, offset.topic, String(offset.partition)] as const;
        s.lag.labels(...labels).set(offset.lag);
        s.committed.labels(...labels).set(offset.committed);
        series++;
      }
    }
    s.dropped.labels('group').set(dropped);
    this.snapshotShareGroups(source);
  }

  /** Share groups: members and DLQ depth per group, in flight and acquired per share-partition (capped like group lag). */
  private snapshotShareGroups(source: MetricsSource): void {
    const s = this.scrape;
    let series = 0;
    let dropped = 0;
    for (const groupId of listShareGroupIds(source)) {
      const group = describeShareGroup(source, groupId);
      if (group === undefined) continue;
      s.shareMembers.labels(groupId).set(group.members.length);
      s.shareDeadLetters.labels(groupId).set(group.deadLetters);
      for (const partition of group.partitions) {
        if (series >= this.caps.maxGroupSeries) {
          dropped++;
          continue;
        }
        const labels = [groupId, partition.topic, String(partition.partition)] as const;
        s.shareInFlight.labels(...labels).set(partition.inFlight);
        s.shareAcquired.labels(...labels).set(partition.acquired);
        series++;
      }
    }
    s.dropped.labels('share_group').set(dropped);
  }
}

/** Storage's file-system calls with every fsync timed: the one place fsyncs are counted. */
export function timedStorageFs(fs: StorageFs, metrics: BrokerMetrics): StorageFs {
  const timed = <A extends unknown[], R>(call: (...args: A) => R) => (...args: A): R => {
    const startedMs = performance.now();
    try {
      return call(...args);
    } finally {
      metrics.observeFsync((performance.now() - startedMs) / 1000);
    }
  };
  return {
    ...fs,
    fdatasyncSync: timed((fd: number) => fs.fdatasyncSync(fd)),
    fsyncDirSync: timed((path: string) => fs.fsyncDirSync(path)),
    fdatasync: async (fd) => {
      const startedMs = performance.now();
      try {
        await fs.fdatasync(fd);
      } finally {
        metrics.observeFsync((performance.now() - startedMs) / 1000);
      }
    },
  };
}
