// Native InitProducerId over the core (core/producer-ids.ts).

import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse } from '../context.js';
import { initProducerId } from '../core/producer-ids.js';

export function handleInitProducerId(ctx: BrokerContext, request: M.InitProducerIdRequest): HandlerResponse {
  const identity = initProducerId(ctx, request.transactionalId);
  return { header: { errorCode: 0, ...identity } satisfies M.InitProducerIdResponse };
}
