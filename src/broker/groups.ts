// The group APIs, routed to the GroupCoordinator. The coordinator answers with whole
// response bodies; a SpoolError it throws fails the request with that code (dispatch.ts).

import type { GroupCoordinator } from '../groups/coordinator.js';
import type * as M from '../protocol/messages.js';
import type { BrokerContext, HandlerResponse } from './context.js';
import { mapSequentially } from './slices.js';

type GroupHandler<Request> = (ctx: BrokerContext, request: Request) => Promise<HandlerResponse>;

/** A handler that passes the request to one coordinator method and answers with its result. */
function forward<Request>(call: (coordinator: GroupCoordinator, request: Request) => Promise<object>): GroupHandler<Request> {
  return async (ctx, request) => ({ header: await call(ctx.coordinator, request) });
}

export const handleHeartbeat = forward((coordinator, request: M.ConsumerGroupHeartbeatRequest) => coordinator.heartbeat(request));
export const handleOffsetCommit = forward((coordinator, request: M.OffsetCommitRequest) => coordinator.commitOffsets(request));
export const handleOffsetFetch = forward((coordinator, request: M.OffsetFetchRequest) => coordinator.fetchOffsets(request));
export const handleListGroups = forward((coordinator, request: M.ListGroupsRequest) => coordinator.listGroups(request));
/**
 * One group at a time, yielding between slices (slices.ts): describing a group computes
 * the lag of each of its partitions (~2.5 us each), so 1000 large groups took seconds.
 */
export async function handleDescribeGroups(ctx: BrokerContext, request: M.DescribeGroupsRequest): Promise<HandlerResponse> {
  const groups: M.GroupDescription[] = [];
  const answers = await mapSequentially(request.groupIds, (groupId) => ctx.coordinator.describeGroups({ groupIds: [groupId] }));
  for (const answer of answers) {
    if (answer.errorCode !== 0) return { header: answer };
    groups.push(...answer.groups);
  }
  return { header: { errorCode: 0, groups } satisfies M.DescribeGroupsResponse };
}
export const handleDeleteGroups = forward((coordinator, request: M.DeleteGroupsRequest) => coordinator.deleteGroups(request));
export const handleResetOffsets = forward((coordinator, request: M.ResetOffsetsRequest) => coordinator.resetOffsets(request));
