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
  /** At most this many offsets between start and end offset (default 2,000). */
  maxInFlightRecords: number;
  /** How long an acquisition lock lasts (default 30 s). */
  lockDurationMs: number;
  /** Deliveries before a record goes to the dead-letter topic (default 5, range 2..10). */
  deliveryLimit: number;
}

export const ShareDefaults = {
  maxInFlightRecords: 2_000,
  lockDurationMs: 30_000,
  deliveryLimit: 5,
  minDeliveryLimit: 2,
  maxDeliveryLimit: 10,
} as const;

interface InFlightRecord {
  state: ShareRecordState;
  /** Times handed out (incremented at acquisition). */
  deliveryCount: number;
  memberId: string;
  lockDeadlineMs: number;
  /** A released record with a delay is not acquired before this (monotonic ms). */
  availableAtMs: number;
  lastError: string;
}

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

export class SharePartition {
  startOffset: number;
  endOffset: number;
  private readonly records = new Map<number, InFlightRecord>();

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
    for (const record of this.records.values()) if (record.state === ShareRecordState.ACQUIRED) count++;
    return count;
  }

  /** Acquired offsets held by one member (for release on leave). */
  acquiredBy(memberId: string): number[] {
    const offsets: number[] = [];
    for (const [offset, record] of this.records) {
      if (record.state === ShareRecordState.ACQUIRED && record.memberId === memberId) offsets.push(offset);
    }
    return offsets;
  }

  /** Delivery count histogram of in-flight records (describe). */
  deliveryCounts(): Map<number, number> {
    const histogram = new Map<number, number>();
    for (const record of this.records.values()) histogram.set(record.deliveryCount, (histogram.get(record.deliveryCount) ?? 0) + 1);
    return histogram;
  }

  /** The log start moved past records we track (retention): those are gone, skip them. */
  skipTo(logStartOffset: number): void {
    if (logStartOffset <= this.startOffset) return;
    for (let offset = this.startOffset; offset < Math.min(logStartOffset, this.endOffset); offset++) this.records.delete(offset);
    this.startOffset = logStartOffset;
    this.endOffset = Math.max(this.endOffset, logStartOffset);
  }

  /**
   * The first offset worth reading the log from: the lowest available record in flight,
   * or endOffset. Undefined when nothing can be acquired now (window full, all locked).
   */
  nextFetchOffset(nowMs: number): number | undefined {
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const record = this.records.get(offset)!;
      if (record.state === ShareRecordState.AVAILABLE && record.availableAtMs <= nowMs) return offset;
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
    outer: for (const batch of batches) {
      for (let offset = Math.max(batch.baseOffset, this.startOffset); offset <= batch.lastOffset; offset++) {
        if (acquired >= maxRecords || offset >= windowEnd) break outer;
        let record = this.records.get(offset);
        if (record === undefined) {
          assert(offset >= this.endOffset, `in-flight offset ${offset} has no entry`);
          // Offsets skipped between endOffset and here (not in any batch we saw) are holes.
          for (let hole = this.endOffset; hole < offset; hole++) this.records.set(hole, archivedHole());
          record = newRecord();
          this.records.set(offset, record);
          this.endOffset = offset + 1;
        }
        if (record.state !== ShareRecordState.AVAILABLE || record.availableAtMs > nowMs) continue;
        const alone = record.deliveryCount >= aloneFrom;
        if (alone && acquired > 0) break outer;
        record.state = ShareRecordState.ACQUIRED;
        record.deliveryCount++;
        record.memberId = memberId;
        record.lockDeadlineMs = nowMs + this.limits.lockDurationMs;
        acquired++;
        const last = ranges[ranges.length - 1];
        if (last !== undefined && last.lastOffset === offset - 1 && last.deliveryCount === record.deliveryCount) last.lastOffset = offset;
        else ranges.push({ firstOffset: offset, lastOffset: offset, deliveryCount: record.deliveryCount });
        if (alone) break outer;
      }
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
      const record = this.records.get(offset);
      if (record === undefined || record.state !== ShareRecordState.ACQUIRED || record.memberId !== memberId) {
        return {
          error: Errors.INVALID_RECORD_STATE,
          message: `offset ${offset} of ${this.topic}-${this.partition} is not acquired by member ${memberId}`,
        };
      }
    }
    const dead: DeadLetter[] = [];
    for (let offset = range.firstOffset; offset <= range.lastOffset; offset++) {
      const record = this.records.get(offset)!;
      if (range.error !== undefined) record.lastError = range.error;
      switch (range.type) {
        case AcknowledgeType.ACCEPT:
          record.state = ShareRecordState.ACKNOWLEDGED;
          break;
        case AcknowledgeType.RENEW:
          record.lockDeadlineMs = nowMs + this.limits.lockDurationMs;
          break;
        case AcknowledgeType.REJECT:
          this.archive(offset, record, dead);
          break;
        case AcknowledgeType.RELEASE:
          this.release(offset, record, nowMs + (range.delayMs ?? 0), dead);
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
    for (const [offset, record] of this.records) {
      if (record.state !== ShareRecordState.ACQUIRED) continue;
      if (record.lockDeadlineMs <= nowMs) {
        if (record.lastError === '') record.lastError = 'acquisition lock expired';
        this.release(offset, record, nowMs, dead);
        released++;
      } else {
        nextDeadlineMs = Math.min(nextDeadlineMs, record.lockDeadlineMs);
      }
    }
    if (released > 0) this.advanceStart();
    return { dead, released, nextDeadlineMs };
  }

  /** Releases everything a member holds (it left or closed). */
  releaseMember(memberId: string, nowMs: number): DeadLetter[] {
    const dead: DeadLetter[] = [];
    for (const [offset, record] of this.records) {
      if (record.state === ShareRecordState.ACQUIRED && record.memberId === memberId) this.release(offset, record, nowMs, dead);
    }
    this.advanceStart();
    return dead;
  }

  /** The earliest lock deadline, for the expiry timer. */
  nextLockDeadlineMs(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const record of this.records.values()) if (record.state === ShareRecordState.ACQUIRED) next = Math.min(next, record.lockDeadlineMs);
    return next;
  }

  /**
   * The durable view: runs of equal (state, delivery count). Acquired records are written
   * as Available with their delivery count: after a restart nobody holds a lock.
   */
  stateRuns(): StateRun[] {
    const runs: StateRun[] = [];
    for (let offset = this.startOffset; offset < this.endOffset; offset++) {
      const record = this.records.get(offset)!;
      const state = record.state === ShareRecordState.ACQUIRED ? ShareRecordState.AVAILABLE : record.state;
      const last = runs[runs.length - 1];
      if (last !== undefined && last.state === state && last.deliveryCount === record.deliveryCount) last.lastOffset = offset;
      else runs.push({ firstOffset: offset, lastOffset: offset, state, deliveryCount: record.deliveryCount });
    }
    return runs;
  }

  /** Rebuilds from the durable view (restart). */
  restore(startOffset: number, runs: readonly StateRun[]): void {
    this.records.clear();
    this.startOffset = startOffset;
    this.endOffset = startOffset;
    for (const run of runs) {
      assert(run.firstOffset === this.endOffset, `share state run at ${run.firstOffset} does not follow ${this.endOffset}`);
      for (let offset = run.firstOffset; offset <= run.lastOffset; offset++) {
        this.records.set(offset, { ...newRecord(), state: run.state, deliveryCount: run.deliveryCount });
      }
      this.endOffset = run.lastOffset + 1;
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
      for (let offset = this.startOffset; offset < startOffset; offset++) this.records.delete(offset);
      for (const record of this.records.values()) {
        if (record.state !== ShareRecordState.ACQUIRED) continue;
        record.state = ShareRecordState.AVAILABLE;
        record.memberId = '';
      }
      this.startOffset = startOffset;
      return;
    }
    this.records.clear();
    this.startOffset = startOffset;
    this.endOffset = startOffset;
  }

  private release(offset: number, record: InFlightRecord, availableAtMs: number, dead: DeadLetter[]): void {
    if (record.deliveryCount >= this.limits.deliveryLimit) {
      this.archive(offset, record, dead);
      return;
    }
    record.state = ShareRecordState.AVAILABLE;
    record.memberId = '';
    record.availableAtMs = availableAtMs;
  }

  private archive(offset: number, record: InFlightRecord, dead: DeadLetter[]): void {
    record.state = ShareRecordState.ARCHIVED;
    record.memberId = '';
    dead.push({ offset, deliveryCount: record.deliveryCount, lastError: record.lastError });
  }

  private advanceStart(): void {
    while (this.startOffset < this.endOffset) {
      const record = this.records.get(this.startOffset)!;
      if (record.state !== ShareRecordState.ACKNOWLEDGED && record.state !== ShareRecordState.ARCHIVED) break;
      this.records.delete(this.startOffset);
      this.startOffset++;
    }
  }
}

function newRecord(): InFlightRecord {
  return { state: ShareRecordState.AVAILABLE, deliveryCount: 0, memberId: '', lockDeadlineMs: 0, availableAtMs: 0, lastError: '' };
}

function archivedHole(): InFlightRecord {
  return { ...newRecord(), state: ShareRecordState.ARCHIVED };
}
