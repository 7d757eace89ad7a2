// Committed offsets (OffsetCommit, OffsetFetch, ResetOffsets) for every group kind.
// Each handler checks the group and appends synchronously; memory (what OffsetFetch,
// describe and lag show) changes only once the append is acknowledged (durable per the
// fsync policy on a single node, below the high watermark in a cluster), and the response
// waits for that too. Until then the records are pending (pending-commits.ts).
//
// Fencing of commits is the group kind's own rule (GroupKind.checkCommit): member epoch
// for consumer groups, generation + member id for classic groups. A commit to a group
// that does not exist is a simple commit (memberId '' and -1) or UNKNOWN_MEMBER_ID.

import type { LogManager, PartitionLog } from '../storage/types.js';
import type { Clock } from '../util/clock.js';
import { Errors, SpoolError, isSpoolError, type ErrorKind } from '../util/errors.js';
import type { GroupKind, TopicLookup } from './group-kind.js';
import { MAX_METADATA_BYTES } from './offset-codec.js';
import type { OffsetRecord, OffsetStore } from './offset-store.js';
import type { PendingCommits } from './pending-commits.js';
import type {
  ErrorResult,
  OffsetCommit,
  OffsetCommitResult,
  OffsetFetch,
  OffsetFetchResult,
  ResetOffsets,
  ResetOffsetsResult,
  ResetTarget,
} from './types.js';
import { checkGroupId } from './validate.js';

export interface OffsetContext {
  groups: ReadonlyMap<string, GroupKind>;
  logs: LogManager;
  store: OffsetStore;
  /** Records appended and not yet acknowledged: invisible until they are. */
  pending: PendingCommits;
  clock: Clock;
  /** The group to hold a committed offset: the existing one, or a new (empty, consumer) group. */
  getOrCreateGroup(groupId: string): GroupKind;
  lookupTopic: TopicLookup;
}

type PartitionResult = { topic: string; partition: number } & ErrorResult;

export function errorFields(kind: ErrorKind, message?: string): ErrorResult {
  return kind === Errors.NONE ? { errorCode: 0 } : { errorCode: kind.code, errorMessage: message ?? kind.message };
}

function storageError(error: unknown): ErrorResult {
  if (isSpoolError(error)) return { errorCode: error.errorCode, errorMessage: error.message };
  return { errorCode: Errors.UNKNOWN.code, errorMessage: (error as Error)?.message ?? String(error) };
}

/**
 * Appends the records and, once the append is acknowledged, applies them to memory (in
 * log order: a later record of a key is never overwritten by an earlier one acknowledged
 * after it). Resolves to an error when the append failed; a failed record is never
 * applied. A group deleted or unloaded meanwhile cancels its pending records
 * (PendingCommits.cancelGroup), so a late acknowledgement does not bring it back.
 */
export async function writeThrough(context: OffsetContext, records: OffsetRecord[]): Promise<ErrorResult | undefined> {
  if (records.length === 0) return undefined;
  let acknowledged: Promise<void>;
  try {
    acknowledged = context.store.append(records);
  } catch (error) {
    return storageError(error);
  }
  // In the same synchronous step as the append, so the sequence numbers follow log order.
  const ticket = context.pending.begin(records);
  try {
    await acknowledged;
  } catch (error) {
    context.pending.fail(ticket);
    return storageError(error);
  }
  context.pending.complete(ticket, (record) => {
    const group = record.value === null ? context.groups.get(record.groupId) : context.getOrCreateGroup(record.groupId);
    group?.setOffset(record.topic, record.partition, record.value);
  });
  return undefined;
}

function checkPartition(context: OffsetContext, topic: string, partition: number): [ErrorKind, string] | undefined {
  const count = context.lookupTopic(topic);
  if (count === 0) return [Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`];
  if (!Number.isInteger(partition) || partition < 0 || partition >= count) {
    return [Errors.UNKNOWN_PARTITION, `topic ${topic} has no partition ${String(partition)}`];
  }
  return undefined;
}

export async function commitOffsets(context: OffsetContext, request: OffsetCommit): Promise<OffsetCommitResult> {
  const offsets = request.offsets;
  const everyPartition = (kind: ErrorKind, message: string): OffsetCommitResult => ({
    ...errorFields(kind, message),
    partitions: offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, ...errorFields(kind, message) })),
  });
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return everyPartition(Errors.INVALID_GROUP_ID, groupError);
  const group = context.groups.get(request.groupId);
  const committerError =
    group !== undefined
      ? group.checkCommit(request)
      : request.memberId === '' && request.memberEpoch === -1
        ? undefined
        : ([Errors.UNKNOWN_MEMBER_ID, `member ${request.memberId} is not in the group`] as [ErrorKind, string]);
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
        : Buffer.byteLength(metadata, 'utf8') > MAX_METADATA_BYTES
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

export async function fetchOffsets(context: OffsetContext, request: OffsetFetch): Promise<OffsetFetchResult> {
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return { ...errorFields(Errors.INVALID_GROUP_ID, groupError), offsets: [] };
  const group = context.groups.get(request.groupId);
  if (request.partitions === undefined || request.partitions === null) {
    const offsets: OffsetFetchResult['offsets'] = [];
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

export function partitionLog(context: OffsetContext, topic: string, partition: number): PartitionLog | undefined {
  if (partition >= context.lookupTopic(topic)) return undefined;
  try {
    return context.logs.getPartition(topic, partition);
  } catch (error) {
    // The topic was deleted between the lookup and here: describe shows no log end offset.
    if (isSpoolError(error)) return undefined;
    throw error;
  }
}

function resetTarget(log: PartitionLog, to: ResetTarget): number {
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

/**
 * A share group's reset: its member count, and the write of the new start offsets (to
 * __share_group_state instead of __consumer_offsets).
 */
export interface ShareReset {
  members: number;
  write(targets: readonly { partition: number; offset: number }[]): Promise<void>;
}

export async function resetOffsets(context: OffsetContext, request: ResetOffsets, share?: ShareReset): Promise<ResetOffsetsResult> {
  const fail = (kind: ErrorKind, message: string): ResetOffsetsResult => ({ ...errorFields(kind, message), partitions: [] });
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return fail(Errors.INVALID_GROUP_ID, groupError);
  const group = context.groups.get(request.groupId);
  const members = share !== undefined ? share.members : (group?.memberCount() ?? 0);
  if (members > 0) {
    return fail(Errors.NON_EMPTY_GROUP, `group ${request.groupId} has ${members} active members; stop them first`);
  }
  const count = context.lookupTopic(request.topic);
  if (count === 0) return fail(Errors.UNKNOWN_TOPIC, `topic ${request.topic} does not exist`);
  const partitions = request.partitions ?? Array.from({ length: count }, (_, partition) => partition);

  const commitTimestampMs = context.clock.nowMs();
  const records: OffsetRecord[] = [];
  const written: Array<ResetOffsetsResult['partitions'][number]> = [];
  const results = partitions.map((partition) => {
    const result = { topic: request.topic, partition, offset: -1, errorCode: 0 } as ResetOffsetsResult['partitions'][number];
    const log = Number.isInteger(partition) && partition >= 0 ? partitionLog(context, request.topic, partition) : undefined;
    if (log === undefined) return Object.assign(result, errorFields(Errors.UNKNOWN_PARTITION, `no partition ${partition}`));
    result.offset = resetTarget(log, request.to);
    records.push({ groupId: request.groupId, topic: request.topic, partition, value: { offset: result.offset, metadata: '', commitTimestampMs } });
    written.push(result);
    return result;
  });
  // A dry run goes through every check above and stops before the write.
  if (request.dryRun === true) return { errorCode: 0, partitions: results };
  const failure = share !== undefined ? await writeShare(share, written) : await writeThrough(context, records);
  if (failure !== undefined) for (const result of written) Object.assign(result, failure);
  return { errorCode: 0, partitions: results };
}

async function writeShare(share: ShareReset, written: ReadonlyArray<{ partition: number; offset: number }>): Promise<ErrorResult | undefined> {
  if (written.length === 0) return undefined;
  try {
    await share.write(written);
    return undefined;
  } catch (error) {
    return storageError(error);
  }
}
