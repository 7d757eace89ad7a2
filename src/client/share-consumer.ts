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
import type { Connection } from './connection.js';
import type { ConsumedMessage } from './consumer.js';
import { closedError, errorFromCode, isRetriable } from './errors.js';
import { sleep } from './retry.js';
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
  private topics: string[] = [];
  private queue: ShareRecord[] = [];
  private connection: Connection | null = null;
  private closed = false;
  private running: Promise<void> | null = null;
  /** ShareFetch failures in a row (the backoff grows with them). */
  private failures = 0;
  private readonly abort = new AbortController();
  /** Acknowledgements riding in the ShareFetch in flight (close() sends them again). */
  private acksInFlight: DetachedAcks | undefined;

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
    this.acker = new ShareAcker(client, this.groupId, this.memberId);
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
      yield this.queue.shift()!;
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
    if (this.connection !== null) await this.client.releaseConnection(this.connection);
    await this.running?.catch(() => {});
    this.client.forget(this);
    // The fetch cut short above may have carried acknowledgements the broker never read:
    // they go again with the leave, after the others (one the broker did apply is refused
    // there, which ends only what follows it in its partition: nothing).
    if (this.acksInFlight !== undefined) this.acker.requeue(this.acksInFlight.partitions);
    this.acksInFlight = undefined;
    if (!this.client.isClosed) await this.acker.flush(true).catch(() => {});
  }

  private async fill(): Promise<void> {
    if (this.topics.length === 0) throw new SpoolError(Errors.INVALID_REQUEST, 'subscribe() before reading');
    const partitions: ShareFetchRequest['partitions'] = [];
    for (const topic of this.topics) {
      const count = await this.client.metadata.partitionCount(topic);
      for (let partition = 0; partition < count; partition++) partitions.push({ topic, partition });
    }
    // Acknowledgements ride in the fetch: the broker applies them before it acquires more
    // for this member, so the in-flight window has room for the other members too (without
    // that, one member re-acquired before its acks landed and others starved), and the
    // acquisition costs one round trip, not two.
    const acks = this.acker.detach();
    this.acksInFlight = acks;
    // Start at a different partition each time so one busy partition does not take every fetch.
    rotate(partitions, Math.floor(Math.random() * partitions.length));
    this.connection ??= this.client.createConnection();
    const request: ShareFetchRequest = {
      groupId: this.groupId,
      memberId: this.memberId,
      maxWaitMs: this.maxWaitMs,
      maxRecords: this.maxRecords,
      maxBytes: this.maxBytes,
      partitions,
    };
    if (this.groupConfig !== undefined) request.groupConfig = this.groupConfig;
    if (acks !== undefined) request.acknowledgements = acks.partitions;
    let response;
    try {
      // One attempt: the retry (with a fresh connection) is ours, so close() ends it at once.
      response = await this.client.request(ApiKey.ShareFetch, request, undefined, {
        connection: this.connection,
        timeoutMs: this.client.requestTimeoutMs + this.maxWaitMs,
        retry: false,
      });
      this.failures = 0;
      this.groupConfig = undefined;
    } catch (error) {
      acks?.settle(error as Error);
      if (this.closed) return;
      if (!isRetriable(error)) throw error;
      // The broker may not have read the acknowledgements riding in it: the next fetch
      // carries them again, after the newer ones (one it did apply is refused there,
      // harmlessly: it is the last of its partition).
      if (acks !== undefined) this.acker.requeue(acks.partitions);
      this.acksInFlight = undefined;
      const broken = this.connection;
      this.connection = null;
      void this.client.releaseConnection(broken);
      await sleep(this.client.retryPolicy.delayMs(Math.min(this.failures++, 10)), this.abort.signal).catch(() => {});
      return;
    }
    // Answered: its acknowledgements settle now, even when close() began meanwhile (close()
    // sends again only those of a fetch that got no answer).
    this.acksInFlight = undefined;
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
      if (entry.errorCode !== 0) continue; // a partition that failed is tried again next time
      if (entry.acquired.length > 0) this.take(entry.topic, entry.partition, bytes, entry.acquired);
    }
  }

  /**
   * Queues the acquired records of one partition. Records and acquired ranges both ascend,
   * so one cursor walks the ranges: a record outside them is skipped, an acquired offset
   * with no record (a compaction hole) is accepted.
   */
  private take(topic: string, partition: number, bytes: Buffer, acquired: ShareFetchResponse['partitions'][number]['acquired']): void {
    let rangeIndex = 0;
    let expected = acquired[0]!.firstOffset;
    const acceptHolesBelow = (offset: number): void => {
      while (rangeIndex < acquired.length) {
        const range = acquired[rangeIndex]!;
        if (expected < range.firstOffset) expected = range.firstOffset;
        const stop = Math.min(offset, range.lastOffset + 1);
        for (; expected < stop; expected++) this.acker.acknowledgeQuietly(topic, partition, expected, AckType.ACCEPT);
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
      return new ShareRecord(this, topic, partition, offset, timestamp, key, value, headerMap, headers, range.deliveryCount);
    };
    forEachBatch(bytes, (_header, position) => {
      for (const message of decodeBatchWith(bytes, position, factory).records) if (message !== null) this.queue.push(message);
    });
    acceptHolesBelow(Number.POSITIVE_INFINITY);
  }

  /** Queues one record's acknowledgement with nobody waiting on it (run()'s automatic accept/release). */
  acknowledgeQuietly(record: ShareRecord, type: AckType, error: string | undefined): void {
    if (this.client.isClosed) return;
    if (error === undefined) this.acker.acknowledgeQuietly(record.topic, record.partition, record.offset, type);
    else this.acker.acknowledge(record.topic, record.partition, { firstOffset: record.offset, lastOffset: record.offset, type, error }).catch(() => {});
  }

  /** Sends one record's acknowledgement (ShareRecord's methods come here). */
  acknowledgeRecord(record: ShareRecord, type: AckType, extra: { delayMs?: number; error?: string } = {}): Promise<void> {
    // After close() began, acknowledgements still go out (with the final leave): a
    // handler that finishes while the consumer closes gets its record accepted.
    if (this.client.isClosed) return Promise.reject(closedError('client'));
    const range: { firstOffset: number; lastOffset: number; type: AckType; delayMs?: number; error?: string } = { firstOffset: record.offset, lastOffset: record.offset, type };
    if (extra.delayMs !== undefined) range.delayMs = extra.delayMs;
    if (extra.error !== undefined) range.error = extra.error;
    return this.acker.acknowledge(record.topic, record.partition, range);
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

function rotate<T>(items: T[], by: number): void {
  if (items.length > 1 && by > 0) items.push(...items.splice(0, by));
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > 4096 ? text.slice(0, 4096) : text;
}
