// ShareFetch, protocol-neutral: acquire records of a share group (the coordinator's share
// kind does the bookkeeping, synchronously, from batch headers) and answer the raw batch
// bytes covering the acquired ranges, never decoded or copied.
//
// Long-poll: when nothing could be acquired, the request parks on its partitions
// (FetchWaiters, like Fetch) until a produce appends to one of them or the coordinator
// makes records available again (release, lock expiry, a member leaving), then tries
// again; or maxWaitMs passes, or the broker shuts down. A connection that closes while
// parked acquires nothing. At most maxParkedFetches park (Fetch and ShareFetch together);
// beyond that the request is answered empty at once.

import type { ShareFetchResult, ShareFetchSpec } from '../../groups/share-groups.js';
import type { BrokerContext, RequestScope } from '../context.js';
import type { SpoolError } from '../../util/errors.js';
import { partitionKey } from '../waiters.js';
import { longPoll } from './long-poll.js';

export interface ShareFetchRequestSpec extends ShareFetchSpec {
  maxWaitMs: number;
}

function acquiredSomething(result: ShareFetchResult): boolean {
  return result.errorCode !== 0 || result.partitions.some((entry) => entry.acquired.length > 0 || entry.errorCode !== 0);
}

/**
 * Acquires now, or parks until records can be acquired, maxWaitMs or shutdown; null when
 * the connection closed meanwhile. Share-partitions this broker leads but does not hold
 * yet are taken up first (their state read from the share coordinator).
 */
export function shareFetch(ctx: BrokerContext, request: ShareFetchRequestSpec, scope: RequestScope): ShareFetchResult | Promise<ShareFetchResult | null> {
  const preparing = ctx.coordinator.shares.prepare(request.groupId, request.partitions);
  if (preparing !== undefined) return preparing.then((failures) => (scope.signal.aborted ? null : acquireOrPark(ctx, request, scope, failures)));
  return acquireOrPark(ctx, request, scope, undefined);
}

function acquireOrPark(
  ctx: BrokerContext,
  request: ShareFetchRequestSpec,
  scope: RequestScope,
  failures: ReadonlyMap<string, SpoolError> | undefined,
): ShareFetchResult | Promise<ShareFetchResult | null> {
  const acquire = (): ShareFetchResult =>
    ctx.coordinator.shares.acquire({ ...request, maxBytes: Math.max(1, Math.min(request.maxBytes, ctx.options.fetchMaxBytes, scope.responseBytesLeft())) }, failures);
  const first = acquire();
  if (acquiredSomething(first) || request.maxWaitMs === 0 || ctx.shuttingDown) return first;
  return longPoll(ctx, scope, {
    keys: request.partitions.map((entry) => partitionKey(entry.topic, entry.partition)),
    maxWaitMs: request.maxWaitMs,
    retry() {
      if (ctx.shuttingDown) return first;
      const result = acquire();
      return acquiredSomething(result) ? result : undefined;
    },
    // At the deadline the request answers what it has (nothing): acquiring then could hand
    // records to a client that already gave up waiting.
    atDeadline: () => first,
    notParked: first,
  });
}
