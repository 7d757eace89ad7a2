// The consumer: partitions are assigned explicitly (assign / addAssignment /
// removeAssignment; consumer groups will drive the same methods), positions are set by
// seek (offset, earliest, latest, timestamp), and messages are read with
// `for await (const message of consumer)` or run({ eachMessage | eachBatch }). Fetching
// runs ahead in fetcher.ts; batches are decoded lazily, one at a time, as the reader
// reaches them, and records below the partition's position (the start of the first
// batch of a fetch) are skipped. A message counts as processed when the reader asks for
// the next one (iterator) or when its handler has resolved (run); processed offsets
// are reported to onProcessed listeners. With a groupId, subscribe() hands the
// assignment to a GroupMember (group-member.ts: heartbeats, reconciliation) and the
// processed offsets to an OffsetCommitter (offset-committer.ts: auto-commit, commit()).
// A run() handler that throws is retried and then restarted or given up on
// (handler-retry.ts); a group member whose reader stalls past maxPollIntervalMs leaves
// the group and rejoins when it reads again (poll-watchdog.ts).

import { readBatchHeader, Attributes } from '../records/index.js';
import { decodeBatchWith, type RecordFactory } from '../records/decode.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import { PartitionFetchError, closedError } from './errors.js';
import { CONSUMER_OPTIONS, RUN_OPTIONS, SUBSCRIBE_OPTIONS, checkOptions, checkRetryOptions } from './options.js';
import { requireStartOffset, requireTimestamp } from './offset-input.js';
import { Assignment, partitionKey, type CheckedStartOffset, type PartitionAssignment, type PartitionState, type StartOffset, type TopicPartition } from './assignment.js';
import { Fetcher, type FetchedChunk } from './fetcher.js';
import { GroupMember, type GroupMemberOptions, type MemberConsumer, type PartitionsListener } from './group-member.js';
import { OffsetCommitter, type CommitOffsetInput } from './offset-committer.js';
import { CoordinatorLink } from './coordinator-link.js';
import { retryHandler, type HandlerOutcome, type RestartOnFailure } from './handler-retry.js';
import { PollWatchdog } from './poll-watchdog.js';
import { RetryPolicy, type RetryOptions } from './retry.js';

export interface ConsumerConfig {
  /** Consumer group: needed by subscribe() and commit(). */
  groupId?: string;
  /** The group fences a member that sends no heartbeat for this long (broker limits 500 ms .. 5 min). Default 45 000. */
  sessionTimeoutMs?: number;
  /** Commit the processed positions every autoCommitIntervalMs, on revocation and on close(). Default true. */
  autoCommit?: boolean;
  /** Default 5000. */
  autoCommitIntervalMs?: number;
  /** The group's assignor, taken from the group's first member. Default 'uniform'. */
  assignor?: 'uniform' | 'range';
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
  /** Retries of a run() handler that throws (kafkajs names taken). Default: the client's retry options. */
  retry?: RetryOptions;
  /**
   * When a run() handler still fails after its retries: true (default) restarts (a group
   * member leaves and rejoins; without a group the partition is sought back to the message),
   * false leaves the group (the consumer closes) and run() rejects. A function decides per error.
   */
  restartOnFailure?: RestartOnFailure;
  /** A group member whose reader keeps one message (or stops reading) this long leaves the group until it reads again. Default 300 000. */
  maxPollIntervalMs?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Header key -> value; a key that repeats holds its last value (every one is in headerList). */
  headers: Record<string, Buffer>;
  /** Every header in record order, repeats included (shared and frozen when empty). */
  headerList: ReadonlyArray<[string, Buffer]>;
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

/** Told of every partition error: retriable ones (retried meanwhile) once per episode, others when the partition stops. */
export type FetchErrorListener = (error: PartitionFetchError) => void;

export interface SubscribeOptions {
  topics: string[];
  /** Where a partition without a committed offset starts: true earliest, false latest; default autoOffsetReset. */
  fromBeginning?: boolean;
  onAssigned?: PartitionsListener;
  onRevoked?: PartitionsListener;
}

/** How long close() waits for a running handler to finish before committing and leaving. */
const CLOSE_READER_WAIT_MS = 5000;

const EMPTY_HEADERS: Record<string, Buffer> = Object.freeze({}) as Record<string, Buffer>;

export class Consumer {
  readonly groupId: string | undefined;
  readonly autoOffsetReset: 'earliest' | 'latest';
  private readonly assignment = new Assignment();
  private readonly fetcher: Fetcher;
  private readonly processedListeners = new Set<ProcessedListener>();
  private readonly fetchErrorListeners = new Set<FetchErrorListener>();
  /** Messages decoded from the batch being read, and where the reader is in it. */
  private chunk: FetchedChunk | null = null;
  private chunkPosition = 0;
  private records: ConsumedMessage[] = [];
  private recordIndex = 0;
  private last: ConsumedMessage | null = null;
  private lastState: PartitionState | null = null;
  private reading = false;
  private closed = false;
  /** The partition whose message or batch a run() handler is working on. */
  private handling: PartitionState | null = null;
  private readonly readerWaiters = new Set<() => void>();
  private readonly sessionTimeoutMs: number;
  private readonly autoCommit: boolean;
  private readonly assignor: 'uniform' | 'range' | undefined;
  private readonly committer: OffsetCommitter | null = null;
  /** The group's coordinator connection (heartbeats, commits, committed offsets); null without a groupId. */
  private readonly coordinator: CoordinatorLink | null = null;
  private member: GroupMember | null = null;
  private readonly assignedListeners = new Set<PartitionsListener>();
  private readonly revokedListeners = new Set<PartitionsListener>();
  /** The options of the group member, kept to rejoin after leaving (restart, poll timeout). */
  private memberOptions: GroupMemberOptions | null = null;
  /** The member is leaving or has left (restart, poll timeout) and rejoins when the reader is back. */
  private rejoin: Promise<void> | null = null;
  private readonly handlerRetry: RetryPolicy;
  private readonly restartOnFailure: RestartOnFailure;
  private readonly watchdog: PollWatchdog;
  /** Aborted by close(): handler retries stop. */
  private readonly closeController = new AbortController();

  constructor(
    private readonly client: Client,
    options: ConsumerConfig = {},
  ) {
    const config = checkOptions(options, { where: 'client.consumer()', ...CONSUMER_OPTIONS });
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
    }, (error) => {
      for (const listener of this.fetchErrorListeners) {
        try {
          listener(error);
        } catch (listenerError) {
          // A throwing listener must not stop the fetch loop; its error still surfaces (uncaught).
          queueMicrotask(() => {
            throw listenerError;
          });
        }
      }
    });
    this.sessionTimeoutMs = config.sessionTimeoutMs ?? 45_000;
    this.handlerRetry = new RetryPolicy({ ...client.retryPolicy.options, ...checkRetryOptions(config.retry, 'client.consumer() retry') });
    this.restartOnFailure = config.restartOnFailure ?? true;
    this.watchdog = new PollWatchdog(
      config.maxPollIntervalMs ?? 300_000,
      () => this.reading === false || this.handling !== null || this.last !== null,
      () => void this.leaveAndRejoinLater('no message was polled within maxPollIntervalMs'),
    );
    this.autoCommit = config.autoCommit ?? true;
    this.assignor = config.assignor;
    if (this.groupId !== undefined) {
      this.coordinator = new CoordinatorLink(client, this.groupId);
      this.committer = new OffsetCommitter(client, {
        coordinator: this.coordinator,
        groupId: this.groupId,
        autoCommit: this.autoCommit,
        autoCommitIntervalMs: config.autoCommitIntervalMs ?? 5000,
        // Without subscribe() the consumer commits as a standalone consumer ('' / -1), which
        // the coordinator allows only while the group has no members.
        identity: () => (this.member === null ? { memberId: '', memberEpoch: -1, generation: 0 } : this.member.identity()),
        owns: (topic, partition) => (this.member === null ? this.assignment.get(topic, partition) !== undefined : this.member.owns(topic, partition)),
        refreshEpoch: () => (this.member === null ? Promise.resolve() : this.member.heartbeatAndWait()),
      });
      this.onProcessed(this.committer.onProcessed);
      this.committer.start();
    }
  }

  // --- assignment (the piece consumer groups will drive) ---------------------------

  /**
   * Replaces the assignment. Resolves when every position is known (ListOffsets for
   * 'earliest' / 'latest'); fetching starts at once, so awaiting is optional (a failure
   * is then reported by the iterator or run()).
   */
  assign(partitions: PartitionAssignment[]): Promise<void> {
    this.assertOpen();
    this.assertNotSubscribed('assign()');
    const keep = new Set(partitions.map((entry) => `${entry.topic}\u0000${entry.partition}`));
    for (const state of [...this.assignment.all()]) if (!keep.has(state.key)) this.assignment.remove(state.topic, state.partition);
    return this.addAssignment(partitions);
  }

  /** Adds partitions (or moves their position if already assigned). */
  addAssignment(partitions: PartitionAssignment[]): Promise<void> {
    this.assertOpen();
    this.assertNotSubscribed('addAssignment()');
    return this.addPartitions(partitions);
  }

  private addPartitions(partitions: PartitionAssignment[]): Promise<void> {
    const states = partitions.map((entry) => this.assignment.add(entry.topic, entry.partition, checkPartition(entry) ?? this.autoOffsetReset));
    return this.afterPositionChange(states);
  }

  /** Removes partitions: their buffered data is dropped. */
  removeAssignment(partitions: TopicPartition[]): void {
    this.assertNotSubscribed('removeAssignment()');
    this.removePartitions(partitions);
  }

  private removePartitions(partitions: TopicPartition[]): void {
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

  /**
   * Registers a listener for partition errors; returns an unsubscribe. A retriable error
   * (KAFKA_STORAGE_ERROR, NOT_ENOUGH_SPACE: the partition is offline on the broker) is
   * retried with backoff and reported once each time it starts; a non-retriable one (e.g.
   * CORRUPT_MESSAGE) stops the partition, is reported here and thrown to the reader.
   */
  onFetchError(listener: FetchErrorListener): () => void {
    this.fetchErrorListeners.add(listener);
    return () => this.fetchErrorListeners.delete(listener);
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
    let offset: CheckedStartOffset;
    try {
      offset = requireStartOffset(target.offset, `seek ${target.topic}/${target.partition}`);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    if (typeof offset === 'number') state.seek(offset);
    else state.seekTo(offset);
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
  seekToTimestamp(target: { topic: string; partition: number; timestamp: number | string | bigint }): Promise<void> {
    this.assertOpen();
    const state = this.assignment.require(target.topic, target.partition);
    let timestamp: number;
    try {
      timestamp = requireTimestamp(target.timestamp, `seekToTimestamp ${target.topic}/${target.partition}`);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    state.seekTo({ timestamp });
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

  // --- consumer groups -------------------------------------------------------------

  /**
   * Joins the consumer group (groupId) for these topics; resolves after the
   * coordinator's first answer (its partitions are being started). The group assigns
   * the partitions; each starts at the group's committed offset or, without one, per
   * fromBeginning (default: autoOffsetReset). Calling it again changes the topics.
   */
  async subscribe(given: SubscribeOptions): Promise<void> {
    this.assertOpen();
    if (this.groupId === undefined) throw new SpoolError(Errors.INVALID_REQUEST, 'subscribe() needs a groupId: client.consumer({ groupId })');
    const options = checkOptions(withTopicsFromTopic(given), { where: 'subscribe()', ...SUBSCRIBE_OPTIONS });
    const topics = options.topics;
    if (!Array.isArray(topics) || topics.length === 0 || !topics.every((topic) => typeof topic === 'string' && topic !== '')) {
      throw new SpoolError(Errors.INVALID_TOPIC, 'subscribe() needs { topics: [names] }');
    }
    if (options.onAssigned !== undefined) this.assignedListeners.add(options.onAssigned);
    if (options.onRevoked !== undefined) this.revokedListeners.add(options.onRevoked);
    if (this.member !== null) {
      this.memberOptions!.topics = topics;
      this.member.subscribe(topics);
      return;
    }
    if (this.assignment.size > 0) throw new SpoolError(Errors.INVALID_REQUEST, 'subscribe() after assign(): use one or the other');
    const startWithoutCommit = options.fromBeginning === undefined ? this.autoOffsetReset : options.fromBeginning ? 'earliest' : 'latest';
    this.memberOptions = {
      groupId: this.groupId,
      topics,
      sessionTimeoutMs: this.sessionTimeoutMs,
      startWithoutCommit,
      autoCommit: this.autoCommit,
      ...(this.assignor !== undefined ? { assignor: this.assignor } : {}),
    };
    this.member = new GroupMember(this.client, this.memberHooks(), this.committer!, this.memberOptions, this.coordinator!);
    this.watchdog.start();
    await this.member.join();
  }

  /**
   * Leaves the group (the partitions move: processed positions committed, onRevoked, leave)
   * and marks the member for a rejoin when the reader comes back (run() loop, next()).
   */
  private leaveAndRejoinLater(reason: string): Promise<void> {
    const member = this.member;
    if (member === null || this.closed) return Promise.resolve();
    this.watchdog.stop();
    const leaving = (async () => {
      const owned = member.ownedPartitions();
      this.removePartitions(owned);
      await member.close(reason);
      this.committer?.forget(owned);
    })();
    this.rejoin = leaving;
    leaving.catch(() => undefined);
    return leaving;
  }

  /** After leaveAndRejoinLater: waits for the leave, then joins again as a new member. */
  private async rejoinIfLeft(): Promise<void> {
    const leaving = this.rejoin;
    if (leaving === null) return;
    await leaving.catch(() => undefined);
    if (this.rejoin !== leaving || this.closed) return;
    this.rejoin = null;
    this.member = new GroupMember(this.client, this.memberHooks(), this.committer!, this.memberOptions!, this.coordinator!);
    this.watchdog.start();
    await this.member.join();
  }

  /**
   * Commits offsets to the group: without arguments every processed position (in a
   * `for await` loop the message being handled counts as processed); with offsets,
   * exactly those (`offset` = the next one to consume). Resolves when the broker has them.
   */
  commit(offsets?: CommitOffsetInput[]): Promise<void> {
    if (this.committer === null) return Promise.reject(new SpoolError(Errors.INVALID_REQUEST, 'commit() needs a groupId: client.consumer({ groupId })'));
    if (offsets !== undefined) return this.committer.commitOffsets(offsets);
    this.markLastProcessed();
    return this.committer.commitProcessed();
  }

  /** Called with the partitions the group gave this consumer (after their start positions are set). Returns an unsubscribe. */
  onAssigned(listener: PartitionsListener): () => void {
    this.assignedListeners.add(listener);
    return () => this.assignedListeners.delete(listener);
  }

  /** Called with partitions taken away (after their processed positions are committed; `lost`: fenced, nothing committed). */
  onRevoked(listener: PartitionsListener): () => void {
    this.revokedListeners.add(listener);
    return () => this.revokedListeners.delete(listener);
  }

  /** The group member's id and epoch (null without subscribe()). */
  groupMembership(): { memberId: string; memberEpoch: number } | null {
    return this.member === null ? null : { memberId: this.member.memberId, memberEpoch: this.member.memberEpoch };
  }

  private memberHooks(): MemberConsumer {
    return {
      addPartitions: (partitions) => (this.closed ? Promise.resolve() : this.addPartitions(partitions)),
      removePartitions: (partitions) => this.removePartitions(partitions),
      readerReleased: (partitions, cancel) => this.readerReleased(partitions, cancel),
      fail: (error) => this.fetcher.fail(error),
      position: ({ topic, partition }) => this.assignment.get(topic, partition)?.consumeOffset ?? -1,
      assignedListeners: this.assignedListeners,
      revokedListeners: this.revokedListeners,
    };
  }

  /** The partition of the message (iterator) or handler (run) the reader is on, if any. */
  private readerPartition(): PartitionState | null {
    if (this.last !== null) return this.lastState;
    return this.handling;
  }

  /** Resolves once the reader holds no message of these partitions (or `cancel` aborts). */
  private readerReleased(partitions: TopicPartition[], cancel: AbortSignal): Promise<void> {
    const keys = new Set(partitions.map(({ topic, partition }) => partitionKey(topic, partition)));
    const holds = (): boolean => {
      const state = this.readerPartition();
      return state !== null && keys.has(partitionKey(state.topic, state.partition));
    };
    if (!holds() || cancel.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (holds() && !cancel.aborted) return;
        this.readerWaiters.delete(check);
        cancel.removeEventListener('abort', check);
        resolve();
      };
      this.readerWaiters.add(check);
      cancel.addEventListener('abort', check, { once: true });
    });
  }

  private readerMoved(): void {
    for (const waiter of [...this.readerWaiters]) waiter();
  }

  private assertNotSubscribed(what: string): void {
    if (this.member !== null) throw new SpoolError(Errors.INVALID_REQUEST, `${what} is not available after subscribe(): the group assigns the partitions`);
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
    this.watchdog.polls++;
    if (this.rejoin !== null) {
      return this.rejoinIfLeft()
        .then(() => this.nextMessageSlow())
        .catch((error: unknown) => {
          this.reading = false;
          throw error;
        });
    }
    let message: ConsumedMessage | null;
    try {
      message = this.nextBuffered();
    } catch (error) {
      // A partition error ends this iteration; a new one may start (after a seek past it).
      this.reading = false;
      return Promise.reject(error as Error);
    }
    if (message !== null) {
      this.last = message;
      return Promise.resolve({ value: message, done: false });
    }
    return this.nextMessageSlow().catch((error: unknown) => {
      this.reading = false;
      throw error;
    });
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
    const { eachMessage, eachBatch } = checkOptions(config, { where: 'run()', ...RUN_OPTIONS });
    if (eachMessage === undefined && eachBatch === undefined) throw new SpoolError(Errors.INVALID_REQUEST, 'run() needs eachMessage or eachBatch');
    this.beginReading();
    try {
      while (!this.closed) {
        if (eachBatch !== undefined) {
          const batch = this.nextBatch();
          if (batch !== null) await this.handleBatch(batch, eachBatch);
          else if (!(await this.loadChunk())) return;
          if (this.rejoin !== null) await this.rejoinIfLeft();
          continue;
        }
        const message = this.nextBuffered();
        if (message === null) {
          if (!(await this.loadChunk())) return;
          continue;
        }
        const state = this.lastState!;
        this.handling = state;
        this.watchdog.polls++;
        const payload: EachMessagePayload = { topic: message.topic, partition: message.partition, message };
        let outcome: HandlerOutcome = 'ok';
        try {
          const result = eachMessage!(payload);
          if (result !== undefined && typeof (result as Promise<void>).then === 'function') await result;
        } catch (error) {
          outcome = await this.handlerFailed(error, () => eachMessage!(payload), state);
        }
        if (outcome === 'ok') this.processed(state, message.offset + 1);
        this.handling = null;
        if (this.readerWaiters.size > 0) this.readerMoved();
        if (outcome === 'restart') await this.restartAfterFailure(state, message.offset);
        if (this.rejoin !== null) await this.rejoinIfLeft();
      }
    } finally {
      this.reading = false;
      this.handling = null;
      if (this.readerWaiters.size > 0) this.readerMoved();
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
    this.handling = state;
    this.watchdog.polls++;
    const payload: EachBatchPayload = {
      batch,
      resolveOffset: (offset) => {
        resolved = Math.max(resolved, offset);
      },
      isRunning: () => !this.closed,
      isStale: () => state.epoch !== epoch || !state.assigned,
    };
    let outcome: HandlerOutcome = 'ok';
    try {
      await eachBatch(payload);
    } catch (error) {
      try {
        outcome = await this.handlerFailed(error, () => eachBatch(payload), state);
      } catch (finalError) {
        // What the handler resolved before failing is processed (and committed on leaving).
        if (resolved >= 0) this.processed(state, resolved + 1);
        throw finalError;
      }
    }
    if (outcome !== 'ok') {
      if (resolved >= 0) this.processed(state, resolved + 1);
      this.handling = null;
      if (this.readerWaiters.size > 0) this.readerMoved();
      if (outcome === 'restart') await this.restartAfterFailure(state, resolved >= 0 ? resolved + 1 : first.offset);
      return;
    }
    if (state.epoch !== epoch || !state.assigned) {
      // Revoked meanwhile: what the handler resolved is processed and may still be committed
      // (the rest is not claimed: a handler that saw isStale() may have stopped early).
      if (!state.assigned && resolved >= 0) this.processed(state, resolved + 1);
    } else this.processed(state, (resolved >= 0 ? resolved : batch.lastOffset()) + 1);
    this.handling = null;
    if (this.readerWaiters.size > 0) this.readerMoved();
  }

  /**
   * A handler threw: retried with the consumer's retry policy (handler-retry.ts). Resolves
   * 'ok' (a retry succeeded), 'dropped' (closed, or the partition moved meanwhile: the
   * message stays unprocessed) or 'restart'; when restartOnFailure says no, a group member
   * leaves the group (the consumer closes, so its partitions move) and the error is thrown.
   */
  private async handlerFailed(error: unknown, invoke: () => unknown, state: PartitionState): Promise<HandlerOutcome> {
    const epoch = state.epoch;
    const where = `${state.topic}/${state.partition}`;
    try {
      const outcome = await retryHandler(error, invoke, {
        policy: this.handlerRetry,
        signal: this.closeController.signal,
        stillValid: () => state.epoch === epoch && state.assigned,
        restartOnFailure: this.restartOnFailure,
        onRetry: (cause, attempt, delayMs) =>
          this.client.logger.warn({ groupId: this.groupId, topic: state.topic, partition: state.partition, attempt, delayMs, error: cause }, `handler failed on ${where}, retry ${attempt + 1} in ${delayMs} ms: ${cause.message}`),
        onGiveUp: (lastError, restart) => this.client.notify('group.crash', { groupId: this.groupId, error: lastError, restart }),
      });
      return outcome;
    } catch (finalError) {
      if (this.member !== null) {
        this.handling = null;
        this.reading = false;
        await this.close();
      }
      throw finalError;
    }
  }

  /** restartOnFailure: a member leaves and rejoins (the partitions may move); without a group the partition goes back to `offset`. */
  private async restartAfterFailure(state: PartitionState, offset: number): Promise<void> {
    if (this.closed) return;
    if (this.member !== null) {
      await this.leaveAndRejoinLater('a handler failed after its retries (restartOnFailure)');
      await this.rejoinIfLeft();
      return;
    }
    if (!state.assigned) return;
    state.seek(offset);
    await this.afterPositionChange([state]).catch(() => undefined); // a failure is reported by the fetch loop
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
    if (this.readerWaiters.size > 0) this.readerMoved();
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
        const message = this.records[this.recordIndex++]!;
        if (message.offset < state.consumeOffset) continue;
        state.consumeOffset = message.offset + 1;
        this.lastState = state;
        return message;
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
      const records = this.records;
      // Usually the whole batch is deliverable: hand out the decoded array itself.
      const messages = records.length > 0 && records[0]!.offset >= state.consumeOffset ? records : records.filter((message) => message.offset >= state.consumeOffset);
      this.recordIndex = records.length;
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
      try {
        this.records = decodeBatchWith(buffer, position, messageFactory(chunk.state)).records;
      } catch (cause) {
        throw this.undecodable(chunk, header.baseOffset, header.baseOffset + header.lastOffsetDelta, cause);
      }
      this.recordIndex = 0;
      return true;
    }
    return false;
  }

  /**
   * A batch that cannot be decoded (garbage records under a valid CRC, an unknown codec):
   * the partition stops there (its later buffered data is dropped, so nothing is skipped
   * silently) until the user seeks, e.g. to the error's nextOffset to skip the batch.
   */
  private undecodable(chunk: FetchedChunk, baseOffset: number, lastOffset: number, cause: unknown): PartitionFetchError {
    const { state } = chunk;
    const kind = cause instanceof SpoolError && cause.kind !== Errors.UNKNOWN ? cause.kind : Errors.CORRUPT_MESSAGE;
    const detail = cause instanceof Error ? cause.message : String(cause);
    const error = new PartitionFetchError(
      kind,
      `${state.topic}/${state.partition}: the batch at offsets ${baseOffset}..${lastOffset} cannot be decoded (${detail}); seek to offset ${lastOffset + 1} to skip it`,
      state.topic,
      state.partition,
      Math.max(baseOffset, state.consumeOffset),
      lastOffset + 1,
      { cause },
    );
    this.dropChunk();
    this.fetcher.stopPartition(state, error, true);
    return error;
  }

  private assertOpen(): void {
    if (this.closed) throw closedError('consumer');
  }

  /** Stops fetching, ends iteration and run(), closes the fetch connection. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeController.abort();
    this.watchdog.stop();
    this.markLastProcessed();
    const member = this.member;
    if (member !== null || this.committer !== null) {
      // A run() handler may still be working: its message counts once it finishes.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(), CLOSE_READER_WAIT_MS);
      await this.readerReleased(this.assignment.list(), timeout.signal);
      clearTimeout(timer);
    }
    await this.fetcher.stop();
    // A leave in progress (restart, maxPollIntervalMs) finishes first: it commits and says goodbye.
    if (this.rejoin !== null) await this.rejoin.catch(() => undefined);
    if (member !== null) await member.close();
    else if (this.committer !== null && this.autoCommit) {
      // Standalone (assign() with a groupId): commit what was processed, best effort.
      await this.committer.commitProcessed().catch(() => undefined);
    }
    this.committer?.stop();
    await this.coordinator?.close();
    this.dropChunk();
    this.assignment.clear();
    this.client.forget(this);
  }
}

/** kafkajs's subscribe({ topic: 'name' }) is subscribe({ topics: ['name'] }). */
function withTopicsFromTopic(options: SubscribeOptions): SubscribeOptions {
  const { topic, ...rest } = (options ?? {}) as SubscribeOptions & { topic?: unknown };
  if (typeof topic !== 'string' || rest.topics !== undefined) return options;
  return { ...rest, topics: [topic] };
}

/** Decodes records straight into ConsumedMessages of `state`'s partition (one object per record). */
function messageFactory(state: PartitionState): RecordFactory<ConsumedMessage> {
  const { topic, partition } = state;
  return (offset, timestamp, key, value, headers) => {
    let headerMap = EMPTY_HEADERS;
    if (headers.length > 0) {
      headerMap = {};
      for (const [name, header] of headers) headerMap[name] = header;
    }
    return { topic, partition, offset, timestamp, key, value, headers: headerMap, headerList: headers };
  };
}

/** Checks an assignment entry; returns its start offset (undefined: the consumer's autoOffsetReset). */
function checkPartition(entry: PartitionAssignment): CheckedStartOffset | undefined {
  if (typeof entry.topic !== 'string' || entry.topic === '') throw new SpoolError(Errors.INVALID_TOPIC, 'assign() needs a topic');
  if (!Number.isInteger(entry.partition) || entry.partition < 0) {
    throw new SpoolError(Errors.UNKNOWN_PARTITION, `partition ${String(entry.partition)} of ${entry.topic} is not valid`);
  }
  return entry.offset === undefined ? undefined : requireStartOffset(entry.offset, `assign ${entry.topic}/${entry.partition}`);
}
