// The consumer's fetch loop, on a connection of its own (a long-poll fetch parked on the
// broker must not hold back produce or admin responses on the shared connection).
// One Fetch is in flight at a time and the next one is sent as soon as a response is
// buffered, so the broker is already working on the next data while the user handles
// the current one (fetch-ahead). Fetched bytes are counted until the reader has gone
// through them; at maxBufferedBytes the loop stops fetching until the reader catches up
// (backpressure: a slow user never makes the buffer grow without bound). A fetch
// returns whole batches: each partition's slice is cut at the last whole batch and the
// partition's fetch offset moves to the end of that batch. Records are not decoded here.
//
// Partition errors: a retriable one (the broker's KAFKA_STORAGE_ERROR / NOT_ENOUGH_SPACE:
// a partition offline after a disk error, which comes back once the disk has room) is
// retried with backoff and reported once per episode to the error listener; any other
// (CORRUPT_MESSAGE, UNKNOWN_TOPIC, ...) stops that partition only: the error is queued
// behind the data already buffered for it and thrown to the reader as a
// PartitionFetchError (topic, partition, offset, nextOffset); the other partitions go on.
// The partition stays stopped until it is sought (or reassigned).

import { ApiKey, RequestLimits, type FetchPartitionResult, type FetchResponse } from '../protocol/index.js';
import { forEachBatch } from '../records/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import { clientMarks, stageTraceOn, traceReads } from '../util/stage-trace.js';
import type { Client } from './client.js';
import type { Connection } from './connection.js';
import { PartitionFetchError, errorFromCode, isRetriable } from './errors.js';
import { resolvePositions, type Assignment, type OffsetSpecifier, type PartitionState } from './assignment.js';
import { sleep } from './retry.js';
import { NO_LEADER, isNetworkError, leaderMoved } from './metadata.js';

export interface FetchOptions {
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  maxBytesPerPartition: number;
  maxBufferedBytes: number;
  autoOffsetReset: 'earliest' | 'latest';
}

/** A partition error queued for the reader, behind the partition's data fetched before it. */
interface FailedChunk {
  state: PartitionState;
  epoch: number;
  error: PartitionFetchError;
}

export type FetchErrorReporter = (error: PartitionFetchError) => void;

/** Whole record batches of one partition, as fetched; decoded by the reader on demand. */
export interface FetchedChunk {
  state: PartitionState;
  /** The partition's epoch when fetched: a later seek makes the chunk stale. */
  epoch: number;
  records: Buffer;
  highWatermark: number;
}

export class Fetcher {
  private readonly chunks: Array<FetchedChunk | FailedChunk> = [];
  /** Partitions stopped by a non-retriable error, with the epoch they stopped at (a seek moves on). */
  private readonly stoppedAt = new Map<PartitionState, number>();
  /** The code of the retriable error each failing partition last reported (one report per episode). */
  private readonly failing = new Map<PartitionState, string>();
  private bufferedBytes = 0;
  private failure: Error | null = null;
  private readerWaiter: (() => void) | null = null;
  private loopWaiter: (() => void) | null = null;
  private loopRunning: Promise<void> | null = null;
  private connection: Connection | null = null;
  private readonly abort = new AbortController();
  private stopped = false;
  /** resolve() calls in progress: the loop leaves their partitions to them. */
  private resolving = 0;
  private fetchInFlight = false;
  /** The in-flight fetch was abandoned on purpose (interrupt): no backoff for its error. */
  private interrupted = false;
  /** Where the next fetch's window of partitions starts (see window()). */
  private windowStart = 0;
  /** A cluster: the fetch in flight to each leader, on a connection of its own per leader. */
  private readonly leaderFetches = new Map<number, Promise<void>>();
  private readonly leaderConnections = new Map<number, Connection>();
  /** Retriable failures in a row per leader (its backoff). */
  private readonly leaderFailures = new Map<number, number>();
  /** Partitions in a fetch in flight (a cluster): not asked of another leader meanwhile. */
  private readonly fetching = new Set<PartitionState>();
  /** Connections closed by interrupt() under a fetch: its error is not a failure. */
  private readonly interruptedConnections = new WeakSet<Connection>();
  private refreshingLeaders = false;

  constructor(
    private readonly client: Client,
    private readonly assignment: Assignment,
    private readonly options: FetchOptions,
    private readonly report: FetchErrorReporter = () => undefined,
  ) {}

  /** Bytes fetched and not yet released by the reader. */
  get buffered(): number {
    return this.bufferedBytes;
  }

  /** Starts the loop (idempotent); called on assignment. */
  start(): void {
    if (this.stopped || this.loopRunning !== null) return;
    this.loopRunning = this.loop().finally(() => {
      this.loopRunning = null;
      this.wakeReader();
    });
  }

  /** The assignment or a position changed, or buffer space was freed. */
  wake(): void {
    const waiter = this.loopWaiter;
    this.loopWaiter = null;
    waiter?.();
  }

  /**
   * A position or the assignment changed. A fetch may be parked on the broker for up to
   * maxWaitMs with the old positions: its connection is closed (the broker drops a parked
   * fetch of a closed connection) so the new positions are fetched at once.
   */
  interrupt(): void {
    const connection = this.connection;
    if (this.fetchInFlight && connection !== null) {
      this.connection = null;
      this.interrupted = true;
      void this.client.releaseConnection(connection);
    }
    for (const [node, leaderConnection] of this.leaderConnections) {
      if (!this.leaderFetches.has(node)) continue;
      this.leaderConnections.delete(node);
      this.interruptedConnections.add(leaderConnection);
      void this.client.releaseConnection(leaderConnection);
    }
    this.wake();
  }

  /**
   * The next buffered chunk, or null when the consumer stopped; throws a fatal fetch error,
   * or the PartitionFetchError of a stopped partition (once, unless sought meanwhile).
   */
  async nextChunk(): Promise<FetchedChunk | null> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        if (!('error' in chunk)) return chunk;
        if (chunk.epoch === chunk.state.epoch && chunk.state.assigned) throw chunk.error;
        continue;
      }
      if (this.failure) {
        const failure = this.failure;
        this.failure = null;
        throw failure;
      }
      if (this.stopped) return null;
      await new Promise<void>((resolve) => (this.readerWaiter = resolve));
    }
  }

  /** The reader is done with a chunk: its bytes leave the buffer budget. */
  release(chunk: FetchedChunk): void {
    this.bufferedBytes -= chunk.records.length;
    if (this.bufferedBytes < this.options.maxBufferedBytes) this.wake();
  }

  /** Drops buffered chunks of partitions that were sought or unassigned. */
  dropStale(): void {
    for (const state of this.stoppedAt.keys()) if (!state.assigned || this.stoppedAt.get(state) !== state.epoch) this.stoppedAt.delete(state);
    for (let index = this.chunks.length - 1; index >= 0; index--) {
      const chunk = this.chunks[index]!;
      if (chunk.epoch !== chunk.state.epoch || !chunk.state.assigned) {
        this.chunks.splice(index, 1);
        if (!('error' in chunk)) this.bufferedBytes -= chunk.records.length;
      }
    }
    this.wake();
  }

  /** Resolves pending positions now (assign / seek), with the client's retries. */
  async resolve(states: PartitionState[]): Promise<void> {
    this.resolving++;
    try {
      await resolvePositions(this.client, states);
    } finally {
      this.resolving--;
      this.wake();
    }
  }

  private wakeReader(): void {
    const waiter = this.readerWaiter;
    this.readerWaiter = null;
    waiter?.();
  }

  /** Ends the reader with an error (also used by the group member for a fatal group error). */
  fail(error: Error): void {
    this.failure = error;
    this.wakeReader();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        const pending = [...this.assignment.all()].filter((state) => state.pendingSpec !== null);
        if (pending.length > 0 && this.resolving === 0) await resolvePositions(this.client, pending);
        const fetchable = [...this.assignment.all()].filter(
          (state) => !state.paused && state.pendingSpec === null && state.fetchOffset >= 0 && this.stoppedAt.get(state) !== state.epoch,
        );
        if (fetchable.length === 0 || this.bufferedBytes >= this.options.maxBufferedBytes) {
          await new Promise<void>((resolve) => (this.loopWaiter = resolve));
          continue;
        }
        // Who leads: learnt before the first fetch (a consumer given partitions by assign() has
        // not asked Metadata yet), and again when a broker said a leader moved.
        const metadata = this.client.metadata;
        if (!metadata.known || (metadata.anyStale && fetchable.some((state) => metadata.isStale(state.topic)))) {
          if (!metadata.known) for (const state of fetchable) metadata.markStale(state.topic);
          await metadata.refreshLeaders();
        }
        if (metadata.routed || this.leaderFetches.size > 0) {
          this.fetchFromLeaders(fetchable);
          await new Promise<void>((resolve) => (this.loopWaiter = resolve));
          continue;
        }
        this.connection ??= this.client.createConnection();
        this.interrupted = false;
        this.fetchInFlight = true;
        const retriable = await this.fetchOnce(this.window(fetchable), this.connection, true);
        failures = retriable ? failures + 1 : 0;
        if (retriable) await sleep(this.client.retryPolicy.delayMs(Math.min(failures - 1, 10)), this.abort.signal);
      } catch (error) {
        if (this.stopped) return;
        if (this.interrupted) {
          this.interrupted = false; // abandoned by interrupt(): fetch again from the new positions now
          continue;
        }
        if (isRetriable(error)) {
          // The broker may be restarting: keep trying, with backoff, until closed.
          failures++;
          try {
            await sleep(this.client.retryPolicy.delayMs(Math.min(failures - 1, 10)), this.abort.signal);
          } catch {
            return; // aborted by stop()
          }
          continue;
        }
        this.fail(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
  }

  /**
   * At most the broker's maxPartitionsPerFetch partitions, a different window each time
   * when there are more, so every partition is fetched in turn.
   */
  private window(fetchable: PartitionState[]): PartitionState[] {
    const limit = RequestLimits.maxPartitionsPerFetch;
    if (fetchable.length <= limit) return fetchable;
    const start = this.windowStart % fetchable.length;
    this.windowStart = start + limit;
    const window = fetchable.slice(start, start + limit);
    if (window.length < limit) window.push(...fetchable.slice(0, limit - window.length));
    return window;
  }

  /** One Fetch. Returns true when a partition failed with a retriable error (back off). */
  /** `single`: the one fetch of a single broker (fetchInFlight tells interrupt() about it). */
  private async fetchOnce(states: PartitionState[], connection: Connection, single = false): Promise<boolean> {
    const { maxWaitMs, minBytes, maxBytes, maxBytesPerPartition, maxBufferedBytes } = this.options;
    const epochs = states.map((state) => state.epoch);
    const response = await this.client.send(
      ApiKey.Fetch,
      {
        maxWaitMs,
        minBytes,
        maxBytes: Math.max(1, Math.min(maxBytes, maxBufferedBytes - this.bufferedBytes)),
        partitions: states.map((state) => ({ topic: state.topic, partition: state.partition, offset: state.fetchOffset, maxBytes: maxBytesPerPartition })),
      },
      undefined,
      { connection, timeoutMs: this.client.requestTimeoutMs + maxWaitMs },
    ).finally(() => {
      if (single) this.fetchInFlight = false;
    });
    if (this.stopped) return false;
    const results = (response.header as unknown as FetchResponse).partitions ?? [];
    let position = 0;
    let retriable = false;
    let delivered = false;
    for (let index = 0; index < results.length; index++) {
      const result = results[index]!;
      const size = result.size ?? 0;
      const data = response.payload.subarray(position, position + size);
      position += size;
      const at = states[index]?.topic === result.topic && states[index]?.partition === result.partition ? index : states.findIndex((state) => state.topic === result.topic && state.partition === result.partition);
      const state = states[at];
      if (state === undefined || !state.assigned || state.epoch !== epochs[at]) continue; // sought meanwhile: stale
      const outcome = this.onPartition(state, result, data);
      if (outcome === 'retriable') retriable = true;
      if (outcome === 'data') delivered = true;
    }
    if (delivered) this.wakeReader();
    return retriable;
  }

  /**
   * A cluster: one Fetch per leader for its partitions, each on its own connection and on its
   * own schedule (a leader with data is fetched again at once while another's fetch is parked).
   * Partitions without a known leader wait for a metadata refresh. Called by the loop, which
   * then waits to be woken (a fetch settled, a refresh ended, a position changed).
   */
  private fetchFromLeaders(fetchable: PartitionState[]): void {
    const metadata = this.client.metadata;
    const groups = new Map<number, PartitionState[]>();
    let needLeaders = false;
    for (const state of fetchable) {
      if (this.fetching.has(state)) continue;
      const leader = metadata.isStale(state.topic) ? NO_LEADER : metadata.leaderOf(state.topic, state.partition);
      if (leader === NO_LEADER) {
        metadata.markStale(state.topic);
        needLeaders = true;
        continue;
      }
      if (this.leaderFetches.has(leader)) continue;
      const group = groups.get(leader);
      if (group === undefined) groups.set(leader, [state]);
      else if (group.length < RequestLimits.maxPartitionsPerFetch) group.push(state);
    }
    if (needLeaders && !this.refreshingLeaders) {
      this.refreshingLeaders = true;
      void metadata.refreshLeaders().finally(() => {
        this.refreshingLeaders = false;
        this.wake();
      });
    }
    for (const [node, states] of groups) this.fetchFromLeader(node, states);
  }

  private fetchFromLeader(node: number, states: PartitionState[]): void {
    for (const state of states) this.fetching.add(state);
    let connection = this.leaderConnections.get(node);
    if (connection === undefined) {
      connection = this.client.createConnectionTo(node);
      this.leaderConnections.set(node, connection);
    }
    const fetched = connection;
    const run = (async (): Promise<void> => {
      let retriable: boolean;
      try {
        retriable = await this.fetchOnce(states, fetched);
      } catch (error) {
        if (this.stopped || this.interruptedConnections.has(fetched)) return;
        if (!isRetriable(error)) {
          this.fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        // The leader is down or unreachable: ask who leads now, on a new connection.
        for (const state of states) this.client.metadata.markStale(state.topic);
        if (this.leaderConnections.get(node) === fetched) this.leaderConnections.delete(node);
        void this.client.releaseConnection(fetched);
        retriable = true;
      }
      const failures = retriable ? (this.leaderFailures.get(node) ?? 0) + 1 : 0;
      this.leaderFailures.set(node, failures);
      if (failures > 0) await sleep(this.client.retryPolicy.delayMs(Math.min(failures - 1, 10)), this.abort.signal).catch(() => undefined);
    })().finally(() => {
      for (const state of states) this.fetching.delete(state);
      this.leaderFetches.delete(node);
      this.wake();
    });
    this.leaderFetches.set(node, run);
  }

  private onPartition(state: PartitionState, result: FetchPartitionResult, data: Buffer): 'data' | 'empty' | 'retriable' | 'stopped' {
    const error = errorFromCode(result.errorCode, result.errorMessage, `fetch ${state.topic}/${state.partition} at offset ${state.fetchOffset}`);
    if (error) {
      if (error.kind === Errors.OFFSET_OUT_OF_RANGE) {
        const spec: OffsetSpecifier = this.options.autoOffsetReset;
        state.seekTo(spec);
        return 'empty';
      }
      const nextOffset = typeof result.nextOffset === 'number' && result.nextOffset > state.fetchOffset ? result.nextOffset : null;
      const failure = new PartitionFetchError(error.kind, error.message, state.topic, state.partition, state.fetchOffset, nextOffset);
      if (error.retriable) {
        // Always for a refusal by a non-leader (only a cluster sends one: the client may not know
        // yet that it talks to one); for a network error only in a cluster.
        if (leaderMoved(error) && (this.client.metadata.routed || !isNetworkError(error))) this.client.metadata.markStale(state.topic);
        if (this.failing.get(state) !== failure.code) {
          this.failing.set(state, failure.code);
          this.report(failure);
        }
        return 'retriable';
      }
      this.stopPartition(state, failure, false);
      return 'stopped';
    }
    this.failing.delete(state);
    state.highWatermark = result.highWatermark;
    if (data.length === 0) return 'empty';
    let endOffset = -1;
    const wholeBytes = forEachBatch(data, (header) => {
      endOffset = header.baseOffset + header.lastOffsetDelta + 1;
    });
    if (wholeBytes === 0) {
      throw new SpoolError(Errors.CORRUPT_MESSAGE, `fetch of ${state.topic}/${state.partition} returned ${data.length} bytes without a whole batch`);
    }
    if (endOffset <= state.fetchOffset) return 'empty';
    state.fetchOffset = endOffset;
    if (stageTraceOn) {
      clientMarks.clientRead.ready(endOffset);
      clientMarks.clientRead.reached(traceReads.lastReadUs);
    }
    const records = wholeBytes === data.length ? data : data.subarray(0, wholeBytes);
    this.chunks.push({ state, epoch: state.epoch, records, highWatermark: result.highWatermark });
    this.bufferedBytes += records.length;
    return 'data';
  }

  /**
   * Stops fetching `state` at its current epoch (until a seek) and reports `error`. From the
   * fetch loop (dropBuffered false) the error is queued behind the partition's buffered data
   * for the reader; from the reader (a batch that cannot be decoded: dropBuffered true) the
   * partition's later buffered data is dropped, since delivering it would skip the bad batch.
   */
  stopPartition(state: PartitionState, error: PartitionFetchError, dropBuffered: boolean): void {
    this.stoppedAt.set(state, state.epoch);
    this.failing.delete(state);
    this.report(error);
    if (dropBuffered) {
      for (let index = this.chunks.length - 1; index >= 0; index--) {
        const chunk = this.chunks[index]!;
        if (chunk.state !== state) continue;
        this.chunks.splice(index, 1);
        if (!('error' in chunk)) this.bufferedBytes -= chunk.records.length;
      }
      this.wake();
      return;
    }
    this.chunks.push({ state, epoch: state.epoch, error });
    this.wakeReader();
  }

  /** Stops the loop and closes the fetch connection (a parked fetch is abandoned). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort(new SpoolError(Errors.NETWORK_ERROR, 'consumer is closed'));
    this.wake();
    this.wakeReader();
    const connection = this.connection;
    this.connection = null;
    if (connection) await this.client.releaseConnection(connection);
    const leaderConnections = [...this.leaderConnections.values()];
    this.leaderConnections.clear();
    await Promise.all(leaderConnections.map((leaderConnection) => this.client.releaseConnection(leaderConnection)));
    await Promise.all([...this.leaderFetches.values()]);
    await this.loopRunning;
    this.chunks.length = 0;
    this.bufferedBytes = 0;
  }
}
