// Producing one message for a human (the web console's "produce a test message"): encodes a
// one-record batch and appends it through the core's produce with acks all, so it is
// validated, counted in the metrics and wakes parked fetches like any produce. Control
// path only: the hot path never builds batches on the broker.

import { encodeBatch } from '../../records/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { produce } from './produce.js';

export interface TestMessage {
  topic: string;
  partition: number;
  key: string | null;
  value: string | null;
  headers: Array<[string, string]>;
}

/** Appends the message; answers its offset. Throws the append's SpoolError. */
export async function produceTestMessage(ctx: BrokerContext, message: TestMessage): Promise<{ offset: number }> {
  // Never auto-created from here: the console produces to a topic it shows.
  if (!ctx.logs.getTopic(message.topic)) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${message.topic}' does not exist`);
  const batches = encodeBatch([{ key: message.key, value: message.value, headers: message.headers }]);
  const [result] = await produce(ctx, [{ topic: message.topic, partition: message.partition, batches }], -1);
  if (result === undefined) throw new SpoolError(Errors.INVALID_REQUEST, 'produce answered no partition');
  if (result.error !== null) throw result.error;
  return { offset: result.baseOffset };
}
