// Per-partition batching for the producer (Kafka's RecordAccumulator, simplified).
// Messages are appended to the open batch of their partition (one reusable
// BatchBuilder per partition: no per-message allocation). A batch is closed when the
// next message would take it past batchBytes, or when the linger timer fires: one
// timer per accumulator, started when the first message enters an empty accumulator,
// closes every open batch after lingerMs (except one whose partition still has a closed
// batch waiting to be sent: it keeps filling until that one is taken, see closeLingering).
// Closed batches wait in their partition's
// queue until the sender takes them (drain), and each partition has at most one
// request in flight (`inFlight`, `busy`), which is what keeps per-partition order across
// retries; an idempotent producer allows up to 5 (the broker's sequence checks keep order).
// Each message remembers (batch, offsetDelta) in its SendTracker so send() can
// resolve every offset when the batch's base offset is known.

import type { RecordInput } from '../records/index.js';

/** The part of records' BatchBuilder the accumulator uses (a fake can stand in for tests). */
export interface BatchBuilderLike {
  append(record: RecordInput, defaultTimestamp?: number): void;
  readonly recordCount: number;
  readonly sizeBytes: number;
  build(): Buffer;
  /** Takes back the buffer of a built batch nobody reads any more (optional). */
  recycle?(batch: Buffer): void;
}

/** One send() call: its messages' batches and offset deltas, resolved once all are acknowledged. */
export class SendTracker {
  readonly batches: Array<ProducerBatch | undefined>;
  readonly deltas: Int32Array;
  pendingBatches = 0;
  settled = false;

  constructor(
    readonly topic: string,
    readonly size: number,
    private readonly onDone: (tracker: SendTracker, error: Error | null) => void,
  ) {
    this.batches = new Array<ProducerBatch | undefined>(size);
    this.deltas = new Int32Array(size);
  }

  batchDone(): void {
    if (--this.pendingBatches === 0 && !this.settled) {
      this.settled = true;
      this.onDone(this, null);
    }
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.onDone(this, error);
  }
}

export class ProducerBatch {
  /** The encoded batch, once closed. */
  buffer: Buffer | null = null;
  recordCount = 0;
  /** Offset of the first record, once acknowledged (-1 with acks 0). */
  baseOffset = -1;
  /** Produce attempts that failed with a retriable error. */
  attempts = 0;
  /** Idempotent producer: the base sequence and producer id stamped when first sent (-1 before). */
  sequence = -1;
  producerId = -1;
  readonly trackers: SendTracker[] = [];

  constructor(readonly queue: PartitionQueue) {}

  get sizeBytes(): number {
    return this.buffer === null ? 0 : this.buffer.length;
  }

  /** The batch is acknowledged at `baseOffset`: every send() that had messages here moves on. */
  complete(baseOffset: number): void {
    this.baseOffset = baseOffset;
    for (const tracker of this.trackers) tracker.batchDone();
  }

  fail(error: Error): void {
    for (const tracker of this.trackers) tracker.fail(error);
  }
}

export class PartitionQueue {
  open: ProducerBatch | null = null;
  readonly ready: ProducerBatch[] = [];
  readyBytes = 0;
  /** Requests holding this partition's batches that are in flight. */
  inFlight = 0;
  /**
   * A request of this partition failed: nothing new is sent until every request in flight
   * has settled and the failed batches (`failed`) are back at the head of `ready` and their
   * backoff is over, so nothing overtakes them.
   */
  blocked = false;
  readonly failed: ProducerBatch[] = [];
  /** Idempotent: the sequence of a batch that failed for good while later ones were out (-1: none). */
  rewindTo = -1;
  /** The failed batches are back in `ready` and the backoff timer runs. */
  retryScheduled = false;
  /**
   * Linger expired while a closed batch of this partition still waited to be sent: the open
   * batch stays open (and keeps filling) until that one is taken, then closes (take()). It is
   * not counted in the accumulator's openBatches any more.
   */
  closeWhenTaken = false;

  /** No request may take this partition's batches now. */
  get busy(): boolean {
    return this.blocked || this.inFlight > 0;
  }

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly builder: BatchBuilderLike,
  ) {}
}

export interface AccumulatorOptions {
  lingerMs: number;
  batchBytes: number;
  newBuilder: () => BatchBuilderLike;
  /** A batch was closed (full or linger): the sender should run soon. */
  onReady: () => void;
  /** A batch of this partition was closed (the sticky partitioner moves on). */
  onBatchClosed?: (topic: string, partition: number) => void;
  /**
   * Adaptive linger: asked when the first message enters an empty accumulator; true means
   * nothing is in flight, so the batch closes at the end of the current turn (as with
   * lingerMs 0) instead of waiting lingerMs for company that may never come.
   */
  sendAtOnce?: () => boolean;
}

export class Accumulator {
  private readonly queues = new Map<string, Map<number, PartitionQueue>>();
  /** Queues with a non-empty ready list or open batch, in the order they got data. */
  private readonly active = new Set<PartitionQueue>();
  private openBatches = 0;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** lingerMs 0: a microtask that closes the open batches is queued. */
  private lingerMicrotask = false;
  /** Bytes of closed batches not yet acknowledged, plus open ones (approximate). */
  bufferedBytes = 0;

  constructor(private readonly options: AccumulatorOptions) {}

  queue(topic: string, partition: number): PartitionQueue {
    let byPartition = this.queues.get(topic);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.queues.set(topic, byPartition);
    }
    let queue = byPartition.get(partition);
    if (queue === undefined) {
      queue = new PartitionQueue(topic, partition, this.options.newBuilder());
      byPartition.set(partition, queue);
    }
    return queue;
  }

  /**
   * Appends `record` to its partition's open batch and records where it went in
   * `tracker` (message `index`). `estimatedBytes` decides whether the open batch must be
   * closed first so the batch stays under batchBytes (a single bigger message still
   * gets a batch of its own).
   */
  /** True when a record of `estimatedBytes` would not fit the open batch of `queue` (append would close it first). */
  wouldOverflow(queue: PartitionQueue, estimatedBytes: number): boolean {
    return queue.open !== null && queue.builder.recordCount > 0 && queue.builder.sizeBytes + estimatedBytes > this.options.batchBytes;
  }

  append(queue: PartitionQueue, record: RecordInput, estimatedBytes: number, tracker: SendTracker, index: number, nowMs?: number): void {
    let batch = queue.open;
    if (batch !== null && this.wouldOverflow(queue, estimatedBytes)) {
      this.close(queue);
      batch = null;
    }
    if (batch === null) {
      batch = new ProducerBatch(queue);
      queue.open = batch;
      this.active.add(queue);
      if (this.openBatches++ === 0) this.startLinger();
    }
    const builder = queue.builder;
    tracker.batches[index] = batch;
    tracker.deltas[index] = builder.recordCount;
    const trackers = batch.trackers;
    if (trackers[trackers.length - 1] !== tracker) {
      trackers.push(tracker);
      tracker.pendingBatches++;
    }
    const before = builder.sizeBytes;
    builder.append(record, nowMs);
    this.bufferedBytes += builder.sizeBytes - before;
    if (builder.sizeBytes >= this.options.batchBytes) this.close(queue);
  }

  /** Closes the open batch of `queue`: encodes it and moves it to the ready list. */
  close(queue: PartitionQueue): void {
    const batch = queue.open;
    if (batch === null) return;
    queue.open = null;
    const uncompressedBytes = queue.builder.sizeBytes;
    batch.recordCount = queue.builder.recordCount;
    batch.buffer = queue.builder.build();
    this.bufferedBytes += batch.buffer.length - uncompressedBytes;
    queue.ready.push(batch);
    queue.readyBytes += batch.buffer.length;
    if (queue.closeWhenTaken) queue.closeWhenTaken = false;
    else if (--this.openBatches === 0) this.stopLinger();
    this.options.onBatchClosed?.(queue.topic, queue.partition);
    this.options.onReady();
  }

  /** Closes every open batch (flush, close, an idle producer). */
  closeAll(): void {
    for (const queue of this.active) if (queue.open !== null) this.close(queue);
  }

  /**
   * Linger expiry: closes the open batches, except where a closed batch of the same partition
   * still waits for room in flight: closing another one there would only queue a second small
   * batch behind it (with lingerMs 0 and the idempotent producer's one batch per request, a
   * backlog of one-message requests that never catches up: at 5,000 msg/s with
   * `--fsync always`, 2,000 msg/s and seconds of latency). That batch stays open, keeps
   * filling, and closes when the waiting one is taken (take()), so a backed-up producer
   * batches by itself while a lone message still goes at once.
   */
  private closeLingering(): void {
    for (const queue of this.active) {
      if (queue.open === null || queue.closeWhenTaken) continue;
      if (queue.ready.length === 0) {
        this.close(queue);
        continue;
      }
      queue.closeWhenTaken = true;
      if (--this.openBatches === 0) this.stopLinger();
    }
  }

  /** Queues with ready batches, not blocked, and fewer than `maxInFlight` requests in flight, oldest first. */
  *sendable(maxInFlight = 1): Generator<PartitionQueue> {
    for (const queue of this.active) {
      if (!queue.blocked && queue.inFlight < maxInFlight && queue.ready.length > 0) yield queue;
    }
  }

  /** Takes ready batches of `queue` up to `maxBytes` (at least one). */
  take(queue: PartitionQueue, maxBytes: number): ProducerBatch[] {
    const taken: ProducerBatch[] = [];
    let bytes = 0;
    while (queue.ready.length > 0) {
      const next = queue.ready[0]!;
      if (taken.length > 0 && bytes + next.sizeBytes > maxBytes) break;
      queue.ready.shift();
      taken.push(next);
      bytes += next.sizeBytes;
    }
    queue.readyBytes -= bytes;
    if (queue.closeWhenTaken && queue.ready.length === 0) this.close(queue);
    this.retire(queue);
    return taken;
  }

  /** Puts batches back at the head of their queue (a retry keeps them ahead of later ones). */
  requeue(queue: PartitionQueue, batches: ProducerBatch[]): void {
    queue.ready.unshift(...batches);
    for (const batch of batches) queue.readyBytes += batch.sizeBytes;
    this.active.add(queue);
  }

  /** Acknowledged or failed batches free their buffer budget. */
  release(batches: ProducerBatch[]): void {
    for (const batch of batches) this.bufferedBytes -= batch.sizeBytes;
  }

  /**
   * After release(): hands the batches' buffers back to their builder for reuse. Only for
   * batches whose request was answered by the broker (it has read the whole frame, so no
   * write of ours still holds the bytes); never after a timeout or an acks-0 write.
   */
  recycle(batches: ProducerBatch[]): void {
    for (const batch of batches) {
      const buffer = batch.buffer;
      if (buffer === null) continue;
      batch.buffer = null;
      batch.queue.builder.recycle?.(buffer);
    }
  }

  private retire(queue: PartitionQueue): void {
    if (queue.ready.length === 0 && queue.open === null) this.active.delete(queue);
  }

  /** After a request completes (or its batches are set aside for a retry) the partition may be sent again. */
  unbusy(queue: PartitionQueue): void {
    queue.inFlight--;
    this.retire(queue);
  }

  /** The backoff after a failure is over. */
  unblock(queue: PartitionQueue): void {
    queue.blocked = false;
    this.retire(queue);
  }

  get hasOpenBatches(): boolean {
    return this.openBatches > 0;
  }

  get isEmpty(): boolean {
    return this.active.size === 0;
  }

  private startLinger(): void {
    if (this.lingerTimer !== null || this.lingerMicrotask) return;
    if (this.options.lingerMs <= 0 || this.options.sendAtOnce?.() === true) {
      // lingerMs 0: close the batch as soon as the current synchronous code (this send(),
      // and any other send() of the same turn) is done. setTimeout(0) would wait for the
      // next timers phase, about 1 ms: the whole latency budget of a lone message.
      this.lingerMicrotask = true;
      queueMicrotask(() => {
        if (!this.lingerMicrotask) return;
        this.lingerMicrotask = false;
        this.closeLingering();
      });
      return;
    }
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.closeLingering();
    }, this.options.lingerMs);
  }

  private stopLinger(): void {
    this.lingerMicrotask = false;
    if (this.lingerTimer === null) return;
    clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  /** Stops the linger timer (the owner has closed every batch or given up). */
  dispose(): void {
    this.stopLinger();
  }
}
