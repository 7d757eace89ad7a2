// Native share-group APIs between brokers (62-66): the share coordinator's side
// (groups/share-coordinator-state.ts) answering share-partition leaders on other brokers
// (broker/share-persister-cluster.ts): NOT_COORDINATOR when this broker does not lead the
// group's __share_group_state partition, fencing errors per partition on writes; and the
// dead-letter partition's leader taking dead letters (broker/share-dead-letters-cluster.ts).

import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse } from '../context.js';
import { produce } from '../core/produce.js';
import { deadLetterTopic } from '../../groups/share-dead-letter.js';
import { checkGroupId } from '../../groups/validate.js';
import { errorFields } from '../../protocol/errors.js';
import { Errors, SpoolError } from '../../util/errors.js';
import { configFromWire, configToWire, runsFromWire, runsToWire } from '../share-state-wire.js';

/** These APIs are between the brokers of a cluster: a single node answers them with an error (its share groups never cross a network). */
function checkCluster(ctx: BrokerContext, api: string): void {
  if (ctx.replicas === undefined) throw new SpoolError(Errors.INVALID_REQUEST, `${api} is between the brokers of a cluster; this broker is a single node`);
}

export function handleReadShareGroupState(ctx: BrokerContext, request: M.ReadShareGroupStateRequest): HandlerResponse {
  checkCluster(ctx, 'ReadShareGroupState');
  const read = ctx.coordinator.shares.state.read(request.groupId, request.topic, request.partition, request.leaderEpoch);
  const response: M.ReadShareGroupStateResponse = {
    errorCode: 0,
    stateEpoch: read.stateEpoch,
    startOffset: read.value?.startOffset ?? -1,
    runs: read.value === null ? [] : runsToWire(read.value.runs),
    config: configToWire(read.config),
  };
  return { header: response };
}

export async function handleWriteShareGroupState(ctx: BrokerContext, request: M.WriteShareGroupStateRequest): Promise<HandlerResponse> {
  checkCluster(ctx, 'WriteShareGroupState');
  const writes = request.partitions.map((entry) => ({
    topic: entry.topic,
    partition: entry.partition,
    leaderEpoch: entry.leaderEpoch,
    stateEpoch: entry.stateEpoch,
    startOffset: entry.startOffset,
    runs: runsFromWire(entry.startOffset, entry.runs),
  }));
  const result = await ctx.coordinator.shares.state.write(request.groupId, writes);
  const response: M.WriteShareGroupStateResponse = { errorCode: 0, partitions: result.partitions, config: configToWire(result.config) };
  return { header: response };
}

export async function handleConfigureShareGroup(ctx: BrokerContext, request: M.ConfigureShareGroupRequest): Promise<HandlerResponse> {
  checkCluster(ctx, 'ConfigureShareGroup');
  const config = await ctx.coordinator.shares.state.configure(request.groupId, configFromWire(request), request.onlyIfUnset);
  const response: M.ConfigureShareGroupResponse = { errorCode: 0, config: configToWire(config) };
  return { header: response };
}

export async function handleResetShareGroupState(ctx: BrokerContext, request: M.ResetShareGroupStateRequest): Promise<HandlerResponse> {
  checkCluster(ctx, 'ResetShareGroupState');
  await ctx.coordinator.shares.state.reset(request.groupId, request.topic, request.partitions);
  const response: M.ResetShareGroupStateResponse = { errorCode: 0 };
  return { header: response };
}

/** Appends dead letters to `<group>.dlq` partition 0 here (its leader), acks=all; no topic ACL (a broker's request). */
export async function handleAppendDeadLetters(ctx: BrokerContext, request: M.AppendDeadLettersRequest, payload: Buffer): Promise<HandlerResponse> {
  checkCluster(ctx, 'AppendDeadLetters');
  const invalid = checkGroupId(request.groupId);
  if (invalid !== undefined) throw new SpoolError(Errors.INVALID_GROUP_ID, invalid);
  if (request.size !== payload.length) throw new SpoolError(Errors.INVALID_REQUEST, `size ${request.size} does not match the ${payload.length} payload bytes`);
  const [result] = await produce(ctx, [{ topic: deadLetterTopic(request.groupId), partition: 0, batches: payload }], -1);
  const response: M.AppendDeadLettersResponse = result!.error === null ? { errorCode: 0, baseOffset: result!.baseOffset } : { ...errorFields(result!.error), baseOffset: -1 };
  return { header: response };
}
