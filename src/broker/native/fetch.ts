// Native Fetch: the core's reads become the msgpack header (per partition: error, high
// watermark, log start, size) and the payload (the batch bytes, never copied, in
// partition order).

import { errorFields } from '../../protocol/errors.js';
import type { FetchPartitionResult, FetchRequest } from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { fetch, type FetchRead } from '../core/fetch.js';
import { thenMaybe } from '../slices.js';
import { clientIdOf, QuotaKind, recordQuota } from '../core/quotas.js';

export function handleFetch(ctx: BrokerContext, request: FetchRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse | null> {
  return thenMaybe(fetch(ctx, request, scope), (read) =>
    read === null ? null : toResponse(read, recordQuota(ctx, scope, clientIdOf(scope.session), QuotaKind.Fetch, read.totalBytes)),
  ) as HandlerResponse | Promise<HandlerResponse | null>;
}

function toResponse(read: FetchRead, throttleTimeMs: number): HandlerResponse {
  const payload: Buffer[] = [];
  const partitions = read.partitions.map((entry): FetchPartitionResult => {
    const result: FetchPartitionResult = {
      errorCode: 0,
      topic: entry.topic,
      partition: entry.partition,
      highWatermark: entry.highWatermark,
      logStartOffset: entry.logStartOffset,
      size: entry.records?.length ?? 0,
    };
    if (entry.error !== null) Object.assign(result, errorFields(entry.error));
    if (entry.nextOffset !== undefined) result.nextOffset = entry.nextOffset;
    if (entry.records) payload.push(entry.records);
    return result;
  });
  return { header: { errorCode: 0, partitions, ...(throttleTimeMs > 0 ? { throttleTimeMs } : {}) }, payload };
}
