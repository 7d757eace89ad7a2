// Native ShareFetch / ShareAcknowledge (api keys 40, 41), routed to the coordinator's share
// kind (src/groups/share-groups.ts). ShareFetch answers, per partition, the acquired
// ranges in the header and the covering batches in the payload (`size` bytes each, in
// partition order, never copied). A ShareFetch may carry acknowledgements: they are
// applied (and durable) before it acquires, and answered in its response.

import type { ShareFetchResult } from '../../groups/share-groups.js';
import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { shareFetch } from '../core/share-fetch.js';
import { describeShareGroup } from '../core/share-describe.js';
import { deadLetterTopic } from '../../groups/share-dead-letter.js';
import { thenMaybe } from '../slices.js';
import { Errors, isSpoolError } from '../../util/errors.js';

export function handleShareFetch(ctx: BrokerContext, request: M.ShareFetchRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse | null> {
  if (request.groupConfig !== undefined) {
    // A member's first fetch carries its group config: set it (durably) unless the group has one.
    const { groupConfig, ...fetch } = request;
    return ctx.coordinator.shares.configure(request.groupId, groupConfig, true).then(
      () => handleShareFetch(ctx, fetch, scope),
      (error: unknown) => {
        if (!isSpoolError(error)) throw error;
        return { header: { errorCode: error.errorCode, errorMessage: error.message, partitions: [] } satisfies M.ShareFetchResponse };
      },
    );
  }
  if (request.acknowledgements !== undefined) {
    // Acknowledgements ride along (one round trip per acquisition): applied and durable
    // first, so this very fetch sees the window they free; their answer goes in the response.
    const { acknowledgements, ...fetch } = request;
    return ctx.coordinator.shares.acknowledge({ groupId: request.groupId, memberId: request.memberId, partitions: acknowledgements }).then(async (acked) => {
      if (acked.errorCode !== 0) {
        const failed: M.ShareFetchResponse = { errorCode: acked.errorCode, partitions: [], acknowledgements: acked.partitions };
        if (acked.errorMessage !== undefined) failed.errorMessage = acked.errorMessage;
        return { header: failed };
      }
      const response = await handleShareFetch(ctx, fetch, scope);
      if (response !== null) (response.header as M.ShareFetchResponse).acknowledgements = acked.partitions;
      return response;
    });
  }
  return thenMaybe(shareFetch(ctx, request, scope), (result) => (result === null ? null : toResponse(result))) as
    | HandlerResponse
    | Promise<HandlerResponse | null>;
}

function toResponse(result: ShareFetchResult): HandlerResponse {
  const payload: Buffer[] = [];
  const partitions = result.partitions.map((entry): M.ShareFetchPartitionResult => {
    const answer: M.ShareFetchPartitionResult = {
      errorCode: entry.errorCode,
      topic: entry.topic,
      partition: entry.partition,
      size: entry.records?.length ?? 0,
      acquired: entry.acquired,
    };
    if (entry.errorMessage !== undefined) answer.errorMessage = entry.errorMessage;
    if (entry.records !== null) payload.push(entry.records);
    return answer;
  });
  const header: M.ShareFetchResponse = { errorCode: result.errorCode, partitions };
  if (result.errorMessage !== undefined) header.errorMessage = result.errorMessage;
  return { header, payload };
}

export function handleDescribeShareGroups(ctx: BrokerContext, request: M.DescribeShareGroupsRequest): HandlerResponse {
  const groups = request.groupIds.map((groupId): M.ShareGroupDescription => {
    const description = describeShareGroup(ctx, groupId);
    if (description === undefined) {
      return { groupId, errorCode: Errors.GROUP_ID_NOT_FOUND.code, errorMessage: `share group ${groupId} does not exist`, members: [], deadLetterTopic: deadLetterTopic(groupId), deadLetters: 0, partitions: [] };
    }
    return { errorCode: 0, ...description };
  });
  const response: M.DescribeShareGroupsResponse = { errorCode: 0, groups };
  return { header: response };
}

export async function handleShareAcknowledge(ctx: BrokerContext, request: M.ShareAcknowledgeRequest): Promise<HandlerResponse> {
  const shares = ctx.coordinator.shares;
  const result = await shares.acknowledge(request);
  if (request.leave === true && result.errorCode === 0) await shares.leave(request.groupId, request.memberId);
  const response: M.ShareAcknowledgeResponse = result;
  return { header: response };
}
