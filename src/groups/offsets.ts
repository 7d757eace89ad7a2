// Committed offsets and the admin APIs (OffsetCommit, OffsetFetch, DescribeGroups,
// DeleteGroups, ResetOffsets). Each handler checks the group and member epoch and
// writes synchronously; memory is updated right after the store accepted the write
// (so it follows log order) and the response waits for durability.
//
// Fencing of commits: a member commits with its memberId and current memberEpoch. An
// unknown member gets UNKNOWN_MEMBER_ID, an epoch older than the member's current one
// STALE_MEMBER_EPOCH (retriable: heartbeat, then retry), a newer one FENCED_MEMBER_EPOCH.
// memberId '' with epoch -1 is an admin or standalone commit, allowed only while the
// group has no members (NON_EMPTY_GROUP), so a zombie cannot move a live group's position.

import type * as M from '../protocol/messages.js';
import type { LogManager, PartitionLog } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { Errors, SpoolError, isSpoolError, type ErrorKind } from '../util/errors.js';
import { toTopicPartitions } from './assignment.js';
import type { ConsumerGroup, TopicLookup } from './group.js';
import { MAX_METADATA_BYTES } from './offset-codec.js';
import type { OffsetRecord, OffsetStore } from './offset-store.js';
import { checkGroupId, isStringArray } from './validate.js';

export interface OffsetContext {
  groups: Map<string, ConsumerGroup>;
  logs: LogManager;
  store: OffsetStore;
  clock: Clock;
  getOrCreateGroup(groupId: string): ConsumerGroup;
  lookupTopic: TopicLookup;
}

type PartitionResult = { topic: string; partition: number } & M.ErrorFields;

function errorFields(kind: ErrorKind, message?: string): M.ErrorFields {
  return kind === Errors.NONE ? { errorCode: 0 } : { errorCode: kind.code, errorMessage: message ?? kind.message };
}

function storageError(error: unknown): M.ErrorFields {
  if (isSpoolError(error)) return { errorCode: error.errorCode, errorMessage: error.message };
  return { errorCode: Errors.UNKNOWN.code, errorMessage: (error as Error)?.message ?? String(error) };
}

/**
 * Writes the records and applies them to memory in the same synchronous step; resolves
 * to an error when the write failed. A failure after the write (fsync) leaves memory
 * ahead of the disk, but the partition is then offline for every later write too.
 */
async function writeThrough(context: OffsetContext, records: OffsetRecord[]): Promise<M.ErrorFields | undefined> {
  if (records.length === 0) return undefined;
  let durable: Promise<void>;
  try {
    durable = context.store.append(records);
  } catch (error) {
    return storageError(error);
  }
  for (const record of records) {
    const group = record.value === null ? context.groups.get(record.groupId) : context.getOrCreateGroup(record.groupId);
    group?.setOffset(record.topic, record.partition, record.value);
  }
  try {
    await durable;
    return undefined;
  } catch (error) {
    return storageError(error);
  }
}

/** The member check of OffsetCommit; returns the error kind and message, or undefined. */
function checkCommitter(group: ConsumerGroup | undefined, memberId: string, memberEpoch: number): [ErrorKind, string] | undefined {
  if (memberId === '' && memberEpoch === -1) {
    if (group !== undefined && group.members.size > 0) {
      return [Errors.NON_EMPTY_GROUP, `group ${group.groupId} has ${group.members.size} active members; commit as a member`];
    }
    return undefined;
  }
  const member = group?.members.get(memberId);
  if (member === undefined) return [Errors.UNKNOWN_MEMBER_ID, `member ${memberId} is not in the group`];
  if (memberEpoch > member.memberEpoch) {
    return [Errors.FENCED_MEMBER_EPOCH, `member epoch ${memberEpoch} is ahead of ${member.memberEpoch}`];
  }
  if (memberEpoch < member.memberEpoch) {
    return [Errors.STALE_MEMBER_EPOCH, `member epoch ${memberEpoch} is older than ${member.memberEpoch}`];
  }
  return undefined;
}

function checkPartition(context: OffsetContext, topic: unknown, partition: unknown): [ErrorKind, string] | undefined {
  if (typeof topic !== 'string') return [Errors.INVALID_REQUEST, 'topic must be a string'];
  const count = context.lookupTopic(topic);
  if (count === 0) return [Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`];
  if (!Number.isInteger(partition) || (partition as number) < 0 || (partition as number) >= count) {
    return [Errors.UNKNOWN_PARTITION, `topic ${topic} has no partition ${String(partition)}`];
  }
  return undefined;
}

export async function commitOffsets(context: OffsetContext, request: M.OffsetCommitRequest): Promise<M.OffsetCommitResponse> {
  const offsets = Array.isArray(request.offsets) ? request.offsets : [];
  const everyPartition = (kind: ErrorKind, message: string): M.OffsetCommitResponse => ({
    ...errorFields(kind, message),
    partitions: offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, ...errorFields(kind, message) })),
  });
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return everyPartition(Errors.INVALID_GROUP_ID, groupError);
  if (typeof request.memberId !== 'string' || !Number.isInteger(request.memberEpoch) || !Array.isArray(request.offsets)) {
    return everyPartition(Errors.INVALID_REQUEST, 'memberId, memberEpoch and offsets are required');
  }
  const committerError = checkCommitter(context.groups.get(request.groupId), request.memberId, request.memberEpoch);
  if (committerError !== undefined) return everyPartition(...committerError);

  const commitTimestampMs = context.clock.nowMs();
  const results: PartitionResult[] = [];
  const records: OffsetRecord[] = [];
  const written: PartitionResult[] = [];
  for (const entry of offsets) {
    const result: PartitionResult = { topic: entry.topic, partition: entry.partition, errorCode: 0 };
    results.push(result);
    const metadata = entry.metadata ?? '';
    const problem =
      checkPartition(context, entry.topic, entry.partition) ??
      (!Number.isSafeInteger(entry.offset) || entry.offset < 0
        ? ([Errors.INVALID_REQUEST, `offset ${String(entry.offset)} is not an offset`] as [ErrorKind, string])
        : typeof metadata !== 'string' || Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES
          ? ([Errors.INVALID_REQUEST, `metadata longer than ${MAX_METADATA_BYTES} bytes`] as [ErrorKind, string])
          : undefined);
    if (problem !== undefined) {
      Object.assign(result, errorFields(...problem));
      continue;
    }
    records.push({
      groupId: request.groupId,
      topic: entry.topic,
      partition: entry.partition,
      value: { offset: entry.offset, metadata, commitTimestampMs },
    });
    written.push(result);
  }
  const failure = await writeThrough(context, records);
  if (failure !== undefined) for (const result of written) Object.assign(result, failure);
  return { errorCode: 0, partitions: results };
}

export async function fetchOffsets(context: OffsetContext, request: M.OffsetFetchRequest): Promise<M.OffsetFetchResponse> {
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return { ...errorFields(Errors.INVALID_GROUP_ID, groupError), offsets: [] };
  const group = context.groups.get(request.groupId);
  if (request.partitions === undefined || request.partitions === null) {
    const offsets: M.OffsetFetchResponse['offsets'] = [];
    for (const topic of [...(group?.offsets.keys() ?? [])].sort()) {
      const byPartition = group!.offsets.get(topic)!;
      for (const partition of [...byPartition.keys()].sort((a, b) => a - b)) {
        const committed = byPartition.get(partition)!;
        offsets.push({ topic, partition, offset: committed.offset, metadata: committed.metadata, errorCode: 0 });
      }
    }
    return { errorCode: 0, offsets };
  }
  return {
    errorCode: 0,
    offsets: request.partitions.map(({ topic, partition }) => {
      const committed = group?.getOffset(topic, partition);
      return { topic, partition, offset: committed?.offset ?? -1, metadata: committed?.metadata ?? '', errorCode: 0 };
    }),
  };
}

function partitionLog(context: OffsetContext, topic: string, partition: number): PartitionLog | undefined {
  if (partition >= context.lookupTopic(topic)) return undefined;
  try {
    return context.logs.getPartition(topic, partition);
  } catch (error) {
    // The topic was deleted between the lookup and here: describe shows no log end offset.
    if (isSpoolError(error)) return undefined;
    throw error;
  }
}

export function describeGroup(context: OffsetContext, groupId: string): M.GroupDescription {
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
  const members = [...group.members.values()].map((member) => ({
    memberId: member.memberId,
    clientId: member.clientId,
    memberEpoch: member.memberEpoch,
    subscription: [...member.subscription],
    assignment: toTopicPartitions(member.assigned),
  }));
  const topics = new Set<string>([...group.subscribedTopics(), ...group.offsets.keys()]);
  const offsets: M.GroupDescription['offsets'] = [];
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
  return {
    errorCode: 0,
    groupId,
    state: group.state(),
    groupEpoch: group.groupEpoch,
    assignor: group.assignorName,
    members,
    offsets,
  };
}

export async function deleteGroups(context: OffsetContext, request: M.DeleteGroupsRequest): Promise<M.DeleteGroupsResponse> {
  if (!isStringArray(request.groupIds)) {
    return { ...errorFields(Errors.INVALID_REQUEST, 'groupIds must be strings'), groups: [] };
  }
  const pending: Array<Promise<void>> = [];
  const groups = request.groupIds.map((groupId) => {
    const result: { groupId: string } & M.ErrorFields = { groupId, errorCode: 0 };
    const group = context.groups.get(groupId);
    if (group === undefined) return Object.assign(result, errorFields(Errors.GROUP_ID_NOT_FOUND));
    if (group.members.size > 0) {
      return Object.assign(result, errorFields(Errors.NON_EMPTY_GROUP, `group ${groupId} has ${group.members.size} active members`));
    }
    const tombstones: OffsetRecord[] = [];
    for (const [topic, byPartition] of group.offsets) {
      for (const partition of byPartition.keys()) tombstones.push({ groupId, topic, partition, value: null });
    }
    pending.push(
      writeThrough(context, tombstones).then((failure) => {
        if (failure !== undefined) Object.assign(result, failure);
      }),
    );
    context.groups.delete(groupId);
    return result;
  });
  await Promise.all(pending);
  return { errorCode: 0, groups };
}

function resetTarget(log: PartitionLog, to: M.ResetOffsetsRequest['to']): number {
  switch (to.kind) {
    case 'earliest':
      return log.logStartOffset;
    case 'latest':
      return log.logEndOffset;
    case 'offset':
      // Like Kafka's reset tool: an offset outside the log is clamped into it.
      return Math.min(Math.max(to.offset, log.logStartOffset), log.logEndOffset);
    case 'timestamp':
      return log.offsetForTimestamp(to.timestamp) ?? log.logEndOffset;
    default:
      throw new SpoolError(Errors.INVALID_REQUEST, `unknown reset kind ${String((to as { kind: unknown }).kind)}`);
  }
}

function checkResetTo(to: unknown): string | undefined {
  if (typeof to !== 'object' || to === null) return 'to is required';
  const spec = to as { kind?: unknown; offset?: unknown; timestamp?: unknown };
  if (spec.kind === 'earliest' || spec.kind === 'latest') return undefined;
  if (spec.kind === 'offset') return Number.isSafeInteger(spec.offset) && (spec.offset as number) >= 0 ? undefined : 'bad offset';
  if (spec.kind === 'timestamp') return Number.isSafeInteger(spec.timestamp) ? undefined : 'bad timestamp';
  return `unknown reset kind ${String(spec.kind)}`;
}

export async function resetOffsets(context: OffsetContext, request: M.ResetOffsetsRequest): Promise<M.ResetOffsetsResponse> {
  const fail = (kind: ErrorKind, message: string): M.ResetOffsetsResponse => ({ ...errorFields(kind, message), partitions: [] });
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return fail(Errors.INVALID_GROUP_ID, groupError);
  const toError = checkResetTo(request.to);
  if (toError !== undefined) return fail(Errors.INVALID_REQUEST, toError);
  const group = context.groups.get(request.groupId);
  if (group !== undefined && group.members.size > 0) {
    return fail(Errors.NON_EMPTY_GROUP, `group ${request.groupId} has ${group.members.size} active members; stop them first`);
  }
  if (typeof request.topic !== 'string') return fail(Errors.INVALID_REQUEST, 'topic is required');
  const count = context.lookupTopic(request.topic);
  if (count === 0) return fail(Errors.UNKNOWN_TOPIC, `topic ${request.topic} does not exist`);
  const partitions = request.partitions ?? Array.from({ length: count }, (_, partition) => partition);
  if (!Array.isArray(partitions)) return fail(Errors.INVALID_REQUEST, 'partitions must be an array');

  const commitTimestampMs = context.clock.nowMs();
  const records: OffsetRecord[] = [];
  const written: Array<M.ResetOffsetsResponse['partitions'][number]> = [];
  const results = partitions.map((partition) => {
    const result = { topic: request.topic, partition, offset: -1, errorCode: 0 } as M.ResetOffsetsResponse['partitions'][number];
    const log = Number.isInteger(partition) && partition >= 0 ? partitionLog(context, request.topic, partition) : undefined;
    if (log === undefined) return Object.assign(result, errorFields(Errors.UNKNOWN_PARTITION, `no partition ${partition}`));
    result.offset = resetTarget(log, request.to);
    records.push({ groupId: request.groupId, topic: request.topic, partition, value: { offset: result.offset, metadata: '', commitTimestampMs } });
    written.push(result);
    return result;
  });
  const failure = await writeThrough(context, records);
  if (failure !== undefined) for (const result of written) Object.assign(result, failure);
  return { errorCode: 0, partitions: results };
}
