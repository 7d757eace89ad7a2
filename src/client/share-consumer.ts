// The share consumer: a member of a share group (src/groups/README.md "Share groups").
// Any number of them read the same partitions; the broker hands each record to one member
// at a time, and the member acknowledges each record on its own:
//
//   const consumer = client.shareConsumer({ groupId: 'cooks' });
//   await consumer.subscribe({ topics: ['orders'] });
//   for await (const m of consumer) { await cook(m.value); await m.ack(); }
//
// or run({ eachMessage }): a handler that resolves accepts the record, one that throws
// releases it (its error text travels to the dead-letter topic if the record ends there).
// close() releases every record acquired but not acknowledged (the broker hands them to
// other members at once instead of after the lock timeout).

import { randomUUID } from 'node:crypto';
import { ApiKey } from '../protocol/apis.js';
import type { ShareFetchRequest, ShareFetchResponse } from '../protocol/messages.js';
import { decodeBatchWith, type RecordFactory } from '../records/decode.js';
import { forEachBatch } from '../records/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import { CoordinatorLink } from './coordinator-link.js';
import type { Connection } from './connection.js';
import type { ConsumedMessage } from './consumer.js';
import { closedError, errorFromCode, isRetriable } from './errors.js';
import { sleep } from './retry.js';
import { ANY_BROKER, NO_LEADER } from './metadata.js';
import { AckType, ShareAcker, type DetachedAcks } from './share-acker.js';

export interface ShareConsumerConfig {
  groupId: string;
  /** Records one ShareFetch acquires at most. Default 500. */
  maxRecords?: number;
  /** How long the broker parks a ShareFetch that found nothing to acquire. Default 1000 ms. */
  maxWaitMs?: number;
  /** Bytes one ShareFetch reads at most (at least one batch). Default 1 MiB. */
  maxBytes?: number;
  /**
   * The group's acquisition lock (Kafka's share.record.lock.duration.ms, 1,000..3,600,000),
   * set by this member's first fetch only if the group has no config yet. Default: the broker's.
   */
  lockDurationMs?: number;
  /** The group's delivery limit (share.delivery.count.limit, 2..10), set like lockDurationMs. */
  deliveryLimit?: number;
}

export interface ShareMessage extends ConsumedMessage {
  /** How many times this record was handed out, this time included. */
  deliveryCount: number;
  /** Done: the record is never handed out again. */
  ack(): Promise<void>;
  /** Back to the rail for any member (after delayMs); the next delivery counts one more. */
  release(options?: { delayMs?: number; error?: string }): Promise<void>;
  /** To the dead-letter topic at once, with `reason` as its error text. */
  reject(reason?: string): Promise<void>;
  /** Extends the acquisition lock (still working on it). */
  renew(): Promise<void>;
}

export interface ShareEachMessagePayload {
  topic: string;
  partition: number;
  message: ShareMessage;
}

const EMPTY_HEADERS: Record<string, Buffer> = Object.freeze({}) as Record<string, Buffer>;

export class ShareConsumer implements AsyncIterable<ShareMessage> {
  readonly groupId: string;
  readonly memberId = randomUUID();
  private readonly maxRecords: number;
  private readonly maxWaitMs: number;
  private readonly maxBytes: number;
  /** Sent with the first ShareFetch only (then undefined). */
  private groupConfig: ShareFetchRequest['groupConfig'];
  private readonly acker: ShareAcker;
  /** The share group's coordinator (its state partition's leader in a cluster): fetches and acknowledgements go there. */
  private readonly coordinator: CoordinatorLink;
  private topics: string[] = [];
  private queue: ShareRecord[] = [];
  /**
   * One lane per broker fetched from: on a single broker one lane (ANY_BROKER, the
   * coordinator's connection); in a cluster one per partition leader, since each leader
   * serves the share-partitions of the partitions it leads (KIP-932's share-partition leaders).
   */
  private readonly lanes = new Map<number, Lane>();
  private closed = false;
  private running: Promise<void> | null = null;
  private readonly abort = new AbortController();

  constructor(
    private readonly client: Client,
    config: ShareConsumerConfig,
  ) {
    if (typeof config?.groupId !== 'string' || config.groupId === '') throw new SpoolError(Errors.INVALID_GROUP_ID, 'shareConsumer() needs a groupId');
    this.groupId = config.groupId;
    this.maxRecords = config.maxRecords ?? 500;
    this.maxWaitMs = config.maxWaitMs ?? 1000;
    this.maxBytes = config.maxBytes ?? 1024 * 1024;
    if (config.lockDurationMs !== undefined || config.deliveryLimit !== undefined) {
      this.groupConfig = {};
      if (config.lockDurationMs !== undefined) this.groupConfig.lockDurationMs = config.lockDurationMs;
      if (config.deliveryLimit !== undefined) this.groupConfig.deliveryLimit = config.deliveryLimit;
    }
    this.coordinator = new CoordinatorLink(client, this.groupId, true);
    this.acker = new ShareAcker(client, this.groupId, this.memberId, this.coordinator, {
      leaveNodes: () => [...this.lanes.keys()],
    });
  }

  async subscribe(options: { topics?: string[]; topic?: string }): Promise<void> {
    const topics = options.topics ?? (options.topic !== undefined ? [options.topic] : []);
    if (topics.length === 0 || topics.some((topic) => typeof topic !== 'string' || topic === '')) {
      throw new SpoolError(Errors.INVALID_TOPIC, 'subscribe() needs topics');
    }
    for (const topic of topics) await this.client.metadata.partitionCount(topic);
    this.topics = [...new Set([...this.topics, ...topics])];
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ShareMessage> {
    while (!this.closed) {
      if (this.queue.length === 0) {
        await this.fill();
        continue;
      }
      const message = this.queue.shift()!;
      if (!this.orphaned(message)) yield message;
    }
  }

  /**
   * Runs eachMessage for every record, one at a time: resolve = accept, throw = release
   * with the error's message. Returns once started; close() stops it.
   */
  async run(config: { eachMessage: (payload: ShareEachMessagePayload) => Promise<void> }): Promise<void> {
    if (this.running !== null) throw new SpoolError(Errors.INVALID_REQUEST, 'run() was already called');
    this.running = (async () => {
      // The queue is taken whole (no async iterator: one promise less per record), and the
      // automatic accept/release makes no promise (acknowledgeQuietly): an acknowledgement
      // refused (the lock expired meanwhile, or the consumer closed) is the broker's
      // business now: the record is delivered again.
      while (!this.closed) {
        if (this.queue.length === 0) {
          await this.fill();
          continue;
        }
        const batch = this.queue;
        this.queue = [];
        for (let index = 0; index < batch.length && !this.closed; index++) {
          const message = batch[index]!;
          if (this.orphaned(message)) continue;
          let failure: unknown;
          try {
            await config.eachMessage({ topic: message.topic, partition: message.partition, message });
          } catch (error) {
            failure = error;
          }
          message.settleQuietly(failure);
        }
      }
    })();
    this.running.catch((error: unknown) => {
      if (!this.closed) this.client.logger.error({ error, groupId: this.groupId }, `share consumer of group ${this.groupId} stopped`);
    });
  }

  /** Stops, then releases every record acquired but not acknowledged. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.abort.abort();
    this.queue = [];
    for (const lane of this.lanes.values()) if (lane.connection !== null) await this.client.releaseConnection(lane.connection);
    await this.running?.catch(() => {});
    this.client.forget(this);
    // A fetch cut short above may have carried acknowledgements the broker never read:
    // they go again with the leave, after the others (one the broker did apply is refused
    // there, which ends only what follows it in its partition: nothing).
    for (const lane of this.lanes.values()) {
      if (lane.acksInFlight !== undefined) this.acker.requeue(lane.acksInFlight.nodeId, lane.acksInFlight.partitions);
      lane.acksInFlight = undefined;
    }
    if (!this.client.isClosed) await this.acker.flush(true).catch(() => {});
    await this.coordinator.close();
  }

  /**
   * A record acquired from a broker that has left the cluster (kill -9, lease lost): its
   * acquisition went with that broker, and the partition's new leader hands the record out
   * again (perhaps to another member, which may have accepted it already). It is dropped
   * here instead of being given to the handler: its acknowledgement could not be applied.
   */
  private orphaned(record: ShareRecord): boolean {
    return record.nodeId !== ANY_BROKER && this.client.metadata.routed && !this.client.metadata.brokers.has(record.nodeId);
  }

  /** The node whose lane fetches a partition: ANY_BROKER on a single broker, else its leader (NO_LEADER while there is none). */
  private nodeOf(topic: string, partition: number): number {
    return this.client.metadata.routed ? this.client.metadata.leaderOf(topic, partition) : ANY_BROKER;
  }

  /**
   * Starts a ShareFetch on every lane that has none in flight (each for the partitions its
   * broker leads, with their pending acknowledgements) and waits for one to answer.
   */
  private async fill(): Promise<void> {
    if (this.topics.length === 0) throw new SpoolError(Errors.INVALID_REQUEST, 'subscribe() before reading');
    const metadata = this.client.metadata;
    if (metadata.anyStale) await metadata.refreshLeaders().catch(() => {});
    const byNode = new Map<number, ShareFetchRequest['partitions']>();
    for (const topic of this.topics) {
      const count = await metadata.partitionCount(topic);
      for (let partition = 0; partition < count; partition++) {
        const nodeId = this.nodeOf(topic, partition);
        if (nodeId === NO_LEADER) {
          metadata.markStale(topic);
          continue;
        }
        let partitions = byNode.get(nodeId);
        if (partitions === undefined) byNode.set(nodeId, (partitions = []));
        partitions.push({ topic, partition });
      }
    }
    for (const [nodeId, partitions] of byNode) {
      let lane = this.lanes.get(nodeId);
      if (lane === undefined) this.lanes.set(nodeId, (lane = { nodeId, connection: null, inFlight: null, failures: 0, acksInFlight: undefined }));
      if (lane.inFlight !== null) continue;
      const started: Lane = lane;
      started.inFlight = this.fetchLane(started, partitions).finally(() => {
        started.inFlight = null;
      });
    }
    const inFlight = [...this.lanes.values()].flatMap((lane) => (lane.inFlight === null ? [] : [lane.inFlight]));
    // No partition has a leader (an election under way): wait a little before asking again.
    if (inFlight.length === 0) await sleep(this.client.retryPolicy.delayMs(0), this.abort.signal).catch(() => {});
    else await Promise.race(inFlight);
  }

  private async fetchLane(lane: Lane, partitions: ShareFetchRequest['partitions']): Promise<void> {
    // Acknowledgements ride in the fetch: the broker applies them before it acquires more
    // for this member, so the in-flight window has room for the other members too (without
    // that, one member re-acquired before its acks landed and others starved), and the
    // acquisition costs one round trip, not two. In a cluster only those of the partitions
    // this lane's broker leads.
    const acks = this.acker.detach(lane.nodeId);
    lane.acksInFlight = acks;
    // Start at a different partition each time so one busy partition does not take every fetch.
    rotate(partitions, Math.floor(Math.random() * partitions.length));
    if (lane.nodeId !== ANY_BROKER && !this.client.metadata.brokers.has(lane.nodeId)) {
      // The broker left the cluster since this fill read the leaders: ask again (createConnectionTo
      // would fall back to the default broker, and its records would be tagged with this node).
      // Its acknowledgements cannot be applied anywhere else (the records come back from the new leader).
      acks?.settle(new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${lane.nodeId}, where these records were acquired, is no longer in the cluster`));
      lane.acksInFlight = undefined;
      for (const topic of new Set(partitions.map((entry) => entry.topic))) this.client.metadata.markStale(topic);
      await sleep(this.client.retryPolicy.delayMs(0), this.abort.signal).catch(() => {});
      return;
    }
    lane.connection ??= lane.nodeId === ANY_BROKER ? this.coordinator.newConnection() : this.client.createConnectionTo(lane.nodeId);
    const request: ShareFetchRequest = {
      groupId: this.groupId,
      memberId: this.memberId,
      maxWaitMs: this.maxWaitMs,
      maxRecords: this.maxRecords,
      maxBytes: this.maxBytes,
      partitions,
    };
    const groupConfig = this.groupConfig;
    if (groupConfig !== undefined) request.groupConfig = groupConfig;
    if (acks !== undefined) request.acknowledgements = acks.partitions;
    let response;
    try {
      // One attempt: the retry (with a fresh connection) is ours, so close() ends it at once.
      response = await this.client.request(ApiKey.ShareFetch, request, undefined, {
        connection: lane.connection,
        timeoutMs: this.client.requestTimeoutMs + this.maxWaitMs,
        retry: false,
      });
      lane.failures = 0;
      if (groupConfig !== undefined) this.groupConfig = undefined;
    } catch (error) {
      acks?.settle(error as Error);
      if (this.closed) return;
      if (!isRetriable(error)) throw error;
      // The broker may not have read the acknowledgements riding in it: the next fetch
      // carries them again, after the newer ones (one it did apply is refused there,
      // harmlessly: it is the last of its partition).
      if (acks !== undefined) this.acker.requeue(acks.nodeId, acks.partitions);
      lane.acksInFlight = undefined;
      const broken = lane.connection;
      lane.connection = null;
      if (broken !== null) void this.client.releaseConnection(broken);
      if (lane.nodeId === ANY_BROKER) {
        // The coordinator moved or is down: find it before the next fetch.
        await this.coordinator.failed(error);
      } else {
        // The leader is down or moved: learn the new leaders before the next fetch.
        for (const topic of new Set(partitions.map((entry) => entry.topic))) this.client.metadata.markStale(topic);
      }
      await sleep(this.client.retryPolicy.delayMs(Math.min(lane.failures++, 10)), this.abort.signal).catch(() => {});
      return;
    }
    // Answered: its acknowledgements settle now, even when close() began meanwhile (close()
    // sends again only those of a fetch that got no answer).
    lane.acksInFlight = undefined;
    const header = response.header as unknown as ShareFetchResponse;
    if (acks !== undefined) {
      const ackFailure = errorFromCode(header.errorCode, header.errorMessage, `acknowledge for share group ${this.groupId}`);
      acks.settle(ackFailure ?? header.acknowledgements ?? []);
    }
    if (this.closed) return;
    const failure = errorFromCode(header.errorCode, header.errorMessage, `share fetch for group ${this.groupId}`);
    if (failure !== undefined) throw failure;
    let position = 0;
    for (const entry of header.partitions ?? []) {
      const bytes = response.payload.subarray(position, position + entry.size);
      position += entry.size;
      if (entry.errorCode !== 0) {
        // Another broker leads it now (cluster): the next fill routes it there.
        if (entry.errorCode === Errors.NOT_LEADER_OR_FOLLOWER.code) this.client.metadata.markStale(entry.topic);
        continue; // a partition that failed is tried again next time
      }
      if (entry.acquired.length > 0) this.take(lane.nodeId, entry.topic, entry.partition, bytes, entry.acquired);
    }
  }

  /**
   * Queues the acquired records of one partition. Records and acquired ranges both ascend,
   * so one cursor walks the ranges: a record outside them is skipped, an acquired offset
   * with no record (a compaction hole) is accepted.
   */
  private take(nodeId: number, topic: string, partition: number, bytes: Buffer, acquired: ShareFetchResponse['partitions'][number]['acquired']): void {
    let rangeIndex = 0;
    let expected = acquired[0]!.firstOffset;
    const acceptHolesBelow = (offset: number): void => {
      while (rangeIndex < acquired.length) {
        const range = acquired[rangeIndex]!;
        if (expected < range.firstOffset) expected = range.firstOffset;
        const stop = Math.min(offset, range.lastOffset + 1);
        for (; expected < stop; expected++) this.acker.acknowledgeQuietly(nodeId, topic, partition, expected, AckType.ACCEPT);
        if (expected <= range.lastOffset) return;
        rangeIndex++;
      }
    };
    const factory: RecordFactory<ShareRecord | null> = (offset, timestamp, key, value, headers) => {
      acceptHolesBelow(offset);
      const range = acquired[rangeIndex];
      if (range === undefined || offset !== expected || offset < range.firstOffset) return null;
      expected = offset + 1;
      let headerMap = EMPTY_HEADERS;
      if (headers.length > 0) {
        headerMap = {};
        for (const [name, header] of headers) headerMap[name] = header;
      }
      return new ShareRecord(this, nodeId, topic, partition, offset, timestamp, key, value, headerMap, headers, range.deliveryCount);
    };
    forEachBatch(bytes, (_header, position) => {
      for (const message of decodeBatchWith(bytes, position, factory).records) if (message !== null) this.queue.push(message);
    });
    acceptHolesBelow(Number.POSITIVE_INFINITY);
  }

  /** Queues one record's acknowledgement with nobody waiting on it (run()'s automatic accept/release). */
  acknowledgeQuietly(record: ShareRecord, type: AckType, error: string | undefined): void {
    if (this.client.isClosed) return;
    if (error === undefined) this.acker.acknowledgeQuietly(record.nodeId, record.topic, record.partition, record.offset, type);
    else this.acker.acknowledge(record.nodeId, record.topic, record.partition, { firstOffset: record.offset, lastOffset: record.offset, type, error }).catch(() => {});
  }

  /** Sends one record's acknowledgement (ShareRecord's methods come here). */
  acknowledgeRecord(record: ShareRecord, type: AckType, extra: { delayMs?: number; error?: string } = {}): Promise<void> {
    // After close() began, acknowledgements still go out (with the final leave): a
    // handler that finishes while the consumer closes gets its record accepted.
    if (this.client.isClosed) return Promise.reject(closedError('client'));
    const range: { firstOffset: number; lastOffset: number; type: AckType; delayMs?: number; error?: string } = { firstOffset: record.offset, lastOffset: record.offset, type };
    if (extra.delayMs !== undefined) range.delayMs = extra.delayMs;
    if (extra.error !== undefined) range.error = extra.error;
    return this.acker.acknowledge(record.nodeId, record.topic, record.partition, range);
  }
}

/**
 * One acquired record. A class rather than an object with closures: one allocation per
 * record on the consumer's hot path (closures per record cost ~15% of a consumer's CPU).
 */
class ShareRecord implements ShareMessage {
  private settled = false;

  constructor(
    private readonly consumer: ShareConsumer,
    /** The broker it was acquired from: its acknowledgement goes there (share-acker.ts). */
    readonly nodeId: number,
    readonly topic: string,
    readonly partition: number,
    readonly offset: number,
    readonly timestamp: number,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: Record<string, Buffer>,
    readonly headerList: ReadonlyArray<[string, Buffer]>,
    readonly deliveryCount: number,
  ) {}

  ack(): Promise<void> {
    return this.settle(AckType.ACCEPT);
  }

  release(options: { delayMs?: number; error?: string } = {}): Promise<void> {
    return this.settle(AckType.RELEASE, options);
  }

  reject(reason?: string): Promise<void> {
    return this.settle(AckType.REJECT, reason === undefined ? {} : { error: reason });
  }

  renew(): Promise<void> {
    return this.consumer.acknowledgeRecord(this, AckType.RENEW);
  }

  /** run()'s automatic answer: accept, or release with the handler's error; nothing if the handler settled it. */
  settleQuietly(failure: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.consumer.acknowledgeQuietly(this, failure === undefined ? AckType.ACCEPT : AckType.RELEASE, failure === undefined ? undefined : errorText(failure));
  }

  private settle(type: AckType, extra: { delayMs?: number; error?: string } = {}): Promise<void> {
    if (this.settled) {
      return Promise.reject(new SpoolError(Errors.INVALID_RECORD_STATE, `offset ${this.offset} of ${this.topic}/${this.partition} was already acknowledged`));
    }
    this.settled = true;
    return this.consumer.acknowledgeRecord(this, type, extra);
  }
}

/** The fetches to one broker: its connection, the ShareFetch in flight, failures in a row (the backoff grows with them), the acknowledgements riding in it. */
interface Lane {
  nodeId: number;
  connection: Connection | null;
  inFlight: Promise<void> | null;
  failures: number;
  acksInFlight: DetachedAcks | undefined;
}

function rotate<T>(items: T[], by: number): void {
  if (items.length > 1 && by > 0) items.push(...items.splice(0, by));
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 4096 ? text.slice(0, 4096) : text;
}
