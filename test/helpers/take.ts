// Reading a known number of messages from a consumer in the client tests.

import type { ConsumedMessage, Consumer } from '../../src/client/index.js';

/** The next `count` messages of `consumer` (its async iterator); none for a count of 0. */
export async function take(consumer: Consumer, count: number): Promise<ConsumedMessage[]> {
  const messages: ConsumedMessage[] = [];
  if (count === 0) return messages;
  for await (const message of consumer) {
    messages.push(message);
    if (messages.length === count) break;
  }
  return messages;
}
