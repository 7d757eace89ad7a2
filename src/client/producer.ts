// The producer: send() partitions messages (explicit partition, murmur2 of the key, or
// sticky for null keys) and appends them to per-partition batches (accumulator.ts); a
// sender packs ready batches of many partitions into Produce requests, up to
// maxInFlight requests at once on the client's connection, and (not idempotent) at most one request per
// partition at a time, so a retried batch is always written before any later batch
// of its partition (per-partition order holds across retries). Retriable errors
// (network, timeouts, SHUTTING_DOWN, ...) retry a batch with backoff up to `retries`
// times. Idempotent (the default with acks 'all'): the producer asks InitProducerId once
// for a producer id, sends one batch per partition per request with up to 5 requests per
// partition in flight (one connection; the broker appends a connection's requests in
// order and checks the sequences), and stamps each batch,
// when it is first sent, with the id and the partition's next sequence number; a retry
// resends the same bytes, so a batch that reached the log before its answer was lost is
// recognised by the broker and answered with its original offsets (exactly once per
// producer session). Without idempotence a batch that failed over the network may already
// be written, so delivery is at least once. send() resolves one promise per call, with one {topic, partition,
// offset} per message (offset -1 with acks 0, where the broker does not answer).

import { ApiKey, RequestLimits, type InitProducerIdResponse, type ProducePartitionResult, type ProduceResponse } from '../protocol/index.js';
import { BatchBuilder, setProducerFields, type CompressionName, type RecordInput } from '../records/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import { Stage, clientMarks, stageTraceOn, stampRange, traceNowUs } from '../util/stage-trace.js';
import type { Client } from './client.js';
import { Accumulator, SendTracker, type PartitionQueue, type ProducerBatch } from './accumulator.js';
import { closedError, errorFromCode, isRetriable } from './errors.js';
import { StickyPartitioner, partitionForKey } from './partitioner.js';
import { sleep } from './retry.js';
import { ANY_BROKER, NO_LEADER, isNetworkError, leaderMoved } from './metadata.js';
import { parseOffset } from './offset-input.js';
import { PRODUCER_OPTIONS, SEND_OPTIONS, checkOptions } from './options.js';
import { checkHeaders, encodableHeaders, estimateHeaderBytes, type ProducerHeaders } from './headers.js';

export type Acks = 0 | 1 | 'all' | -1;
type WireAcks = 0 | 1 | -1;

/**
 * Requests per partition in flight for an idempotent producer (Kafka's limit with
 * idempotence): the broker's sequence checks keep them in order, and it remembers 5
 * batches per producer, so every retry of one of them is still recognised.
 */
const MAX_IN_FLIGHT_PER_PARTITION_IDEMPOTENT = 5;

export interface ProducerConfig {
  /** Time a batch may wait for more messages before it is sent, while requests are in flight (see adaptiveLinger). Default 5 ms. */
  lingerMs?: number;
  /**
   * true: a batch started while no request is in flight (nor waiting to be retried) goes out
   * at the end of the current turn, so a lone awaited send() does not wait lingerMs; batches
   * started while requests are in flight linger, so a busy producer still batches, until
   * lingerMs passes or the last request in flight is answered, whichever comes first.
   * false: every batch waits lingerMs (Kafka's linger.ms). Default true.
   */
  adaptiveLinger?: boolean;
  /** A batch is sent once it holds this many (uncompressed) bytes. Default 256 KiB. */
  batchBytes?: number;
  /** 0: no answer; 1: written to the log; 'all' (-1): written and flushed per the broker's fsync policy. Default 'all'. */
  acks?: Acks;
  compression?: CompressionName;
  /** Retries of a batch after retriable errors. Default: the client's retry.retries (5). */
  retries?: number;
  /** Produce requests in flight at once (over all partitions). Default 5. */
  maxInFlight?: number;
  /** Largest Produce request the sender builds (at least one batch). Default 1 MiB (as Kafka's max.request.size): a broker copies a request that spans socket reads, and several 1 MiB requests pipeline better than one of 16 MiB. */
  maxRequestBytes?: number;
  /** send() waits while this many bytes are buffered and not yet acknowledged. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Time the broker may take for a produce (and the client waits for its answer). Default: client requestTimeoutMs. */
  timeoutMs?: number;
  /**
   * Producer id and per-partition sequence numbers, so retries never write a batch twice
   * (sends with acks 'all' only; see the file comment). Default true.
   */
  idempotent?: boolean;
}

export interface ProducerMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  /**
   * `{ key: value }` with a string or Buffer value, or an array of them (one header per
   * element, in order: kafkajs's shape for repeated keys); or an ordered list of
   * `[key, value]` pairs (a consumed message's `headerList`).
   */
  headers?: ProducerHeaders;
  /** Explicit partition: overrides the key. */
  partition?: number;
  /** Milliseconds since the epoch (a numeric string or bigint too: kafkajs passes strings); default: now. */
  timestamp?: number | string | bigint;
}

export interface ProducerRecord {
  topic: string;
  messages: ProducerMessage[];
  acks?: Acks;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** -1 with acks 0. */
  offset: number;
}

interface Send {
  resolve: (results: RecordMetadata[]) => void;
  reject: (error: Error) => void;
}

interface RequestEntry {
  queue: PartitionQueue;
  batches: ProducerBatch[];
}

export class Producer {
  readonly lingerMs: number;
  readonly adaptiveLinger: boolean;
  readonly batchBytes: number;
  readonly acks: WireAcks;
  readonly retries: number;
  readonly maxInFlight: number;
  readonly maxRequestBytes: number;
  readonly maxBufferedBytes: number;
  readonly timeoutMs: number;
  /** Idempotence is on (the default falls back to off against a broker without InitProducerId). */
  idempotent: boolean;
  private readonly idempotentAsked: boolean;
  /** From InitProducerId; null until the first idempotent batch is sent. */
  private producerIdentity: { producerId: number; producerEpoch: number } | null = null;
  private initializingProducerId = false;
  /** Next sequence number per "topic\0partition" for the current producer id. */
  private readonly sequences = new Map<string, number>();
  private readonly compression: CompressionName;
  private readonly accumulators = new Map<WireAcks, Accumulator>();
  private readonly sticky = new StickyPartitioner();
  /** Unsettled send() calls (a Map, not a WeakMap: close() with a deadline fails every one left). */
  private readonly sends = new Map<SendTracker, Send>();
  private inFlight = 0;
  /** Produce requests in flight per broker (a cluster; ANY_BROKER on one broker). */
  private readonly inFlightTo = new Map<number, number>();
  /** A metadata refresh for partitions waiting for their leader is under way. */
  private refreshingLeaders = false;
  private readonly retryTimers = new Set<AbortController>();
  private drainScheduled = false;
  /** Batches closed so far (a cheap "has the sticky partition possibly moved" check). */
  private closedBatches = 0;
  /** send() calls waiting for metadata or buffer space, chained to keep their order. */
  private slowSends = 0;
  private slowChain: Promise<void> = Promise.resolve();
  private spaceWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private closed = false;

  constructor(
    private readonly client: Client,
    options: ProducerConfig = {},
  ) {
    const config = checkOptions(options, { where: 'client.producer()', ...PRODUCER_OPTIONS });
    this.lingerMs = config.lingerMs ?? 5;
    this.adaptiveLinger = config.adaptiveLinger ?? true;
    this.batchBytes = config.batchBytes ?? 256 * 1024;
    this.acks = wireAcks(config.acks ?? 'all');
    this.compression = config.compression ?? 'none';
    this.retries = config.retries ?? client.retryPolicy.options.retries;
    this.maxInFlight = Math.max(1, config.maxInFlight ?? 5);
    this.maxRequestBytes = config.maxRequestBytes ?? 1024 * 1024;
    this.maxBufferedBytes = config.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.timeoutMs = config.timeoutMs ?? client.requestTimeoutMs;
    this.idempotent = config.idempotent ?? true;
    this.idempotentAsked = config.idempotent === true;
  }

  /** Buffers the messages and resolves with their partitions and offsets once acknowledged. */
  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    if (this.closing) return Promise.reject(closedError('producer'));
    try {
      checkOptions(record, { where: 'send()', ...SEND_OPTIONS });
    } catch (error) {
      return Promise.reject(error);
    }
    const { topic, messages } = record;
    if (typeof topic !== 'string' || topic === '') return Promise.reject(new SpoolError(Errors.INVALID_TOPIC, 'send() needs a topic'));
    if (!Array.isArray(messages)) return Promise.reject(new SpoolError(Errors.INVALID_REQUEST, 'send() needs messages: an array'));
    if (messages.length === 0) return Promise.resolve([]);
    let acks: WireAcks;
    try {
      acks = record.acks === undefined ? this.acks : wireAcks(record.acks);
    } catch (error) {
      return Promise.reject(error);
    }
    const partitions = this.client.metadata.cachedPartitions(topic);
    if (partitions === undefined || this.slowSends > 0 || this.bufferedBytes() >= this.maxBufferedBytes) {
      return this.sendSlow(topic, messages, acks);
    }
    return this.enqueue(topic, messages, acks, partitions);
  }

  private sendSlow(topic: string, messages: ProducerMessage[], acks: WireAcks): Promise<RecordMetadata[]> {
    this.slowSends++;
    const previous = this.slowChain;
    // `enqueued` settles once the messages are in their batches (not when they are
    // acknowledged): the next slow send waits only for that, which keeps send() order.
    const enqueued = (async (): Promise<{ acknowledged: Promise<RecordMetadata[]> }> => {
      try {
        await previous;
        const partitions = await this.client.metadata.partitionCount(topic);
        await this.waitForSpace();
        if (this.closed) throw closedError('producer');
        return { acknowledged: this.enqueue(topic, messages, acks, partitions) };
      } finally {
        this.slowSends--;
        this.checkIdle();
      }
    })();
    this.slowChain = enqueued.then(
      () => undefined,
      () => undefined, // a failed send is reported to its own caller
    );
    return enqueued.then((entry) => entry.acknowledged);
  }

  private enqueue(topic: string, messages: ProducerMessage[], acks: WireAcks, partitions: number): Promise<RecordMetadata[]> {
    const invalid = validateMessages(topic, messages, partitions);
    if (invalid) return Promise.reject(invalid);
    const accumulator = this.accumulator(acks);
    const tracker = new SendTracker(topic, messages.length, (done, error) => this.settle(done, error));
    const promise = new Promise<RecordMetadata[]>((resolve, reject) => this.sends.set(tracker, { resolve, reject }));
    let queue: PartitionQueue | null = null;
    // The default timestamp of the call's messages: the clock is read once per send().
    const nowMs = Date.now();
    // The sticky choice only changes when a batch closes: ask again only then.
    let sticky = -1;
    let stickyAsOf = -1;
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      const estimatedBytes = estimateBytes(message);
      let partition = message.partition;
      if (partition === undefined) {
        const key = message.key;
        if (key === undefined || key === null) {
          if (stickyAsOf !== this.closedBatches) {
            sticky = this.sticky.partition(topic, partitions);
            stickyAsOf = this.closedBatches;
          }
          if (queue === null || queue.partition !== sticky) queue = accumulator.queue(topic, sticky);
          if (accumulator.wouldOverflow(queue, estimatedBytes)) {
            // Close the full batch first so the message starts the next batch on the next sticky partition (KIP-480).
            accumulator.close(queue);
            sticky = this.sticky.partition(topic, partitions);
            stickyAsOf = this.closedBatches;
          }
          partition = sticky;
        } else partition = partitionForKey(key, partitions);
      }
      if (queue === null || queue.partition !== partition) queue = accumulator.queue(topic, partition);
      const headers = message.headers;
      const record = headers === undefined && typeof message.timestamp !== 'string' && typeof message.timestamp !== 'bigint' ? (message as RecordInput) : encodableRecord(message);
      accumulator.append(queue, record, estimatedBytes, tracker, index, nowMs);
    }
    return promise;
  }

  private accumulator(acks: WireAcks): Accumulator {
    let accumulator = this.accumulators.get(acks);
    if (accumulator === undefined) {
      accumulator = new Accumulator({
        lingerMs: this.lingerMs,
        batchBytes: this.batchBytes,
        newBuilder: () => new BatchBuilder({ compression: this.compression }),
        onReady: () => this.scheduleDrain(),
        ...(this.adaptiveLinger ? { sendAtOnce: () => this.inFlight === 0 && this.retryTimers.size === 0 } : {}),
        onBatchClosed: (topic, partition) => {
          this.closedBatches++;
          const count = this.client.metadata.cachedPartitions(topic);
          if (count !== undefined) this.sticky.batchClosed(topic, partition, count);
        },
      });
      this.accumulators.set(acks, accumulator);
    }
    return accumulator;
  }

  private settle(tracker: SendTracker, error: Error | null): void {
    const send = this.sends.get(tracker);
    if (send === undefined) return;
    this.sends.delete(tracker);
    if (error) {
      send.reject(error);
      return;
    }
    const results = new Array<RecordMetadata>(tracker.size);
    const { topic, batches, deltas } = tracker;
    for (let index = 0; index < tracker.size; index++) {
      const batch = batches[index]!;
      const baseOffset = batch.baseOffset;
      results[index] = { topic, partition: batch.queue.partition, offset: baseOffset < 0 ? -1 : baseOffset + deltas[index]! };
    }
    send.resolve(results);
  }

  private bufferedBytes(): number {
    let total = 0;
    for (const accumulator of this.accumulators.values()) total += accumulator.bufferedBytes;
    return total;
  }

  private waitForSpace(): Promise<void> {
    if (this.bufferedBytes() < this.maxBufferedBytes) return Promise.resolve();
    return new Promise((resolve) => this.spaceWaiters.push(resolve));
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    // With lingerMs 0 (or adaptive linger on an idle producer) the batches were closed at the
    // end of the sends' turn: send them now rather than after the event loop's I/O phase. Otherwise setImmediate lets every
    // batch closed in this turn share one request.
    if (this.lingerMs <= 0 || (this.adaptiveLinger && this.inFlight === 0)) queueMicrotask(this.drainNow);
    else setImmediate(this.drainNow);
  }

  private readonly drainNow = (): void => {
    this.drainScheduled = false;
    this.drain();
  };

  /** Packs ready batches into Produce requests while fewer than maxInFlight are in flight. */
  private drain(): void {
    for (const [acks, accumulator] of this.accumulators) {
      const idempotent = this.idempotent && acks === -1;
      if (idempotent && this.producerIdentity === null) {
        if (!accumulator.isEmpty) this.initProducerId(accumulator);
        continue;
      }
      if (this.client.metadata.routed) {
        this.drainToLeaders(acks, accumulator, idempotent);
        continue;
      }
      while (this.inFlight < this.maxInFlight) {
        const entries: RequestEntry[] = [];
        let bytes = 0;
        for (const queue of accumulator.sendable(idempotent ? MAX_IN_FLIGHT_PER_PARTITION_IDEMPOTENT : 1)) {
          if (bytes >= this.maxRequestBytes || entries.length >= RequestLimits.maxPartitionsPerProduce) break;
          bytes += this.takeInto(entries, accumulator, queue, idempotent, bytes);
        }
        if (entries.length === 0) break;
        this.sendRequest(acks, accumulator, entries, ANY_BROKER);
      }
    }
    this.checkIdle();
  }

  /**
   * A cluster: each request carries the batches of partitions led by one broker and goes to
   * it, up to maxInFlight requests per broker. A partition whose leader is unknown or stale
   * waits for the metadata refresh (which drains again when it is done).
   */
  private drainToLeaders(acks: WireAcks, accumulator: Accumulator, idempotent: boolean): void {
    const waiting = new Set<PartitionQueue>();
    for (;;) {
      const entries: RequestEntry[] = [];
      let node = NO_NODE;
      let bytes = 0;
      for (const queue of accumulator.sendable(idempotent ? MAX_IN_FLIGHT_PER_PARTITION_IDEMPOTENT : 1)) {
        if (waiting.has(queue)) continue;
        if (node === NO_NODE) {
          const leader = this.leaderOf(queue);
          if (leader === NO_NODE || (this.inFlightTo.get(leader) ?? 0) >= this.maxInFlight) {
            waiting.add(queue);
            continue;
          }
          node = leader;
        } else if (this.leaderOf(queue) !== node) continue;
        if (bytes >= this.maxRequestBytes || entries.length >= RequestLimits.maxPartitionsPerProduce) break;
        bytes += this.takeInto(entries, accumulator, queue, idempotent, bytes);
      }
      if (entries.length === 0) return;
      this.sendRequest(acks, accumulator, entries, node);
    }
  }

  /** The broker to send a partition's batches to, or NO_NODE: wait for the metadata refresh under way. */
  private leaderOf(queue: PartitionQueue): number {
    const metadata = this.client.metadata;
    if (!metadata.isStale(queue.topic)) {
      const leader = metadata.leaderOf(queue.topic, queue.partition);
      if (leader !== NO_LEADER) return leader;
      metadata.markStale(queue.topic); // an election is under way: ask again (refreshLeaders spaces the asks)
    }
    if (!this.refreshingLeaders) {
      this.refreshingLeaders = true;
      this.inFlight++; // not idle while batches wait for their leader
      void metadata.refreshLeaders().finally(() => {
        this.refreshingLeaders = false;
        this.inFlight--;
        this.scheduleDrain();
        this.checkIdle();
      });
    }
    return NO_NODE;
  }

  /** Takes a partition's next batches (one when idempotent) into a request; returns their bytes. */
  private takeInto(entries: RequestEntry[], accumulator: Accumulator, queue: PartitionQueue, idempotent: boolean, bytesSoFar: number): number {
    // Idempotent: one batch per partition per request (the broker checks one sequence range per append).
    const batches = accumulator.take(queue, idempotent ? 0 : this.maxRequestBytes - bytesSoFar);
    queue.inFlight++;
    let bytes = 0;
    for (const batch of batches) {
      bytes += batch.sizeBytes;
      if (idempotent && batch.sequence < 0) this.stamp(batch);
    }
    entries.push({ queue, batches });
    return bytes;
  }

  /**
   * Writes the producer id, epoch and the partition's next sequence into a batch sent for
   * the first time (a retry resends it as stamped, so the broker can tell it is a duplicate).
   */
  private stamp(batch: ProducerBatch): void {
    const identity = this.producerIdentity!;
    const key = `${batch.queue.topic}\u0000${batch.queue.partition}`;
    const sequence = this.sequences.get(key) ?? 0;
    setProducerFields(batch.buffer!, 0, identity.producerId, identity.producerEpoch, sequence);
    batch.sequence = sequence;
    batch.producerId = identity.producerId;
    this.sequences.set(key, (sequence + batch.recordCount) % 0x8000_0000);
  }

  /**
   * Asks for a producer id (with the client's retry policy); the batches waiting meanwhile
   * go out once it is known. When it cannot be had, the waiting sends of `accumulator` fail.
   */
  private initProducerId(accumulator: Accumulator): void {
    if (this.initializingProducerId) return;
    this.initializingProducerId = true;
    this.inFlight++;
    this.client
      .request(ApiKey.InitProducerId, {}, undefined, { timeoutMs: this.timeoutMs })
      .then((response) => {
        const header = response.header as unknown as InitProducerIdResponse;
        const error = errorFromCode(header.errorCode, header.errorMessage, 'InitProducerId');
        if (error) throw error;
        this.producerIdentity = { producerId: header.producerId, producerEpoch: header.producerEpoch };
        this.sequences.clear();
      })
      .catch((error: unknown) => {
        if (!this.idempotentAsked && error instanceof SpoolError && error.kind === Errors.UNSUPPORTED_VERSION) {
          // A broker older than InitProducerId: the default gives way to at-least-once.
          this.idempotent = false;
          return;
        }
        const failure = error instanceof Error ? error : new Error(String(error));
        accumulator.closeAll();
        for (const queue of [...accumulator.sendable()]) {
          const batches = accumulator.take(queue, Number.MAX_SAFE_INTEGER);
          for (const batch of batches) batch.fail(failure);
          accumulator.release(batches);
        }
        this.wakeSpaceWaiters();
      })
      .finally(() => {
        this.initializingProducerId = false;
        this.inFlight--;
        this.scheduleDrain();
        this.checkIdle();
      });
  }

  private sendRequest(acks: WireAcks, accumulator: Accumulator, entries: RequestEntry[], node: number): void {
    const partitions: Array<{ topic: string; partition: number; size: number }> = [];
    const payload: Buffer[] = [];
    for (const { queue, batches } of entries) {
      let size = 0;
      for (const batch of batches) {
        payload.push(batch.buffer!);
        size += batch.buffer!.length;
      }
      partitions.push({ topic: queue.topic, partition: queue.partition, size });
    }
    this.inFlight++;
    this.inFlightTo.set(node, (this.inFlightTo.get(node) ?? 0) + 1);
    // One broker: the client's shared connection, as before clusters. A closed client has no
    // connection to give: send() rejects the request instead.
    const connection = node === ANY_BROKER || this.client.isClosed ? undefined : this.client.leaderConnection(node);
    const settled = (): void => {
      this.inFlight--;
      this.inFlightTo.set(node, this.inFlightTo.get(node)! - 1);
    };
    this.client
      .send(ApiKey.Produce, { acks, timeoutMs: this.timeoutMs, partitions }, payload, {
        ...(connection === undefined ? {} : { connection }),
        expectResponse: acks !== 0,
        timeoutMs: this.timeoutMs + 5_000,
      })
      .then(
        (response) => {
          // inFlight drops before the sends settle: a caller that awaits send() and sends
          // again at once must find the producer idle (adaptive linger sends it at once).
          settled();
          if (acks === 0) {
            for (const entry of entries) this.completeEntry(accumulator, entry, -1);
            return;
          }
          const results = (response.header as unknown as ProduceResponse).partitions ?? [];
          entries.forEach((entry, index) => this.onPartitionResult(accumulator, entry, findResult(results, entry.queue, index)));
          this.sendLingeringIfIdle();
        },
        (error: unknown) => {
          settled();
          for (const entry of entries) this.onPartitionError(accumulator, entry, error);
          this.sendLingeringIfIdle();
        },
      )
      .finally(() => this.drain());
    if (stageTraceOn) traceWritten(entries);
  }

  /**
   * Adaptive linger: batches opened while requests were in flight wait lingerMs for company;
   * once the last answer is back (nothing in flight, no retry waiting) there is no reason to
   * hold them any longer (Nagle's rule: send when the previous one is acknowledged), so they
   * go now. A busy producer rarely gets here (something is almost always in flight) and keeps
   * its batching; a steady trickle (5,000 msg/s, one message per send) stops paying lingerMs
   * for every message that arrives while the previous one is in flight.
   */
  private sendLingeringIfIdle(): void {
    if (!this.adaptiveLinger || this.inFlight > 0 || this.retryTimers.size > 0) return;
    for (const accumulator of this.accumulators.values()) if (accumulator.hasOpenBatches) accumulator.closeAll();
  }

  private onPartitionResult(accumulator: Accumulator, entry: RequestEntry, result: ProducePartitionResult | undefined): void {
    if (result === undefined) {
      this.onPartitionError(accumulator, entry, new SpoolError(Errors.UNKNOWN, `no produce result for ${entry.queue.topic}/${entry.queue.partition}`));
      return;
    }
    const error = errorFromCode(result.errorCode, result.errorMessage, `produce to ${entry.queue.topic}/${entry.queue.partition}`);
    if (error) this.onPartitionError(accumulator, entry, error);
    else this.completeEntry(accumulator, entry, result.baseOffset);
  }

  private completeEntry(accumulator: Accumulator, entry: RequestEntry, baseOffset: number): void {
    let offset = baseOffset;
    for (const batch of entry.batches) {
      batch.complete(offset);
      if (offset >= 0) offset += batch.recordCount;
    }
    this.finishEntry(accumulator, entry);
    // An answered request (baseOffset >= 0; never acks 0): the broker has read its frame.
    if (baseOffset >= 0) accumulator.recycle(entry.batches);
  }

  private finishEntry(accumulator: Accumulator, entry: RequestEntry): void {
    accumulator.release(entry.batches);
    accumulator.unbusy(entry.queue);
    this.wakeSpaceWaiters();
    // The last request of a partition waiting to retry its failed batches has settled.
    if (entry.queue.blocked) this.retryWhenSettled(accumulator, entry.queue);
  }

  private onPartitionError(accumulator: Accumulator, entry: RequestEntry, error: unknown): void {
    const queue = entry.queue;
    const attempts = ++entry.batches[0]!.attempts;
    for (const batch of entry.batches) batch.attempts = attempts;
    const stamped = entry.batches[0]!.sequence >= 0;
    // Idempotent: a later batch refused because an earlier one of its partition is missing
    // was not written; it is retried after that one (or renumbered if that one failed for good).
    const outOfOrder = stamped && error instanceof SpoolError && error.kind === Errors.OUT_OF_ORDER_SEQUENCE_NUMBER;
    // The leader moved, or cannot be reached: learn the leaders again before the retry.
    if (leaderMoved(error) && (this.client.metadata.routed || !isNetworkError(error))) this.client.metadata.markStale(queue.topic);
    if ((isRetriable(error) || outOfOrder) && attempts <= this.retries && !this.closed) {
      // Nothing of the partition is sent until its requests in flight settle, these batches
      // are back at the head of its queue and the backoff is over: nothing overtakes them.
      queue.blocked = true;
      queue.failed.push(...entry.batches);
      queue.inFlight--;
      this.retryWhenSettled(accumulator, queue);
      return;
    }
    if (error instanceof SpoolError && (error.kind === Errors.UNKNOWN_TOPIC || error.kind === Errors.UNKNOWN_PARTITION)) {
      this.client.metadata.invalidate(queue.topic);
    }
    const failure = finalError(error, attempts);
    for (const batch of entry.batches) batch.fail(failure);
    this.rewindSequences(entry, error);
    this.finishEntry(accumulator, entry);
  }

  /**
   * Once no request of the partition is in flight, puts its failed batches back at the head
   * of its queue in sequence order and, after the backoff, lets the partition send again.
   */
  private retryWhenSettled(accumulator: Accumulator, queue: PartitionQueue): void {
    if (queue.inFlight > 0 || queue.retryScheduled) return;
    const failed = queue.failed.splice(0).sort((a, b) => a.sequence - b.sequence);
    let attempts = 1;
    for (const batch of failed) attempts = Math.max(attempts, batch.attempts);
    const rewindTo = queue.rewindTo;
    queue.rewindTo = -1;
    if (rewindTo >= 0) {
      // An earlier batch failed for good (not written): the later ones were refused for the
      // gap, so they were not written either and take new sequences from its sequence on.
      for (const batch of failed) if (batch.sequence > rewindTo && batch.producerId === this.producerIdentity?.producerId) batch.sequence = -1;
    }
    accumulator.requeue(queue, failed);
    queue.retryScheduled = true;
    const controller = new AbortController();
    this.retryTimers.add(controller);
    sleep(failed.length === 0 ? 0 : this.client.retryPolicy.delayMs(attempts - 1), controller.signal)
      .then(
        () => {
          queue.retryScheduled = false;
          accumulator.unblock(queue);
        },
        () => undefined, // aborted by close(): the batches were failed there
      )
      .finally(() => {
        this.retryTimers.delete(controller);
        this.scheduleDrain();
      });
  }

  /**
   * An idempotent batch failed for good. Answered by the broker with a non-retriable error,
   * it was not written: the partition's next batch takes its sequence (and batches sent after
   * it, refused for the gap, are renumbered: retryWhenSettled). Given up after retries, it
   * may have been written: the producer starts over with a new producer id (sequence 0 on
   * every partition), as Kafka's producer bumps its epoch.
   */
  private rewindSequences(entry: RequestEntry, error: unknown): void {
    const batch = entry.batches[0]!;
    if (batch.sequence < 0 || this.producerIdentity?.producerId !== batch.producerId) return;
    if (error instanceof SpoolError && !error.retriable && error.kind !== Errors.OUT_OF_ORDER_SEQUENCE_NUMBER) {
      const queue = entry.queue;
      const key = `${queue.topic}\u0000${queue.partition}`;
      this.sequences.set(key, Math.min(this.sequences.get(key) ?? batch.sequence, batch.sequence));
      if (queue.inFlight > 1 || queue.failed.length > 0) {
        queue.blocked = true;
        queue.rewindTo = queue.rewindTo < 0 ? batch.sequence : Math.min(queue.rewindTo, batch.sequence);
      }
    } else {
      this.producerIdentity = null;
    }
  }

  /** Fails every send() not yet settled with `error` and stops sending (close() past its deadline). */
  private abandon(error: SpoolError): void {
    this.closed = true;
    for (const controller of this.retryTimers) controller.abort();
    for (const tracker of [...this.sends.keys()]) tracker.fail(error);
    for (const accumulator of this.accumulators.values()) accumulator.dispose();
    // Sends waiting for buffer space find the producer closed; flush() waiters are let go.
    for (const resolve of this.spaceWaiters.splice(0)) resolve();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private wakeSpaceWaiters(): void {
    while (this.spaceWaiters.length > 0 && this.bufferedBytes() < this.maxBufferedBytes) this.spaceWaiters.shift()!();
  }

  private get idle(): boolean {
    if (this.inFlight > 0 || this.retryTimers.size > 0 || this.slowSends > 0) return false;
    for (const accumulator of this.accumulators.values()) if (!accumulator.isEmpty) return false;
    return true;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0 || !this.idle) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Sends everything buffered now (without waiting for linger) and waits until it is acknowledged or failed. */
  async flush(): Promise<void> {
    await this.slowChain;
    for (const accumulator of this.accumulators.values()) accumulator.closeAll();
    if (this.idle) return;
    const done = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    this.scheduleDrain();
    await done;
  }

  /**
   * Delivers what is buffered (flush), then refuses further sends. Idempotent. With
   * `timeoutMs`, gives up when that time has passed: every send() not yet acknowledged
   * rejects with REQUEST_TIMED_OUT saying so (its messages may or may not have been written).
   */
  async close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const timeoutMs = options.timeoutMs;
    let timer: NodeJS.Timeout | null = null;
    try {
      if (timeoutMs === undefined) await this.flush();
      else {
        const expired = new Promise<'expired'>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs), 'expired')));
        if ((await Promise.race([this.flush(), expired])) === 'expired') {
          this.abandon(new SpoolError(Errors.REQUEST_TIMED_OUT, `the producer was closed with close({ timeoutMs: ${timeoutMs} }) before this send() was acknowledged; its messages may not have been written`));
        }
      }
    } finally {
      if (timer !== null) clearTimeout(timer);
      this.closed = true;
      for (const controller of this.retryTimers) controller.abort();
      for (const accumulator of this.accumulators.values()) accumulator.dispose();
      this.client.forget(this);
    }
  }
}

/** drainToLeaders: no broker chosen yet / wait for metadata. */
const NO_NODE = -3;

function wireAcks(acks: Acks): WireAcks {
  if (acks === 'all' || acks === -1) return -1;
  if (acks === 0 || acks === 1) return acks;
  throw new SpoolError(Errors.INVALID_REQUEST, `acks must be 0, 1 or 'all', got ${String(acks)}`);
}

function findResult(results: ProducePartitionResult[], queue: PartitionQueue, index: number): ProducePartitionResult | undefined {
  const atIndex = results[index];
  if (atIndex !== undefined && atIndex.topic === queue.topic && atIndex.partition === queue.partition) return atIndex;
  return results.find((result) => result.topic === queue.topic && result.partition === queue.partition);
}

function finalError(error: unknown, attempts: number): Error {
  if (error instanceof SpoolError) {
    if (!error.retriable) return error;
    return new SpoolError(error.kind, `${error.message} (gave up after ${attempts} attempts)`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}

function byteEstimate(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return value.length;
}

/** Upper-bound-ish size of a record for the batch-size decision (string length, not UTF-8 bytes). */
function estimateBytes(message: ProducerMessage): number {
  let bytes = 24 + byteEstimate(message.key) + byteEstimate(message.value);
  const headers = message.headers;
  if (headers !== undefined) bytes += estimateHeaderBytes(headers);
  return bytes;
}

/** The message as records' BatchBuilder takes it: array-valued headers listed, a string or bigint timestamp as a number (checked by validateMessages). */
function encodableRecord(message: ProducerMessage): RecordInput {
  const headers = message.headers === undefined ? undefined : encodableHeaders(message.headers);
  const timestamp = message.timestamp === undefined ? undefined : Number(message.timestamp);
  if (headers === message.headers && timestamp === message.timestamp) return message as unknown as RecordInput;
  return { key: message.key ?? null, value: message.value, ...(headers === undefined ? {} : { headers }), ...(timestamp === undefined ? {} : { timestamp }) };
}

function validateMessages(topic: string, messages: ProducerMessage[], partitions: number): Error | null {
  for (let index = 0; index < messages.length; index++) {
    const message = messages[index];
    if (message === null || typeof message !== 'object') return new SpoolError(Errors.INVALID_REQUEST, `message ${index} is not an object`);
    const value = message.value;
    if (value !== null && typeof value !== 'string' && !Buffer.isBuffer(value)) {
      return new SpoolError(Errors.INVALID_REQUEST, `message ${index}: value must be a string, a Buffer or null`);
    }
    const timestamp = message.timestamp;
    if (timestamp !== undefined && typeof timestamp !== 'number' && parseOffset(timestamp) === null) {
      return new SpoolError(Errors.INVALID_TIMESTAMP, `message ${index}: timestamp must be an integer >= 0 (ms since the epoch; a number, a numeric string or a bigint), got ${String(timestamp)}`);
    }
    if (message.headers !== undefined) {
      const invalidHeaders = checkHeaders(message.headers, `message ${index}`);
      if (invalidHeaders) return invalidHeaders;
    }
    const partition = message.partition;
    if (partition !== undefined && (!Number.isInteger(partition) || partition < 0 || partition >= partitions)) {
      return new SpoolError(Errors.UNKNOWN_PARTITION, `topic ${topic} has ${partitions} partitions; message ${index} asks for partition ${partition}`);
    }
  }
  return null;
}

/** Stage trace (SPOOL_STAGE_TRACE, bench e2e): the records of this request went to the socket now (one producer, one partition: record n is offset n). */
function traceWritten(entries: RequestEntry[]): void {
  let records = 0;
  for (const entry of entries) for (const batch of entry.batches) records += batch.recordCount;
  stampRange(Stage.written, clientMarks.writtenEnd, clientMarks.writtenEnd + records, traceNowUs());
  clientMarks.writtenEnd += records;
}
