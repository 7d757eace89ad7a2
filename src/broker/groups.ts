// The group APIs, routed to the GroupCoordinator. The coordinator answers with whole
// response bodies; a SpoolError it throws fails the request with that code (dispatch.ts).

import type * as M from '../protocol/messages.js';
import type { BrokerContext, HandlerResponse } from './context.js';

function wrap(header: object): HandlerResponse {
  return { header };
}

export async function handleHeartbeat(ctx: BrokerContext, request: M.ConsumerGroupHeartbeatRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.heartbeat(request));
}
export async function handleOffsetCommit(ctx: BrokerContext, request: M.OffsetCommitRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.commitOffsets(request));
}
export async function handleOffsetFetch(ctx: BrokerContext, request: M.OffsetFetchRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.fetchOffsets(request));
}
export async function handleListGroups(ctx: BrokerContext, request: M.ListGroupsRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.listGroups(request));
}
export async function handleDescribeGroups(ctx: BrokerContext, request: M.DescribeGroupsRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.describeGroups(request));
}
export async function handleDeleteGroups(ctx: BrokerContext, request: M.DeleteGroupsRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.deleteGroups(request));
}
export async function handleResetOffsets(ctx: BrokerContext, request: M.ResetOffsetsRequest): Promise<HandlerResponse> {
  return wrap(await ctx.coordinator.resetOffsets(request));
}
