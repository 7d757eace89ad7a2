// What every group kind shares, and the seam the coordinator drives them through.
//
// A group id is of one kind at a time: a KIP-848 consumer group (group.ts) or a classic
// group (classic-group.ts). Both keep the group's committed offsets in the same table
// (written through to the same __consumer_offsets topic), so a group's offsets outlive
// a change of kind: an empty group (no members, maybe offsets) turns into the kind its
// next joining member speaks, taking the offsets along. Each kind owns its commit check
// (member epoch, or generation + member id), its describe view and its session expiry.

import type { ErrorKind } from '../util/errors.js';
import type { GroupKindName, GroupState, MemberDescription } from './types.js';

export interface CommittedOffset {
  offset: number;
  metadata: string;
  commitTimestampMs: number;
}

export type Problem = [ErrorKind, string];

/** topic -> partition -> committed offset. */
export type OffsetTable = Map<string, Map<number, CommittedOffset>>;

/** Partition count of a topic, 0 when it does not exist (yet, or any more). */
export type TopicLookup = (topic: string) => number;

/** Who commits: memberEpoch is the member epoch or the classic generation id. */
export interface Committer {
  memberId: string;
  memberEpoch: number;
  groupInstanceId?: string | null | undefined;
}

/** What a kind's session expiry needs from the coordinator. */
export interface ExpiryHooks {
  lookupTopic: TopicLookup;
  /** A member was removed by expiry; `why` completes "member <id> <why>" for a warning. */
  onExpired(memberId: string, why: string): void;
}

export interface GroupKind {
  readonly kind: GroupKindName;
  readonly groupId: string;
  readonly offsets: OffsetTable;
  /** Members currently in the group (classic: joined members, not those only told MEMBER_ID_REQUIRED). */
  memberCount(): number;
  state(): GroupState;
  /** The kind's commit rule; undefined = allowed. */
  checkCommit(committer: Committer): Problem | undefined;
  /** Members as describe shows them. */
  describeMembers(): MemberDescription[];
  /** The generation (classic) or group epoch (consumer). */
  epoch(): number;
  /** The assignor (consumer) or selected protocol (classic). */
  assignorOrProtocol(): string;
  /** Topics the members subscribe to (describe lists their partitions). */
  subscribedTopics(): string[];
  /** The member that owns a partition, when the coordinator knows. */
  ownerOf(topic: string, partition: number): string | undefined;
  /** Session expiry hook: removes the members (and ends the phases) past their deadline; returns the next deadline. */
  expire(nowMs: number, hooks: ExpiryHooks): number;
  setOffset(topic: string, partition: number, value: CommittedOffset | null): void;
  getOffset(topic: string, partition: number): CommittedOffset | undefined;
  hasOffsets(): boolean;
}

/** The committed-offset table every kind carries. */
export abstract class GroupOffsets {
  /** Takes an existing table when the group changes kind, so its offsets stay. */
  constructor(readonly offsets: OffsetTable = new Map()) {}

  setOffset(topic: string, partition: number, value: CommittedOffset | null): void {
    let byPartition = this.offsets.get(topic);
    if (value === null) {
      byPartition?.delete(partition);
      if (byPartition !== undefined && byPartition.size === 0) this.offsets.delete(topic);
      return;
    }
    if (byPartition === undefined) {
      byPartition = new Map();
      this.offsets.set(topic, byPartition);
    }
    byPartition.set(partition, value);
  }

  getOffset(topic: string, partition: number): CommittedOffset | undefined {
    return this.offsets.get(topic)?.get(partition);
  }

  hasOffsets(): boolean {
    return this.offsets.size > 0;
  }
}
