// Proves a parked long poll (src/broker/core/long-poll.ts) is retried as soon as the code that
// appended is done: in a microtask, with no timer or setImmediate on the reply path (the W4
// latency path: the fetch answer leaves in the same flush as the produce ack), and that the
// notifies of one synchronous burst (one produce request's partitions) retry it once. Plain
// unit test: a FetchWaiters registry and a stub scope, no sockets.

import { describe, expect, it } from 'vitest';
import type { BrokerContext, RequestScope } from '../../src/broker/context.js';
import { longPoll } from '../../src/broker/core/long-poll.js';
import { FetchWaiters, partitionKey } from '../../src/broker/waiters.js';

function stubs(): { ctx: BrokerContext; scope: RequestScope; waiters: FetchWaiters } {
  const waiters = new FetchWaiters(10);
  const ctx = { waiters } as unknown as BrokerContext;
  const scope = { signal: new AbortController().signal } as unknown as RequestScope;
  return { ctx, scope, waiters };
}

describe('longPoll', () => {
  it('answers in a microtask after the notify, before any setImmediate or timer', async () => {
    const { ctx, scope, waiters } = stubs();
    let ready = false;
    let retries = 0;
    const answer = longPoll(ctx, scope, {
      keys: [partitionKey('t', 0)],
      maxWaitMs: 10_000,
      retry: () => (retries++, ready ? 'data' : undefined),
      atDeadline: () => 'deadline',
      notParked: 'not parked',
    });
    let immediateRan = false;
    setImmediate(() => (immediateRan = true));
    ready = true;
    waiters.notify('t', 0);
    waiters.notify('t', 0); // a second partition of the same request: still one retry
    expect(retries).toBe(0); // not inside the appending code itself
    await Promise.resolve();
    expect(retries).toBe(1);
    await expect(answer).resolves.toBe('data');
    expect(immediateRan).toBe(false);
    expect(waiters.parkedCount).toBe(0);
  });

  it('of several fetches woken at once, the first retries in a microtask and the others one setImmediate each', async () => {
    const { ctx, scope, waiters } = stubs();
    const order: string[] = [];
    const answers = ['a', 'b', 'c'].map((name) =>
      longPoll(ctx, scope, {
        keys: [partitionKey('t', 0)],
        maxWaitMs: 10_000,
        retry: () => (order.push(name), name),
        atDeadline: () => 'deadline',
        notParked: 'not parked',
      }),
    );
    waiters.notify('t', 0);
    await Promise.resolve();
    expect(order).toEqual(['a']);
    expect(await Promise.all(answers)).toEqual(['a', 'b', 'c']);
  });

  it('stays parked when the retry has no answer yet, and is retried on the next notify', async () => {
    const { ctx, scope, waiters } = stubs();
    let ready = false;
    const answer = longPoll(ctx, scope, {
      keys: [partitionKey('t', 0)],
      maxWaitMs: 10_000,
      retry: () => (ready ? 'data' : undefined),
      atDeadline: () => 'deadline',
      notParked: 'not parked',
    });
    waiters.notify('t', 0);
    await Promise.resolve();
    expect(waiters.parkedCount).toBe(1);
    ready = true;
    waiters.notify('t', 0);
    await expect(answer).resolves.toBe('data');
  });
});
