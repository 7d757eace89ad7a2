// `spool consume <topic> --share-group G`: a share-group member (src/client/share-consumer.ts)
// printing each record as `spool consume` does, and acknowledging (accept) each one only
// after its line is written to stdout (and stdout drained when it pushes back), so a record
// the pipe never took is released on exit and delivered to another member. Stops after
// --max-messages, after --timeout-ms without a message, on SIGINT/SIGTERM or a closed pipe;
// close() then releases whatever was acquired and not printed.

import type { ConsumedMessage } from '../client/index.js';
import { settleWithin, type Connection } from './connect.js';
import { OutputWriter } from './output.js';

export interface ShareConsumeOptions {
  shareGroup: string;
  maxMessages?: number;
  timeoutMs?: number;
  format: (message: ConsumedMessage) => string;
}

const STOP = Symbol('stop');

export async function consumeShared(connection: Connection, topic: string, options: ShareConsumeOptions): Promise<void> {
  // Small acquisitions: a line-at-a-time reader should not hold hundreds of records locked.
  const consumer = connection.client.shareConsumer({ groupId: options.shareGroup, maxRecords: 50 });
  const out = new OutputWriter(process.stdout);
  let stop!: () => void;
  const stopped = new Promise<typeof STOP>((resolve) => (stop = () => resolve(STOP)));
  out.onClosed(stop);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let idleTimer: NodeJS.Timeout | null = null;
  const touch = (): void => {
    if (options.timeoutMs === undefined) return;
    if (idleTimer !== null) clearTimeout(idleTimer);
    idleTimer = setTimeout(stop, options.timeoutMs);
  };
  try {
    await consumer.subscribe({ topics: [topic] });
    touch();
    const iterator = consumer[Symbol.asyncIterator]();
    const maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
    for (let count = 0; count < maxMessages; count++) {
      const next = iterator.next();
      const result = await Promise.race([next, stopped]);
      if (result === STOP) {
        next.catch(() => undefined); // settles when the consumer closes
        return;
      }
      if (result.done === true) return;
      out.write(options.format(result.value));
      if (out.mustWait) await Promise.race([out.drained(), stopped]);
      if (out.closed) return; // not taken by the reader: released on close
      await result.value.ack();
      touch();
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    if (idleTimer !== null) clearTimeout(idleTimer);
    await settleWithin(consumer.close(), 5000);
    await out.end();
  }
}
