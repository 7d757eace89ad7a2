// Native InitProducerId over the core (core/producer-ids.ts). In cluster mode the id may come
// after an etcd reservation (a Promise); CLUSTER_UNAVAILABLE then fails the request (retriable).

import type * as M from '../../protocol/messages.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { initProducerId, type ProducerIdentity } from '../core/producer-ids.js';

export function handleInitProducerId(ctx: BrokerContext, request: M.InitProducerIdRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse> {
  const identity = initProducerId(ctx, request.transactionalId, scope.session);
  return identity instanceof Promise ? identity.then(respond) : respond(identity);
}

function respond(identity: ProducerIdentity): HandlerResponse {
  return { header: { errorCode: 0, ...identity } satisfies M.InitProducerIdResponse };
}
