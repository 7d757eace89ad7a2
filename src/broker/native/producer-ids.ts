// Native InitProducerId over the core (core/producer-ids.ts).

import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { initProducerId } from '../core/producer-ids.js';

export function handleInitProducerId(ctx: BrokerContext, request: M.InitProducerIdRequest, scope: RequestScope): HandlerResponse {
  const identity = initProducerId(ctx, request.transactionalId, scope.session);
  return { header: { errorCode: 0, ...identity } satisfies M.InitProducerIdResponse };
}
