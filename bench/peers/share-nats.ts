// The share workload on NATS JetStream: a work queue as JetStream does it, one durable
// pull consumer (explicit ack) shared by N workers, each on its own connection, each
// consume()-ing batches of PULL_BATCH and acking every message (m.ack(): a fire-and-forget
// ack message, the client's usual way). max_ack_pending is raised from the default 1,000
// to 4,000 to match spool's in-flight window.

import { AckPolicy, connect, type NatsConnection } from 'nats';
import type { ShareDrain } from './share-common.js';

const PULL_BATCH = 500;

export async function natsWorkQueue(port: number, stream: string, workers: number, drain: ShareDrain): Promise<void> {
  const admin = await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: 0, noAsyncTraces: true });
  const durable = `workers-${Math.random().toString(36).slice(2, 8)}`;
  const connections: NatsConnection[] = [];
  try {
    const manager = await admin.jetstreamManager();
    await manager.consumers.add(stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, max_ack_pending: 4_000 });
    for (let index = 0; index < workers; index++) connections.push(await connect({ servers: `127.0.0.1:${port}`, maxReconnectAttempts: 0, noAsyncTraces: true }));
    drain.start();
    await Promise.all(
      connections.map(async (connection, index) => {
        const consumer = await connection.jetstream().consumers.get(stream, durable);
        const messages = await consumer.consume({ max_messages: PULL_BATCH });
        const stop = drain.onDone(() => void messages.close());
        for await (const message of messages) {
          message.ack();
          drain.add(index, message.data.length);
          if (drain.done) break;
        }
        stop();
        // Not awaited: close() of an iterator already ended (break, or closed by onDone) may never resolve.
        void messages.close().catch(() => undefined);
      }),
    );
    await manager.consumers.delete(stream, durable).catch(() => undefined); // The stream goes next anyway.
  } finally {
    for (const connection of connections) await connection.drain().catch(() => undefined); // Closing anyway.
    await admin.drain().catch(() => undefined);
  }
}
