// One share-partition: the per-record delivery state of a share group on one topic
// partition (the model of Kafka's KIP-932 SharePartition).
//
// Offsets below `startOffset` are done (acknowledged or archived). Offsets in
// [startOffset, endOffset) are in flight and each has an entry; offsets at or past
// `endOffset` have never been handed out (Available, delivery count 0). The window
// endOffset - startOffset never exceeds `maxInFlightRecords`, so the state stays bounded
// however far behind a slow record holds the start offset.
//
//   Available --acquire--> Acquired --accept--> Acknowledged
//       ^                     |  |----reject / limit reached--> Archived (dead-letter)
//       |--release / lock expiry (below the delivery limit)
//
// Acquisition works from batch headers only ({ baseOffset, lastOffset }): the broker
// never decodes records to hand them out. A compacted batch may have holes; the client
// acknowledges every offset of an acquired range (holes as accept).
//
// Everything here is synchronous and takes time as an argument (tests use a manual clock).

import { assert } from '../util/assert.js';
import { Errors, type ErrorKind } from '../util/errors.js';

export const ShareRecordState = {
  AVAILABLE: 0,
  ACQUIRED: 1,
  ACKNOWLEDGED: 2,
  ARCHIVED: 4,
} as const;
export type ShareRecordState = (typeof ShareRecordState)[keyof typeof ShareRecordState];

export const AcknowledgeType = {
  ACCEPT: 1,
  RELEASE: 2,
  REJECT: 3,
  RENEW: 4,
} as const;
export type AcknowledgeType = (typeof AcknowledgeType)[keyof typeof AcknowledgeType];

export interface SharePartitionLimits {
  /** At most this many offsets between start and end offset (default 4,000). */
  maxInFlightRecords: number;
  /** How long an acquisition lock lasts (default 30 s). */
  lockDurationMs: number;
  /** Deliveries before a record goes to the dead-letter topic (default 5, range 2..10). */
  deliveryLimit: number;
}

export const ShareDefaults = {
  maxInFlightRecords: 4_000,
  lockDurationMs: 30_000,
  deliveryLimit: 5,
  minDeliveryLimit: 2,
  maxDeliveryLimit: 10,
} as const;

/** A contiguous run of acquired offsets with one delivery count. */
export interface AcquiredRange {
  firstOffset: number;
  lastOffset: number;
  deliveryCount: number;
}

/** Offsets of one record batch, read from its header (no record decoding). */
export interface BatchSpan {
  baseOffset: number;
  lastOffset: number;
}

export interface AcknowledgeRange {
  firstOffset: number;
  lastOffset: number;
  type: AcknowledgeType;
  /** release: not handed out again before now + delayMs. */
  delayMs?: number;
  /** The consumer's error text (release/reject), carried to the dead-letter record. */
  error?: string;
}

/** A record that must go to the dead-letter topic (already Archived here). */
export interface DeadLetter {
  offset: number;
  deliveryCount: number;
  lastError: string;
}

/** One run of the durable state: offsets with the same state and delivery count. */
export interface StateRun {
  firstOffset: number;
  lastOffset: number;
  state: ShareRecordState;
  deliveryCount: number;
}

/** Slots the window's arrays start with; they double as the window fills, up to maxInFlightRecords. */
const INITIAL_SLOTS = 64;

/**
 * The in-flight window is a ring of parallel typed arrays indexed by `offset & mask` (one
 * slot per offset in [startOffset, endOffset)): acquiring, acknowledging and advancing the
 * start touch array cells and allocate nothing per record (a Map of record objects cost
 * ~4 allocations and map operations per record on the share hot path). Error texts are
 * rare (a release or reject that gives one) and live in a Map by offset.
 */
export class SharePartition {
  startOffset: number;
  endOffset: number;
  /** Average stored bytes per offset of the last read (0 = none yet): sizes the next share read. */
  bytesPerRecord = 0;
  private mask = INITIAL_SLOTS - 1;
  private states = new Uint8Array(INITIAL_SLOTS);
  /** Times handed out (incremented at acquisition). */
  private deliveryCountsByOffset = new Uint8Array(INITIAL_SLOTS);
  private lockDeadlinesMs = new Float64Array(INITIAL_SLOTS);
  /** A released record with a delay is not acquired before this (monotonic ms). */
  private availableAtMs = new Float64Array(INITIAL_SLOTS);
  /** The member holding an Acquired record ('' otherwise): references to the member id strings. */
  private owners: string[] = new Array<string>(INITIAL_SLOTS).fill('');
  /** offset -> the consumer's last error text (release/reject), for the dead letter. */
  private readonly lastErrors = new Map<number, string>();

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly limits: SharePartitionLimits,
    startOffset = 0,
  ) {
    this.startOffset = startOffset;
    this.endOffset = startOffset;
  }

  inFlightCount(): number {
    return this.endOffset - this.startOffset;
  }

  /** Records currently acquired by any member. */
  acquiredCount(): number {
    let count = 0;
    for (let offset = this.startOffset; offset < this.endOffset; offset++) if (this.states[offset & this.mask] === ShareRecordState.ACQUIRED) count++;
    return count;
  }

  /** Acquired offsets held by one member (for release on leave). */
  acquiredBy(memberId: string): number[] {
    const offsets: number[] = [];
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] === ShareRecordState.ACQUIRED && this.owners[slot] === memberId) offsets.push(offset);
    }
    return offsets;
  }

  /** Whether the member holds any record here (idle-member check; no allocation). */
  holdsAny(memberId: string): boolean {
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] === ShareRecordState.ACQUIRED && this.owners[slot] === memberId) return true;
    }
    return false;
  }

  /** Delivery count histogram of in-flight records (describe). */
  deliveryCounts(): Map<number, number> {
    const histogram = new Map<number, number>();
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const count = this.deliveryCountsByOffset[offset & this.mask]!;
      histogram.set(count, (histogram.get(count) ?? 0) + 1);
    }
    return histogram;
  }

  /** The log start moved past records we track (retention): those are gone, skip them. */
  skipTo(logStartOffset: number): void {
    if (logStartOffset <= this.startOffset) return;
    for (let offset = this.startOffset; offset < Math.min(logStartOffset, this.endOffset); offset++) this.forget(offset);
    this.startOffset = logStartOffset;
    this.endOffset = Math.max(this.endOffset, logStartOffset);
  }

  /**
   * The first offset worth reading the log from: the lowest available record in flight,
   * or endOffset. Undefined when nothing can be acquired now (window full, all locked).
   */
  nextFetchOffset(nowMs: number): number | undefined {
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] === ShareRecordState.AVAILABLE && this.availableAtMs[slot]! <= nowMs) return offset;
    }
    return this.endOffset < this.startOffset + this.limits.maxInFlightRecords ? this.endOffset : undefined;
  }

  /**
   * Acquires up to maxRecords available offsets covered by the batches, for memberId.
   * A record about to get one of its last two deliveries is handed out alone (a poison
   * message must not drag its neighbours to the dead-letter topic with it).
   */
  acquire(memberId: string, batches: readonly BatchSpan[], maxRecords: number, nowMs: number): AcquiredRange[] {
    const ranges: AcquiredRange[] = [];
    let acquired = 0;
    const windowEnd = this.startOffset + this.limits.maxInFlightRecords;
    const aloneFrom = Math.max(1, this.limits.deliveryLimit - 2);
    const lockDeadlineMs = nowMs + this.limits.lockDurationMs;
    let last: AcquiredRange | undefined;
    outer: for (const batch of batches) {
      const batchEnd = Math.min(batch.lastOffset + 1, windowEnd);
      for (let offset = Math.max(batch.baseOffset, this.startOffset); offset < batchEnd; offset++) {
        if (acquired >= maxRecords) break outer;
        // The window grows one offset at a time, only as far as this acquisition looks.
        if (offset >= this.endOffset) this.extendTo(offset + 1, batch.baseOffset);
        const slot = offset & this.mask;
        if (this.states[slot] !== ShareRecordState.AVAILABLE || this.availableAtMs[slot]! > nowMs) continue;
        const deliveryCount = this.deliveryCountsByOffset[slot]!;
        const alone = deliveryCount >= aloneFrom;
        if (alone && acquired > 0) break outer;
        this.states[slot] = ShareRecordState.ACQUIRED;
        this.deliveryCountsByOffset[slot] = deliveryCount + 1;
        this.owners[slot] = memberId;
        this.lockDeadlinesMs[slot] = lockDeadlineMs;
        acquired++;
        if (last !== undefined && last.lastOffset === offset - 1 && last.deliveryCount === deliveryCount + 1) last.lastOffset = offset;
        else ranges.push((last = { firstOffset: offset, lastOffset: offset, deliveryCount: deliveryCount + 1 }));
        if (alone) break outer;
      }
      if (batchEnd <= batch.lastOffset) break; // the window ends inside this batch
    }
    this.advanceStart();
    return ranges;
  }

  /**
   * Checks that every offset of the range is acquired by memberId; answers an error
   * (nothing changed) or applies the acknowledgement, returning the records to dead-letter.
   */
  acknowledge(memberId: string, range: AcknowledgeRange, nowMs: number): { error: ErrorKind; message: string } | DeadLetter[] {
    if (range.lastOffset < range.firstOffset) {
      return { error: Errors.INVALID_REQUEST, message: `range ${range.firstOffset}..${range.lastOffset} is empty` };
    }
    for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
      const slot = offset & this.mask;
      if (offset < this.startOffset || offset >= this.endOffset || this.states[slot] !== ShareRecordState.ACQUIRED || this.owners[slot] !== memberId) {
        return {
          error: Errors.INVALID_RECORD_STATE,
          message: `offset ${offset} of ${this.topic}-${this.partition} is not acquired by member ${memberId}`,
        };
      }
    }
    const dead: DeadLetter[] = [];
    for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
      const slot = offset & this.mask;
      if (range.error !== undefined) this.lastErrors.set(offset, range.error);
      switch (range.type) {
        case AcknowledgeType.ACCEPT:
          this.states[slot] = ShareRecordState.ACKNOWLEDGED;
          this.owners[slot] = '';
          break;
        case AcknowledgeType.RENEW:
          this.lockDeadlinesMs[slot] = nowMs + this.limits.lockDurationMs;
          break;
        case AcknowledgeType.REJECT:
          this.archive(offset, dead);
          break;
        case AcknowledgeType.RELEASE:
          this.release(offset, nowMs + (range.delayMs ?? 0), dead);
          break;
        default:
          assert(false, `acknowledge type ${range.type as number} passed validation`);
      }
    }
    this.advanceStart();
    return dead;
  }

  /** Releases every acquired record whose lock passed; returns the dead letters and the next lock deadline. */
  expireLocks(nowMs: number): { dead: DeadLetter[]; released: number; nextDeadlineMs: number } {
    const dead: DeadLetter[] = [];
    let released = 0;
    let nextDeadlineMs = Number.POSITIVE_INFINITY;
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] !== ShareRecordState.ACQUIRED) continue;
      if (this.lockDeadlinesMs[slot]! <= nowMs) {
        if (!this.lastErrors.has(offset)) this.lastErrors.set(offset, 'acquisition lock expired');
        this.release(offset, nowMs, dead);
        released++;
      } else {
        nextDeadlineMs = Math.min(nextDeadlineMs, this.lockDeadlinesMs[slot]!);
      }
    }
    if (released > 0) this.advanceStart();
    return { dead, released, nextDeadlineMs };
  }

  /** Releases everything a member holds (it left or closed). */
  releaseMember(memberId: string, nowMs: number): DeadLetter[] {
    const dead: DeadLetter[] = [];
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] === ShareRecordState.ACQUIRED && this.owners[slot] === memberId) this.release(offset, nowMs, dead);
    }
    this.advanceStart();
    return dead;
  }

  /** The earliest lock deadline, for the expiry timer. */
  nextLockDeadlineMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      if (this.states[slot] === ShareRecordState.ACQUIRED) next = Math.min(next, this.lockDeadlinesMs[slot]!);
    }
    return next;
  }

  /**
   * The durable view: runs of equal (state, delivery count). Acquired records are written
   * as Available with their delivery count: after a restart nobody holds a lock.
   */
  stateRuns(): StateRun[] {
    const runs: StateRun[] = [];
    let last: StateRun | undefined;
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const slot = offset & this.mask;
      const stored = this.states[slot] as ShareRecordState;
      const state = stored === ShareRecordState.ACQUIRED ? ShareRecordState.AVAILABLE : stored;
      const deliveryCount = this.deliveryCountsByOffset[slot]!;
      if (last !== undefined && last.state === state && last.deliveryCount === deliveryCount) last.lastOffset = offset;
      else runs.push((last = { firstOffset: offset, lastOffset: offset, state, deliveryCount }));
    }
    return runs;
  }

  /** Rebuilds from the durable view (restart). */
  restore(startOffset: number, runs: readonly StateRun[]): void {
    this.lastErrors.clear();
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    for (const run of runs) {
      assert(run.firstOffset === this.endOffset, `share state run at ${run.firstOffset} does not follow ${this.endOffset}`);
      this.extendTo(run.lastOffset + 1, run.lastOffset + 1);
      for (let offset = run.firstOffset; offset <= run.lastOffset; offset++) {
        const slot = offset & this.mask;
        this.states[slot] = run.state;
        this.deliveryCountsByOffset[slot] = run.deliveryCount;
      }
    }
    this.advanceStart();
  }

  /**
   * Moves the start offset (admin reset, only while the group has no members). Forward
   * inside the in-flight window: the records below the new start are dropped, those at
   * or above it keep their state and delivery count (an Acquired one becomes Available:
   * nobody holds it). Anywhere else (backwards, or at/past the end offset): everything in
   * flight is dropped and the window starts empty at the new offset.
   */
  resetStart(startOffset: number): void {
    if (startOffset > this.startOffset && startOffset < this.endOffset) {
      for (let offset = this.startOffset; offset < startOffset; offset++) this.forget(offset);
      this.startOffset = startOffset;
      for (let offset = this.startOffset; offset < this.endOffset; offset++) {
        const slot = offset & this.mask;
        if (this.states[slot] !== ShareRecordState.ACQUIRED) continue;
        this.states[slot] = ShareRecordState.AVAILABLE;
        this.owners[slot] = '';
      }
      return;
    }
    for (let offset = this.startOffset; offset < this.endOffset; offset++) this.forget(offset);
    this.startOffset = startOffset;
    this.endOffset = startOffset;
  }

  /**
   * Moves endOffset up to `newEnd`: offsets below `firstRecordOffset` (between the old end
   * and the first batch that covers them) are holes, archived; the others are new records
   * (Available, never delivered). Grows the arrays first when the window needs more slots.
   */
  private extendTo(newEnd: number, firstRecordOffset: number): void {
    this.ensureSlots(newEnd - this.startOffset);
    for (let offset = this.endOffset; offset < newEnd; offset++) {
      const slot = offset & this.mask;
      this.states[slot] = offset < firstRecordOffset ? ShareRecordState.ARCHIVED : ShareRecordState.AVAILABLE;
      this.deliveryCountsByOffset[slot] = 0;
      this.lockDeadlinesMs[slot] = 0;
      this.availableAtMs[slot] = 0;
      this.owners[slot] = '';
    }
    this.endOffset = newEnd;
  }

  /** Doubles the arrays until `count` offsets fit (re-placing the in-flight ones by their new mask). */
  private ensureSlots(count: number): void {
    let slots = this.mask + 1;
    if (count <= slots) return;
    while (slots < count) slots *= 2;
    const mask = slots - 1;
    const states = new Uint8Array(slots);
    const deliveryCounts = new Uint8Array(slots);
    const lockDeadlinesMs = new Float64Array(slots);
    const availableAtMs = new Float64Array(slots);
    const owners = new Array<string>(slots).fill('');
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const from = offset & this.mask;
      const to = offset & mask;
      states[to] = this.states[from]!;
      deliveryCounts[to] = this.deliveryCountsByOffset[from]!;
      lockDeadlinesMs[to] = this.lockDeadlinesMs[from]!;
      availableAtMs[to] = this.availableAtMs[from]!;
      owners[to] = this.owners[from]!;
    }
    this.mask = mask;
    this.states = states;
    this.deliveryCountsByOffset = deliveryCounts;
    this.lockDeadlinesMs = lockDeadlinesMs;
    this.availableAtMs = availableAtMs;
    this.owners = owners;
  }

  private release(offset: number, availableAtMs: number, dead: DeadLetter[]): void {
    const slot = offset & this.mask;
    if (this.deliveryCountsByOffset[slot]! >= this.limits.deliveryLimit) {
      this.archive(offset, dead);
      return;
    }
    this.states[slot] = ShareRecordState.AVAILABLE;
    this.owners[slot] = '';
    this.availableAtMs[slot] = availableAtMs;
  }

  private archive(offset: number, dead: DeadLetter[]): void {
    const slot = offset & this.mask;
    this.states[slot] = ShareRecordState.ARCHIVED;
    this.owners[slot] = '';
    dead.push({ offset, deliveryCount: this.deliveryCountsByOffset[slot]!, lastError: this.lastErrors.get(offset) ?? '' });
  }

  /** An offset leaves the window: drop what lives outside the arrays. */
  private forget(offset: number): void {
    this.owners[offset & this.mask] = '';
    if (this.lastErrors.size > 0) this.lastErrors.delete(offset);
  }

  private advanceStart(): void {
    while (this.startOffset < this.endOffset) {
      const state = this.states[this.startOffset & this.mask];
      if (state !== ShareRecordState.ACKNOWLEDGED && state !== ShareRecordState.ARCHIVED) break;
      this.forget(this.startOffset);
      this.startOffset++;
    }
  }
}
