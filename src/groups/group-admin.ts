// ListGroups, DescribeGroups and DeleteGroups over every group kind. Describe reports
// what the kind knows about its members (GroupKind.describeMembers) and, per partition
// of the subscribed and committed topics, the committed offset, the log end offset, the
// lag and the owning member, so offsets committed by any kind show the same way.

import { Errors } from '../util/errors.js';
import { ClassicGroup } from './classic-group.js';
import type { GroupKind } from './group-kind.js';
import type { OffsetRecord } from './offset-store.js';
import { errorFields, partitionLog, writeThrough, type OffsetContext } from './offsets.js';
import type { DeleteGroupsResult, GroupDescription, GroupListing, ListGroupsResult } from './types.js';

export interface AdminContext extends OffsetContext {
  /** Forgets a group (deleted): a classic group answers its parked requests first. */
  removeGroup(groupId: string): void;
}

function listing(group: GroupKind): GroupListing {
  const entry: GroupListing = { groupId: group.groupId, state: group.state(), members: group.memberCount() };
  // Consumer groups are the native default and keep the plain shape.
  if (group.kind === 'classic') entry.kind = 'classic';
  return entry;
}

/** Every group; `shares` (share groups, already shaped) replace an entry of the same id. */
export function listGroups(groups: Iterable<GroupKind>, shares: readonly GroupListing[] = []): ListGroupsResult {
  const shareIds = new Set(shares.map((entry) => entry.groupId));
  const others = [...groups].filter((group) => !shareIds.has(group.groupId)).map(listing);
  const listed = [...others, ...shares].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  return { errorCode: Errors.NONE.code, groups: listed };
}

export function describeGroup(context: OffsetContext, groupId: string): GroupDescription {
  const group = context.groups.get(groupId);
  if (group === undefined) {
    return {
      ...errorFields(Errors.GROUP_ID_NOT_FOUND, `group ${groupId} does not exist`),
      groupId,
      state: 'dead',
      groupEpoch: -1,
      assignor: '',
      members: [],
      offsets: [],
    };
  }
  const topics = new Set<string>([...group.subscribedTopics(), ...group.offsets.keys()]);
  const offsets: GroupDescription['offsets'] = [];
  for (const topic of [...topics].sort()) {
    const partitions = new Set<number>(group.offsets.get(topic)?.keys() ?? []);
    const count = context.lookupTopic(topic);
    for (let partition = 0; partition < count; partition++) partitions.add(partition);
    for (const partition of [...partitions].sort((a, b) => a - b)) {
      const committed = group.getOffset(topic, partition)?.offset ?? -1;
      const log = partitionLog(context, topic, partition);
      const logEndOffset = log?.logEndOffset ?? -1;
      // Without a commit, everything still in the log is unconsumed.
      const lag =
        log === undefined ? -1 : committed >= 0 ? Math.max(0, logEndOffset - committed) : logEndOffset - log.logStartOffset;
      offsets.push({ topic, partition, committed, logEndOffset, lag, memberId: group.ownerOf(topic, partition) ?? '' });
    }
  }
  const description: GroupDescription = {
    errorCode: 0,
    groupId,
    state: group.state(),
    groupEpoch: group.epoch(),
    assignor: group.assignorOrProtocol(),
    members: group.describeMembers(),
    offsets,
  };
  if (group instanceof ClassicGroup) {
    description.kind = 'classic';
    description.protocolType = group.protocolType ?? '';
  }
  return description;
}

/**
 * Deletes groups without members (NON_EMPTY_GROUP otherwise): a tombstone per committed
 * partition and per partition with a commit in flight (which is cancelled, so its late
 * acknowledgement does not bring the group back). A group known only by a commit in
 * flight (a simple commit to a new group) is deleted the same way. The group disappears
 * from memory at once, before its tombstones are acknowledged.
 */
export async function deleteGroups(context: AdminContext, groupIds: readonly string[]): Promise<DeleteGroupsResult> {
  const pending: Array<Promise<void>> = [];
  const groups = groupIds.map((groupId) => {
    const result: DeleteGroupsResult['groups'][number] = { groupId, errorCode: 0 };
    const group = context.groups.get(groupId);
    const inFlight = context.pending.keysOf(groupId);
    if (group === undefined && inFlight.length === 0) return Object.assign(result, errorFields(Errors.GROUP_ID_NOT_FOUND));
    if (group !== undefined && group.memberCount() > 0) {
      return Object.assign(result, errorFields(Errors.NON_EMPTY_GROUP, `group ${groupId} has ${group.memberCount()} active members`));
    }
    const tombstones: OffsetRecord[] = [];
    for (const [topic, byPartition] of group?.offsets ?? []) {
      for (const partition of byPartition.keys()) tombstones.push({ groupId, topic, partition, value: null });
    }
    for (const { topic, partition } of inFlight) {
      if (group?.getOffset(topic, partition) === undefined) tombstones.push({ groupId, topic, partition, value: null });
    }
    context.pending.cancelGroup(groupId);
    pending.push(
      writeThrough(context, tombstones).then((failure) => {
        if (failure !== undefined) Object.assign(result, failure);
      }),
    );
    if (group !== undefined) context.removeGroup(groupId);
    return result;
  });
  await Promise.all(pending);
  return { errorCode: 0, groups };
}
