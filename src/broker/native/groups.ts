// The native group APIs, routed to the GroupCoordinator. dispatch.ts has already checked
// each request's shape (protocol/validate.ts); here the native messages become the
// coordinator's domain types (src/groups/types.ts) and its results become native
// responses. The native messages were designed from the same shapes, so the conversion
// is the identity checked by the compiler: a drift between the two fails the build
// here. A SpoolError the coordinator throws fails the request with that code (dispatch.ts).

import type { GroupCoordinator } from '../../groups/coordinator.js';
import type * as G from '../../groups/types.js';
import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { claimMember, visibleGroups, visibleTopicEntries } from '../core/authorize.js';
import type { Principal } from '../../security/authorizer.js';
import { mapSequentially } from '../slices.js';

type GroupHandler<Request> = (ctx: BrokerContext, request: Request) => Promise<HandlerResponse>;

/**
 * A handler that converts the request to the domain type, calls one coordinator method
 * and answers with its result as the native response.
 */
function forward<Request extends Domain, Domain, Result extends Response, Response extends object>(
  call: (coordinator: GroupCoordinator, request: Domain) => Promise<Result>,
): GroupHandler<Request> {
  return async (ctx, request) => {
    const response: Response = await call(ctx.coordinator, request);
    return { header: response };
  };
}

/** The member's address comes from the connection (group describe shows it), never from the request. */
export async function handleHeartbeat(ctx: BrokerContext, request: M.ConsumerGroupHeartbeatRequest, remoteAddress: string | undefined, who?: Principal): Promise<HandlerResponse> {
  const heartbeat: G.ConsumerHeartbeat = { ...request, clientHost: (remoteAddress ?? '').replace(/^::ffff:/, '') };
  const response: M.ConsumerGroupHeartbeatResponse = await ctx.coordinator.heartbeat(heartbeat);
  // The member id the coordinator just gave out belongs to this principal (core/member-owners.ts).
  if (who !== undefined && response.errorCode === 0) claimMember(ctx, who, request.groupId, response.memberId);
  return { header: response };
}
export const handleOffsetCommit = forward<M.OffsetCommitRequest, G.OffsetCommit, G.OffsetCommitResult, M.OffsetCommitResponse>(
  (coordinator, request) => coordinator.commitOffsets(request),
);
/** Every partition's offsets (no partitions named): only topics the requester may Describe (named ones were checked in authorize.ts). */
export async function handleOffsetFetch(ctx: BrokerContext, request: M.OffsetFetchRequest, scope: RequestScope): Promise<HandlerResponse> {
  const result: G.OffsetFetchResult = await ctx.coordinator.fetchOffsets(request);
  const response: M.OffsetFetchResponse = { ...result, offsets: visibleTopicEntries(ctx, scope.session, result.offsets) };
  return { header: response };
}
/** Only the groups the requester may Describe. */
export async function handleListGroups(ctx: BrokerContext, _request: M.ListGroupsRequest, scope: RequestScope): Promise<HandlerResponse> {
  const result: G.ListGroupsResult = await ctx.coordinator.listGroups();
  const response: M.ListGroupsResponse = { ...result, groups: visibleGroups(ctx, scope.session, result.groups) };
  return { header: response };
}
/**
 * One group at a time, yielding between slices (slices.ts): describing a group computes
 * the lag of each of its partitions (~2.5 us each), so 1000 large groups took seconds.
 */
export async function handleDescribeGroups(ctx: BrokerContext, request: M.DescribeGroupsRequest): Promise<HandlerResponse> {
  const groups: G.GroupDescription[] = [];
  const answers = await mapSequentially(request.groupIds, (groupId) => ctx.coordinator.describeGroups({ groupIds: [groupId] }));
  for (const answer of answers) {
    if (answer.errorCode !== 0) return { header: answer };
    groups.push(...answer.groups);
  }
  const response: M.DescribeGroupsResponse = { errorCode: 0, groups };
  return { header: response };
}
export const handleDeleteGroups = forward<M.DeleteGroupsRequest, { groupIds: readonly string[] }, G.DeleteGroupsResult, M.DeleteGroupsResponse>(
  (coordinator, request) => coordinator.deleteGroups(request),
);
export const handleResetOffsets = forward<M.ResetOffsetsRequest, G.ResetOffsets, G.ResetOffsetsResult, M.ResetOffsetsResponse>(
  (coordinator, request) => coordinator.resetOffsets(request),
);
