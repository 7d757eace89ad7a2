// Kafka's group APIs (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
// OffsetFetch, ListGroups, DescribeGroups) over the group coordinator's domain types
// (src/groups/types.ts). Classic groups (client-side assignment) are the coordinator's
// `classic` kind; committed offsets live in the same __consumer_offsets as native groups',
// so `spool group describe` shows what a Kafka client committed and the reverse.
// The coordinator answers with spool's error codes; they become Kafka's here. Byte fields
// (member metadata, assignments) are copied out of the request frame, since the
// coordinator keeps them while the frame's memory may be reused.

import {
  KafkaErrors,
  kafkaCodeOf,
  offsetFetchGroups,
  type DescribeGroupsRequest,
  type DescribeGroupsResponse,
  type HeartbeatRequest,
  type JoinGroupRequest,
  type JoinGroupResponse,
  type LeaveGroupRequest,
  type LeaveGroupResponse,
  type ListGroupsRequest,
  type ListGroupsResponse,
  type OffsetCommitRequest,
  type OffsetCommitResponse,
  type OffsetFetchRequest,
  type OffsetFetchResponse,
  type OffsetFetchResponseTopics,
  type SyncGroupRequest,
  type SyncGroupResponse,
} from '../../kafka/index.js';
import type { GroupState } from '../../groups/types.js';
import { RequestLimits } from '../../protocol/validate.js';
import { errorByCode, Errors } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { mapSequentially } from '../slices.js';
import { claimMember, mayGroup, mayTopic, Operation, requireGroup, visibleGroups } from '../core/authorize.js';
import { answer, itemError, type KafkaAnswer, type KafkaScope } from './answer.js';

const EMPTY = Buffer.alloc(0);

/** spool's numeric error code -> Kafka's. */
function kafkaCode(spoolCode: number): number {
  return spoolCode === 0 ? KafkaErrors.NONE : kafkaCodeOf(errorByCode(spoolCode));
}

/** Kafka's names for group states (ListGroups v4 filters on them, DescribeGroups shows them). */
const KAFKA_STATES: Record<GroupState, string> = {
  empty: 'Empty',
  assigning: 'Reconciling',
  reconciling: 'Reconciling',
  stable: 'Stable',
  'preparing-rebalance': 'PreparingRebalance',
  'completing-rebalance': 'CompletingRebalance',
  dead: 'Dead',
};

/**
 * How every classic-group call (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) opens: Read on
 * the group (GROUP_AUTHORIZATION_FAILED otherwise), then each member id it names is bound to
 * the requester, or refused (UNKNOWN_MEMBER_ID) when another principal holds it. Throws into
 * the handler's catch, which answers the error.
 */
function authorizeMembers(ctx: BrokerContext, scope: KafkaScope, groupId: string, memberIds: readonly string[]): void {
  requireGroup(ctx, scope.session, Operation.Read, groupId);
  for (const memberId of memberIds) claimMember(ctx, scope.session, groupId, memberId);
}

export async function handleJoinGroup(ctx: BrokerContext, request: JoinGroupRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  try {
    authorizeMembers(ctx, scope, request.groupId, [request.memberId]);
    const result = await ctx.coordinator.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      clientId: scope.clientId,
      clientHost: `/${(scope.remoteAddress ?? '').replace(/^::ffff:/, '')}`,
      sessionTimeoutMs: request.sessionTimeoutMs,
      // JoinGroup v0 has no rebalance timeout: Kafka uses the session timeout.
      rebalanceTimeoutMs: scope.apiVersion === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      protocolType: request.protocolType,
      protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: Buffer.from(protocol.metadata) })),
      requireKnownMemberId: scope.apiVersion >= 4,
    });
    // The member id given out (also with MEMBER_ID_REQUIRED) belongs to this principal.
    claimMember(ctx, scope.session, request.groupId, result.memberId);
    return answer({
      throttleTimeMs: 0,
      errorCode: kafkaCode(result.errorCode),
      generationId: result.generationId,
      protocolName: result.protocolName ?? '',
      leader: result.leader,
      memberId: result.memberId,
      members: result.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId, metadata: member.metadata })),
    } satisfies JoinGroupResponse);
  } catch (error) {
    return answer({ throttleTimeMs: 0, errorCode: itemError(ctx, 'groups', error).errorCode, generationId: -1, protocolName: '', leader: '', memberId: request.memberId, members: [] } satisfies JoinGroupResponse);
  }
}

export async function handleSyncGroup(ctx: BrokerContext, request: SyncGroupRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  try {
    authorizeMembers(ctx, scope, request.groupId, [request.memberId]);
    const result = await ctx.coordinator.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      assignments: request.assignments.map((entry) => ({ memberId: entry.memberId, assignment: Buffer.from(entry.assignment) })),
    });
    return answer({ throttleTimeMs: 0, errorCode: kafkaCode(result.errorCode), assignment: result.assignment } satisfies SyncGroupResponse);
  } catch (error) {
    return answer({ throttleTimeMs: 0, errorCode: itemError(ctx, 'groups', error).errorCode, assignment: EMPTY } satisfies SyncGroupResponse);
  }
}

export async function handleHeartbeat(ctx: BrokerContext, request: HeartbeatRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  try {
    authorizeMembers(ctx, scope, request.groupId, [request.memberId]);
    const result = await ctx.coordinator.classicHeartbeat({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
    });
    return answer({ throttleTimeMs: 0, errorCode: kafkaCode(result.errorCode) });
  } catch (error) {
    return answer({ throttleTimeMs: 0, errorCode: itemError(ctx, 'groups', error).errorCode });
  }
}

export async function handleLeaveGroup(ctx: BrokerContext, request: LeaveGroupRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  // v0-2 name one member by id; v3+ a batch.
  const members = scope.apiVersion >= 3 ? request.members : [{ memberId: request.memberId, groupInstanceId: null }];
  try {
    authorizeMembers(ctx, scope, request.groupId, members.map((member) => member.memberId));
    const result = await ctx.coordinator.leaveGroup({ groupId: request.groupId, members });
    return answer({
      throttleTimeMs: 0,
      errorCode: kafkaCode(result.errorCode),
      members: result.members.map((member) => ({ memberId: member.memberId, groupInstanceId: member.groupInstanceId, errorCode: kafkaCode(member.errorCode) })),
    } satisfies LeaveGroupResponse);
  } catch (error) {
    return answer({ throttleTimeMs: 0, errorCode: itemError(ctx, 'groups', error).errorCode, members: [] } satisfies LeaveGroupResponse);
  }
}

export async function handleOffsetCommit(ctx: BrokerContext, request: OffsetCommitRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  // Read on the group, and Read on each topic (a denied topic's partitions are answered
  // TOPIC_AUTHORIZATION_FAILED and not committed), as Kafka's handleOffsetCommitRequest.
  const groupAllowed = mayGroup(ctx, scope.session, Operation.Read, request.groupId);
  const deniedTopics = new Set(request.topics.filter((topic) => !mayTopic(ctx, scope.session, Operation.Read, topic.name)).map((topic) => topic.name));
  const offsets = request.topics.filter((topic) => !deniedTopics.has(topic.name)).flatMap((topic) =>
    topic.partitions.map((partition) => ({
      topic: topic.name,
      partition: partition.partitionIndex,
      offset: partition.committedOffset,
      metadata: partition.committedMetadata ?? '',
    })),
  );
  const byPartition = new Map<string, number>();
  let requestCode: number = KafkaErrors.NONE;
  try {
    if (!groupAllowed) {
      requestCode = KafkaErrors.GROUP_AUTHORIZATION_FAILED;
    } else if (offsets.length > RequestLimits.maxPartitionsPerRequest) {
      requestCode = KafkaErrors.INVALID_REQUEST;
    } else if (offsets.length > 0) {
      claimMember(ctx, scope.session, request.groupId, request.memberId);
      const result = await ctx.coordinator.commitOffsets({
        groupId: request.groupId,
        memberId: request.memberId,
        memberEpoch: request.generationIdOrMemberEpoch,
        groupInstanceId: request.groupInstanceId,
        offsets,
      });
      requestCode = kafkaCode(result.errorCode);
      for (const partition of result.partitions) byPartition.set(`${partition.topic}\u0000${partition.partition}`, kafkaCode(partition.errorCode));
    }
  } catch (error) {
    requestCode = itemError(ctx, 'groups', error).errorCode;
  }
  const topics = request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitions.map((partition) => ({
      partitionIndex: partition.partitionIndex,
      errorCode: requestCode !== KafkaErrors.NONE ? requestCode : deniedTopics.has(topic.name) ? KafkaErrors.TOPIC_AUTHORIZATION_FAILED : (byPartition.get(`${topic.name}\u0000${partition.partitionIndex}`) ?? KafkaErrors.NONE),
    })),
  }));
  return answer({ throttleTimeMs: 0, topics } satisfies OffsetCommitResponse);
}

export async function handleOffsetFetch(ctx: BrokerContext, request: OffsetFetchRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const groups = await mapSequentially(offsetFetchGroups(scope.apiVersion, request), async (group) => {
    const partitions = group.topics === null ? null : group.topics.flatMap((topic) => topic.partitionIndexes.map((partition) => ({ topic: topic.name, partition })));
    let errorCode: number = KafkaErrors.NONE;
    let topics: OffsetFetchResponseTopics[] = [];
    try {
      if (!mayGroup(ctx, scope.session, Operation.Describe, group.groupId)) {
        errorCode = KafkaErrors.GROUP_AUTHORIZATION_FAILED;
      } else if (partitions !== null && partitions.length > RequestLimits.maxPartitionsPerRequest) {
        errorCode = KafkaErrors.INVALID_REQUEST;
      } else {
        const result = await ctx.coordinator.fetchOffsets({ groupId: group.groupId, partitions });
        // An unknown group has no offsets: Kafka answers -1 for each partition, not an error.
        errorCode = result.errorCode === Errors.GROUP_ID_NOT_FOUND.code ? KafkaErrors.NONE : kafkaCode(result.errorCode);
        const byTopic = new Map<string, OffsetFetchResponseTopics>();
        const known = new Map(result.offsets.map((entry) => [`${entry.topic}\u0000${entry.partition}`, entry]));
        // Every partition asked: only topics the requester may Describe (Kafka filters them);
        // a named one it may not is answered TOPIC_AUTHORIZATION_FAILED.
        const wanted = partitions ?? result.offsets.filter((entry) => mayTopic(ctx, scope.session, Operation.Describe, entry.topic)).map((entry) => ({ topic: entry.topic, partition: entry.partition }));
        for (const { topic, partition } of wanted) {
          let answerTopic = byTopic.get(topic);
          if (!answerTopic) byTopic.set(topic, (answerTopic = { name: topic, partitions: [] }));
          const entry = known.get(`${topic}\u0000${partition}`);
          answerTopic.partitions.push({
            partitionIndex: partition,
            committedOffset: entry ? entry.offset : -1,
            committedLeaderEpoch: -1,
            metadata: entry ? entry.metadata : '',
            errorCode: !mayTopic(ctx, scope.session, Operation.Describe, topic) ? KafkaErrors.TOPIC_AUTHORIZATION_FAILED : entry ? kafkaCode(entry.errorCode) : KafkaErrors.NONE,
          });
        }
        topics = [...byTopic.values()];
      }
    } catch (error) {
      errorCode = itemError(ctx, 'groups', error).errorCode;
    }
    return { groupId: group.groupId, topics, errorCode };
  });
  if (scope.apiVersion >= 8) return answer({ throttleTimeMs: 0, groups } satisfies OffsetFetchResponse);
  const only = groups[0]!;
  return answer({ throttleTimeMs: 0, topics: only.topics, errorCode: only.errorCode } satisfies OffsetFetchResponse);
}

export async function handleListGroups(ctx: BrokerContext, request: ListGroupsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const result = await ctx.coordinator.listGroups();
  const filter = new Set(request.statesFilter.map((state) => state.toLowerCase()));
  // Share groups are spool's own (ShareFetch): a Kafka client could not describe them.
  // Only groups the requester may Describe are listed.
  const groups = visibleGroups(ctx, scope.session, result.groups)
    .filter((group) => group.kind !== 'share')
    .map((group) => ({ groupId: group.groupId, protocolType: 'consumer', groupState: KAFKA_STATES[group.state] }))
    .filter((group) => filter.size === 0 || filter.has(group.groupState.toLowerCase()));
  return answer({ throttleTimeMs: 0, errorCode: kafkaCode(result.errorCode), groups } satisfies ListGroupsResponse);
}

export async function handleDescribeGroups(ctx: BrokerContext, request: DescribeGroupsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const names = request.groups.slice(0, RequestLimits.maxGroupsPerRequest);
  const allowed = names.map((groupId) => mayGroup(ctx, scope.session, Operation.Describe, groupId));
  const described = await mapSequentially(names.map((groupId, i) => ({ groupId, allowed: allowed[i]! })), async ({ groupId, allowed: may }) =>
    may ? (await ctx.coordinator.describeGroups({ groupIds: [groupId] })).groups[0]! : null,
  );
  const groups = request.groups.map((groupId, i) => {
    if (allowed[i] === false) return { errorCode: KafkaErrors.GROUP_AUTHORIZATION_FAILED, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    const group = described[i];
    if (group === undefined || group === null) return { errorCode: KafkaErrors.INVALID_REQUEST, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    // Kafka describes an unknown group as Dead with no error.
    if (group.errorCode === Errors.GROUP_ID_NOT_FOUND.code) {
      return { errorCode: KafkaErrors.NONE, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [], authorizedOperations: -2147483648 };
    }
    return {
      errorCode: kafkaCode(group.errorCode),
      groupId,
      groupState: KAFKA_STATES[group.state],
      protocolType: group.kind === 'classic' ? (group.protocolType ?? 'consumer') : 'consumer',
      protocolData: group.assignor,
      members: group.members.map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId ?? null,
        clientId: member.clientId,
        clientHost: member.clientHost ?? '',
        memberMetadata: member.metadata ?? EMPTY,
        memberAssignment: member.assignmentBytes ?? EMPTY,
      })),
      authorizedOperations: -2147483648,
    };
  });
  return answer({ throttleTimeMs: 0, groups } satisfies DescribeGroupsResponse);
}
