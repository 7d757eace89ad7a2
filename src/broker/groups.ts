// The native group APIs, routed to the GroupCoordinator. dispatch.ts has already checked
// each request's shape (protocol/validate.ts); here the native messages become the
// coordinator's domain types (src/groups/types.ts) and its results become native
// responses. The native messages were designed from the same shapes, so the conversion
// is the identity checked by the compiler: a drift between the two fails the build
// here. A SpoolError the coordinator throws fails the request with that code (dispatch.ts).

import type { GroupCoordinator } from '../groups/coordinator.js';
import type * as G from '../groups/types.js';
import type * as M from '../protocol/messages.js';
import type { BrokerContext, HandlerResponse } from './context.js';

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

export const handleHeartbeat = forward<M.ConsumerGroupHeartbeatRequest, G.ConsumerHeartbeat, G.ConsumerHeartbeatResult, M.ConsumerGroupHeartbeatResponse>(
  (coordinator, request) => coordinator.heartbeat(request),
);
export const handleOffsetCommit = forward<M.OffsetCommitRequest, G.OffsetCommit, G.OffsetCommitResult, M.OffsetCommitResponse>(
  (coordinator, request) => coordinator.commitOffsets(request),
);
export const handleOffsetFetch = forward<M.OffsetFetchRequest, G.OffsetFetch, G.OffsetFetchResult, M.OffsetFetchResponse>(
  (coordinator, request) => coordinator.fetchOffsets(request),
);
export const handleListGroups = forward<M.ListGroupsRequest, object, G.ListGroupsResult, M.ListGroupsResponse>((coordinator) =>
  coordinator.listGroups(),
);
export const handleDescribeGroups = forward<M.DescribeGroupsRequest, { groupIds: readonly string[] }, G.DescribeGroupsResult, M.DescribeGroupsResponse>(
  (coordinator, request) => coordinator.describeGroups(request),
);
export const handleDeleteGroups = forward<M.DeleteGroupsRequest, { groupIds: readonly string[] }, G.DeleteGroupsResult, M.DeleteGroupsResponse>(
  (coordinator, request) => coordinator.deleteGroups(request),
);
export const handleResetOffsets = forward<M.ResetOffsetsRequest, G.ResetOffsets, G.ResetOffsetsResult, M.ResetOffsetsResponse>(
  (coordinator, request) => coordinator.resetOffsets(request),
);
