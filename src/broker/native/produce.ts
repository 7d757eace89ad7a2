// Native Produce: the msgpack header lists (topic, partition, size) and the batches ride
// as the raw payload after it; split it per partition (subarrays, no copy), call the
// core, answer per acks (0: no response at all).

import { splitPayload } from '../../protocol/body.js';
import { errorFields } from '../../protocol/errors.js';
import type { ProducePartitionResult, ProduceRequest } from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { produce, type PartitionAppendResult } from '../core/produce.js';
import { thenMaybe } from '../slices.js';
import { clientIdOf, QuotaKind, recordQuota } from '../core/quotas.js';

export function handleProduce(ctx: BrokerContext, request: ProduceRequest, payload: Buffer, scope: RequestScope): HandlerResponse | null | Promise<HandlerResponse | null> {
  const parts = splitPayload(
    payload,
    request.partitions.map((entry) => entry.size),
  );
  const appends = request.partitions.map((entry, i) => ({ topic: entry.topic, partition: entry.partition, batches: parts[i]! }));
  const throttleTimeMs = recordQuota(ctx, scope, clientIdOf(scope.session), QuotaKind.Produce, payload.length);
  return thenMaybe(produce(ctx, appends, request.acks, scope.session), (results) =>
    request.acks === 0 ? null : { header: { errorCode: 0, partitions: results.map(toNative), ...(throttleTimeMs > 0 ? { throttleTimeMs } : {}) } },
  );
}

function toNative(result: PartitionAppendResult): ProducePartitionResult {
  const fields = result.error === null ? { errorCode: 0 } : errorFields(result.error);
  return { ...fields, topic: result.topic, partition: result.partition, baseOffset: result.baseOffset, logStartOffset: result.logStartOffset };
}
