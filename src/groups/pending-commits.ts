// Offset records appended to __consumer_offsets whose append is not yet acknowledged
// (Kafka's pendingOffsetCommits). The committed offsets a client can see (OffsetFetch,
// describe, lag) change only when an append is acknowledged: on a single node when it is
// durable per the fsync policy, in a cluster when the high watermark has passed it. Until
// then the record is pending here, per (group, topic, partition), so a commit that a new
// leader would not have is never shown.
//
// Rules (each record gets a sequence number in log order, taken in the same synchronous
// step as the append):
// - acknowledged: applied unless a later record of the same key was applied already (two
//   commits racing: the later one wins when both complete, whatever order their
//   acknowledgements arrive in);
// - failed: never applied (a later or earlier acknowledged one still is);
// - cancelled (the group deleted, or its partition unloaded, while the record was in
//   flight): never applied, so a late acknowledgement does not bring the group back. A
//   new record of the same key after the cancel starts a new entry, which the old
//   record's acknowledgement does not touch.

import { assert } from '../util/assert.js';
import type { OffsetValue } from './offset-codec.js';
import type { OffsetRecord } from './offset-store.js';

interface InFlight {
  readonly sequence: number;
  readonly value: OffsetValue | null;
}

/** One (group, topic, partition) with appends in flight. */
interface PendingKey {
  readonly topic: string;
  readonly partition: number;
  /** In sequence (log) order: the last one is the newest value appended. */
  readonly inFlight: InFlight[];
  /** The newest sequence applied while this entry existed (an older acknowledgement arriving later is ignored). */
  appliedSequence: number;
}

/** The records of one append, as begin() registered them. */
export interface PendingTicket {
  readonly entries: ReadonlyArray<{ readonly record: OffsetRecord; readonly key: PendingKey; readonly sequence: number }>;
}

function keyOf(topic: string, partition: number): string {
  return `${partition}:${topic}`;
}

export class PendingCommits {
  /** groupId -> keyOf(topic, partition) -> entry. */
  private readonly byGroup = new Map<string, Map<string, PendingKey>>();
  private sequence = 0;

  /** Registers the records of an append just made (call in the same synchronous step, so sequences follow log order). */
  begin(records: readonly OffsetRecord[]): PendingTicket {
    const entries = records.map((record) => {
      let keys = this.byGroup.get(record.groupId);
      if (keys === undefined) this.byGroup.set(record.groupId, (keys = new Map()));
      const name = keyOf(record.topic, record.partition);
      let key = keys.get(name);
      if (key === undefined) keys.set(name, (key = { topic: record.topic, partition: record.partition, inFlight: [], appliedSequence: 0 }));
      const sequence = ++this.sequence;
      key.inFlight.push({ sequence, value: record.value });
      return { record, key, sequence };
    });
    return { entries };
  }

  /** The append was acknowledged: `apply` gets each record still pending and not overtaken, in log order. */
  complete(ticket: PendingTicket, apply: (record: OffsetRecord) => void): void {
    for (const { record, key, sequence } of ticket.entries) {
      const current = this.settle(record.groupId, key, sequence);
      if (current && sequence > key.appliedSequence) {
        key.appliedSequence = sequence;
        apply(record);
      }
      this.dropIfIdle(record.groupId, key);
    }
  }

  /** The append failed: its records are forgotten, never applied. */
  fail(ticket: PendingTicket): void {
    for (const { record, key, sequence } of ticket.entries) {
      this.settle(record.groupId, key, sequence);
      this.dropIfIdle(record.groupId, key);
    }
  }

  /** Removes one in-flight record; true when its entry is still the group's current one (not cancelled). */
  private settle(groupId: string, key: PendingKey, sequence: number): boolean {
    const index = key.inFlight.findIndex((entry) => entry.sequence === sequence);
    assert(index >= 0, `pending offset record ${sequence} settled twice`);
    key.inFlight.splice(index, 1);
    return this.byGroup.get(groupId)?.get(keyOf(key.topic, key.partition)) === key;
  }

  private dropIfIdle(groupId: string, key: PendingKey): void {
    if (key.inFlight.length > 0) return;
    const keys = this.byGroup.get(groupId);
    const name = keyOf(key.topic, key.partition);
    if (keys?.get(name) !== key) return;
    keys.delete(name);
    if (keys.size === 0) this.byGroup.delete(groupId);
  }

  /** The newest value appended and not yet settled (null = a tombstone), undefined when nothing is in flight. */
  pendingValue(groupId: string, topic: string, partition: number): OffsetValue | null | undefined {
    const inFlight = this.byGroup.get(groupId)?.get(keyOf(topic, partition))?.inFlight;
    return inFlight === undefined || inFlight.length === 0 ? undefined : inFlight[inFlight.length - 1]!.value;
  }

  /** The (topic, partition) keys of a group with records in flight (a delete tombstones them too). */
  keysOf(groupId: string): Array<{ topic: string; partition: number }> {
    return [...(this.byGroup.get(groupId)?.values() ?? [])].map(({ topic, partition }) => ({ topic, partition }));
  }

  /** Forgets the group's records in flight: their acknowledgements apply nothing (the group was deleted or unloaded). */
  cancelGroup(groupId: string): void {
    this.byGroup.delete(groupId);
  }

  /** cancelGroup for every group the predicate picks (an unloaded partition's groups). */
  cancelWhere(picks: (groupId: string) => boolean): void {
    for (const groupId of [...this.byGroup.keys()]) if (picks(groupId)) this.byGroup.delete(groupId);
  }

  /** Groups with records in flight (tests, and a check that nothing leaks). */
  groupCount(): number {
    return this.byGroup.size;
  }
}
