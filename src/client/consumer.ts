// The consumer: partitions are assigned explicitly (assign / addAssignment /
// removeAssignment; consumer groups will drive the same methods), positions are set by
// seek (offset, earliest, latest, timestamp), and messages are read with
// `for await (const message of consumer)` or run({ eachMessage | eachBatch }). Fetching
// runs ahead in fetcher.ts; batches are decoded lazily, one at a time, as the reader
// reaches them, and records below the partition's position (the start of the first
// batch of a fetch) are skipped. A message counts as processed when the reader asks for
// the next one (iterator) or when its handler has resolved (run); processed offsets
// are reported to onProcessed listeners (the hook commits will use).

import { decodeBatch, readBatchHeader, Attributes, type DecodedRecord } from '../records/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import { closedError } from './errors.js';
import { Assignment, type PartitionAssignment, type PartitionState, type StartOffset, type TopicPartition } from './assignment.js';
import { Fetcher, type FetchedChunk } from './fetcher.js';

export interface ConsumerConfig {
  /** Consumer group (consumer groups come in a later release: subscribe() is not available yet). */
  groupId?: string;
  sessionTimeoutMs?: number;
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  /** Longest time the broker parks a fetch waiting for minBytes. Default 500. */
  maxWaitMs?: number;
  /** Bytes a fetch waits for. Default 1. */
  minBytes?: number;
  /** Largest fetch response (at least one batch). Default 50 MiB. */
  maxBytes?: number;
  /** Largest slice of one partition per fetch (at least one batch). Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Fetched-but-unread bytes at which fetching pauses. Default 64 MiB. */
  maxBufferedBytes?: number;
  /** Where to start when no offset is given, or when the position is out of range. Default 'latest' (kafkajs: fromBeginning false). */
  autoOffsetReset?: 'earliest' | 'latest';
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer>;
}

export interface EachMessagePayload {
  topic: string;
  partition: number;
  message: ConsumedMessage;
}

export interface Batch {
  topic: string;
  partition: number;
  highWatermark: number;
  messages: ConsumedMessage[];
  firstOffset(): number | null;
  lastOffset(): number;
}

export interface EachBatchPayload {
  batch: Batch;
  /** Marks messages up to `offset` processed (default at the end: the whole batch). */
  resolveOffset(offset: number): void;
  isRunning(): boolean;
  /** True when the partition was sought or unassigned while the batch was handled. */
  isStale(): boolean;
}

export interface RunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void> | void;
  eachBatch?: (payload: EachBatchPayload) => Promise<void> | void;
}

export type ProcessedListener = (topic: string, partition: number, nextOffset: number) => void;

const EMPTY_HEADERS: Record<string, Buffer> = Object.freeze({}) as Record<string, Buffer>;

export class Consumer {
  readonly groupId: string | undefined;
  readonly autoOffsetReset: 'earliest' | 'latest';
  private readonly assignment = new Assignment();
  private readonly fetcher: Fetcher;
  private readonly processedListeners = new Set<ProcessedListener>();
  /** Decoded records of the batch being read, and where the reader is in it. */
  private chunk: FetchedChunk | null = null;
  private chunkPosition = 0;
  private records: DecodedRecord[] = [];
  private recordIndex = 0;
  private last: ConsumedMessage | null = null;
  private lastState: PartitionState | null = null;
  private reading = false;
  private closed = false;

  constructor(
    private readonly client: Client,
    config: ConsumerConfig = {},
  ) {
    this.groupId = config.groupId;
    this.autoOffsetReset = config.autoOffsetReset ?? 'latest';
    const maxBytes = config.maxBytes ?? 50 * 1024 * 1024;
    this.fetcher = new Fetcher(client, this.assignment, {
      maxWaitMs: config.maxWaitMs ?? 500,
      minBytes: config.minBytes ?? 1,
      maxBytes,
      maxBytesPerPartition: config.maxBytesPerPartition ?? 1024 * 1024,
      maxBufferedBytes: config.maxBufferedBytes ?? 64 * 1024 * 1024,
      autoOffsetReset: this.autoOffsetReset,
    });
  }

  // --- assignment (the piece consumer groups will drive) ---------------------------

  /**
   * Replaces the assignment. Resolves when every position is known (ListOffsets for
   * 'earliest' / 'latest'); fetching starts at once, so awaiting is optional (a failure
   * is then reported by the iterator or run()).
   */
  assign(partitions: PartitionAssignment[]): Promise<void> {
    this.assertOpen();
    const keep = new Set(partitions.map((entry) => `${entry.topic}\u0000${entry.partition}`));
    for (const state of [...this.assignment.all()]) if (!keep.has(state.key)) this.assignment.remove(state.topic, state.partition);
    return this.addAssignment(partitions);
  }

  /** Adds partitions (or moves their position if already assigned). */
  addAssignment(partitions: PartitionAssignment[]): Promise<void> {
    this.assertOpen();
    const states = partitions.map((entry) => {
      checkPartition(entry);
      return this.assignment.add(entry.topic, entry.partition, entry.offset ?? this.autoOffsetReset);
    });
    return this.afterPositionChange(states);
  }

  /** Removes partitions: their buffered data is dropped. */
  removeAssignment(partitions: TopicPartition[]): void {
    for (const entry of partitions) this.assignment.remove(entry.topic, entry.partition);
    this.fetcher.dropStale();
    this.fetcher.interrupt();
  }

  /** The assigned partitions. */
  assigned(): TopicPartition[] {
    return this.assignment.list();
  }

  /** The next offset the consumer will deliver for a partition (-1 while it is being resolved). */
  position(partition: TopicPartition): number {
    return this.assignment.require(partition.topic, partition.partition).consumeOffset;
  }

  /** Registers a listener for processed offsets (nextOffset = last processed + 1); returns an unsubscribe. */
  onProcessed(listener: ProcessedListener): () => void {
    this.processedListeners.add(listener);
    return () => this.processedListeners.delete(listener);
  }

  pause(partitions: TopicPartition[]): void {
    for (const entry of partitions) this.assignment.require(entry.topic, entry.partition).paused = true;
  }

  resume(partitions: TopicPartition[]): void {
    for (const entry of partitions) this.assignment.require(entry.topic, entry.partition).paused = false;
    this.fetcher.wake();
  }

  // --- seeking ---------------------------------------------------------------------

  seek(target: { topic: string; partition: number; offset: StartOffset }): Promise<void> {
    this.assertOpen();
    const state = this.assignment.require(target.topic, target.partition);
    if (typeof target.offset === 'number') {
      if (!Number.isSafeInteger(target.offset) || target.offset < 0) {
        return Promise.reject(new SpoolError(Errors.OFFSET_OUT_OF_RANGE, `cannot seek to offset ${target.offset}`));
      }
      state.seek(target.offset);
    } else state.seekTo(target.offset);
    return this.afterPositionChange([state]);
  }

  /** Seeks the given partitions (default: all assigned) to their log start. */
  seekToBeginning(partitions?: TopicPartition[]): Promise<void> {
    return this.seekAll(partitions, 'earliest');
  }

  /** Seeks the given partitions (default: all assigned) to their log end (only new messages). */
  seekToEnd(partitions?: TopicPartition[]): Promise<void> {
    return this.seekAll(partitions, 'latest');
  }

  /** Seeks to the first offset whose timestamp is >= timestamp (the log end if none). */
  seekToTimestamp(target: { topic: string; partition: number; timestamp: number }): Promise<void> {
    this.assertOpen();
    const state = this.assignment.require(target.topic, target.partition);
    state.seekTo({ timestamp: target.timestamp });
    return this.afterPositionChange([state]);
  }

  private seekAll(partitions: TopicPartition[] | undefined, spec: 'earliest' | 'latest'): Promise<void> {
    this.assertOpen();
    const states = (partitions ?? this.assignment.list()).map((entry) => this.assignment.require(entry.topic, entry.partition));
    for (const state of states) state.seekTo(spec);
    return this.afterPositionChange(states);
  }

  private afterPositionChange(states: PartitionState[]): Promise<void> {
    this.fetcher.dropStale();
    if (this.chunk !== null && (this.chunk.epoch !== this.chunk.state.epoch || !this.chunk.state.assigned)) this.dropChunk();
    this.fetcher.start();
    this.fetcher.interrupt();
    const resolved = this.fetcher.resolve(states);
    resolved.catch(() => undefined); // also reported by the fetch loop to the reader; awaiting is optional
    return resolved;
  }

  /** Groups arrive in a later release. */
  subscribe(_options: { topics: string[]; fromBeginning?: boolean }): Promise<void> {
    return Promise.reject(new SpoolError(Errors.UNSUPPORTED_VERSION, 'consumer groups are not available yet: use assign()'));
  }

  // --- reading ---------------------------------------------------------------------

  /** Yields messages in offset order per partition until close(). Breaking out of the loop does not close the consumer. */
  [Symbol.asyncIterator](): AsyncIterator<ConsumedMessage> {
    this.beginReading();
    return {
      next: () => this.nextMessage(),
      return: () => {
        this.markLastProcessed();
        this.reading = false;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private nextMessage(): Promise<IteratorResult<ConsumedMessage>> {
    this.markLastProcessed();
    const message = this.nextBuffered();
    if (message !== null) {
      this.last = message;
      return Promise.resolve({ value: message, done: false });
    }
    return this.nextMessageSlow();
  }

  private async nextMessageSlow(): Promise<IteratorResult<ConsumedMessage>> {
    for (;;) {
      const message = this.nextBuffered();
      if (message !== null) {
        this.last = message;
        return { value: message, done: false };
      }
      if (!(await this.loadChunk())) {
        this.reading = false;
        return { value: undefined, done: true };
      }
    }
  }

  /**
   * Runs handlers until close() (resolves then) or until a handler throws or a fetch
   * fails with a non-retriable error (rejects with it; the failed message is not
   * marked processed).
   */
  async run(config: RunConfig): Promise<void> {
    const { eachMessage, eachBatch } = config;
    if (eachMessage === undefined && eachBatch === undefined) throw new SpoolError(Errors.INVALID_REQUEST, 'run() needs eachMessage or eachBatch');
    this.beginReading();
    try {
      while (!this.closed) {
        if (eachBatch !== undefined) {
          const batch = this.nextBatch();
          if (batch !== null) await this.handleBatch(batch, eachBatch);
          else if (!(await this.loadChunk())) return;
          continue;
        }
        const message = this.nextBuffered();
        if (message === null) {
          if (!(await this.loadChunk())) return;
          continue;
        }
        const result = eachMessage!({ topic: message.topic, partition: message.partition, message });
        if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
        this.processed(this.lastState!, message.offset + 1);
      }
    } finally {
      this.reading = false;
    }
  }

  private async handleBatch(messages: ConsumedMessage[], eachBatch: NonNullable<RunConfig['eachBatch']>): Promise<void> {
    const state = this.lastState!;
    const epoch = state.epoch;
    const first = messages[0]!;
    let resolved = -1;
    const batch: Batch = {
      topic: first.topic,
      partition: first.partition,
      highWatermark: this.chunk?.highWatermark ?? state.highWatermark,
      messages,
      firstOffset: () => first.offset,
      lastOffset: () => messages[messages.length - 1]!.offset,
    };
    await eachBatch({
      batch,
      resolveOffset: (offset) => {
        resolved = Math.max(resolved, offset);
      },
      isRunning: () => !this.closed,
      isStale: () => state.epoch !== epoch || !state.assigned,
    });
    if (state.epoch !== epoch || !state.assigned) return;
    this.processed(state, (resolved >= 0 ? resolved : batch.lastOffset()) + 1);
  }

  private beginReading(): void {
    this.assertOpen();
    if (this.reading) throw new SpoolError(Errors.INVALID_REQUEST, 'the consumer is already being read (one iterator or run() at a time)');
    this.reading = true;
    this.fetcher.start();
  }

  private markLastProcessed(): void {
    const last = this.last;
    if (last === null) return;
    this.last = null;
    if (this.lastState !== null) this.processed(this.lastState, last.offset + 1);
  }

  private processed(state: PartitionState, nextOffset: number): void {
    if (this.processedListeners.size === 0) return;
    for (const listener of this.processedListeners) listener(state.topic, state.partition, nextOffset);
  }

  /** Waits for the next chunk; false when the consumer is closed. */
  private async loadChunk(): Promise<boolean> {
    this.dropChunk();
    const chunk = await this.fetcher.nextChunk();
    if (chunk === null) return false;
    this.chunk = chunk;
    this.chunkPosition = 0;
    return true;
  }

  private dropChunk(): void {
    if (this.chunk !== null) this.fetcher.release(this.chunk);
    this.chunk = null;
    this.records = [];
    this.recordIndex = 0;
  }

  /** The next deliverable message from the current chunk, decoding its batches lazily; null when the chunk is used up. */
  private nextBuffered(): ConsumedMessage | null {
    for (;;) {
      const chunk = this.chunk;
      if (chunk === null) return null;
      const state = chunk.state;
      if (chunk.epoch !== state.epoch || !state.assigned) {
        this.dropChunk();
        return null;
      }
      while (this.recordIndex < this.records.length) {
        const record = this.records[this.recordIndex++]!;
        if (record.offset < state.consumeOffset) continue;
        state.consumeOffset = record.offset + 1;
        this.lastState = state;
        return toMessage(state, record);
      }
      if (!this.decodeNextBatch(chunk)) {
        this.dropChunk();
        return null;
      }
    }
  }

  /** For eachBatch: the deliverable messages of the next batch in the chunk, or null. */
  private nextBatch(): ConsumedMessage[] | null {
    for (;;) {
      const chunk = this.chunk;
      if (chunk === null) return null;
      const state = chunk.state;
      if (chunk.epoch !== state.epoch || !state.assigned || !this.decodeNextBatch(chunk)) {
        this.dropChunk();
        return null;
      }
      const messages: ConsumedMessage[] = [];
      for (const record of this.records) {
        if (record.offset < state.consumeOffset) continue;
        messages.push(toMessage(state, record));
      }
      this.recordIndex = this.records.length;
      if (messages.length === 0) continue;
      state.consumeOffset = messages[messages.length - 1]!.offset + 1;
      this.lastState = state;
      return messages;
    }
  }

  /** Decodes the next batch of the chunk that holds records at or past the position; false at the end. */
  private decodeNextBatch(chunk: FetchedChunk): boolean {
    const buffer = chunk.records;
    const consumeOffset = chunk.state.consumeOffset;
    while (this.chunkPosition < buffer.length) {
      const position = this.chunkPosition;
      const header = readBatchHeader(buffer, position);
      this.chunkPosition = position + header.totalBytes;
      // Batches wholly below the position (the start of a fetch) and control batches are skipped undecoded.
      if (header.baseOffset + header.lastOffsetDelta < consumeOffset) continue;
      if ((header.attributes & Attributes.CONTROL) !== 0 || header.recordCount === 0) continue;
      this.records = decodeBatch(buffer, position).records;
      this.recordIndex = 0;
      return true;
    }
    return false;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError('consumer');
  }

  /** Stops fetching, ends iteration and run(), closes the fetch connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.markLastProcessed();
    await this.fetcher.stop();
    this.dropChunk();
    this.assignment.clear();
    this.client.forget(this);
  }
}

function toMessage(state: PartitionState, record: DecodedRecord): ConsumedMessage {
  const headers = record.headers;
  let headerMap = EMPTY_HEADERS;
  if (headers.length > 0) {
    headerMap = {};
    for (const [name, value] of headers) headerMap[name] = value;
  }
  return {
    topic: state.topic,
    partition: state.partition,
    offset: record.offset,
    timestamp: record.timestamp,
    key: record.key,
    value: record.value,
    headers: headerMap,
  };
}

function checkPartition(entry: PartitionAssignment): void {
  if (typeof entry.topic !== 'string' || entry.topic === '') throw new SpoolError(Errors.INVALID_TOPIC, 'assign() needs a topic');
  if (!Number.isInteger(entry.partition) || entry.partition < 0) {
    throw new SpoolError(Errors.UNKNOWN_PARTITION, `partition ${String(entry.partition)} of ${entry.topic} is not valid`);
  }
  const offset = entry.offset;
  if (offset !== undefined && offset !== 'earliest' && offset !== 'latest' && !(Number.isSafeInteger(offset) && offset >= 0)) {
    throw new SpoolError(Errors.OFFSET_OUT_OF_RANGE, `start offset ${String(offset)} of ${entry.topic}/${entry.partition} is not valid`);
  }
}
