// The produce loop shared by the bench scripts: `total` messages sent `perSend` at a time
// (the same message objects reused), at most `outstanding` send() calls in flight.

import type { Producer } from '../src/client/index.js';

export async function sendAll(
  producer: Producer,
  topic: string,
  messages: Array<{ value: Buffer }>,
  total: number,
  outstanding: number,
): Promise<void> {
  const perSend = messages.length;
  const inFlight = new Set<Promise<unknown>>();
  for (let sent = 0; sent < total; ) {
    const count = Math.min(perSend, total - sent);
    const promise = producer.send({ topic, messages: count === perSend ? messages : messages.slice(0, count) });
    sent += count;
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
    if (inFlight.size >= outstanding) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
}
