// The share workload on spool: one share group read by N share consumers, each with its own
// Client (own connections), run({ eachMessage }) accepting each message (the SDK acks in
// ranges, carried by the next ShareFetch). Uses the SDK from src/ (run under tsx).

import { Client } from '../../src/client/index.js';
import type { ShareDrain } from './share-common.js';

export async function spoolWorkQueue(port: number, topic: string, workers: number, drain: ShareDrain): Promise<void> {
  const groupId = `workers-${Math.random().toString(36).slice(2, 8)}`;
  const clients = Array.from({ length: workers }, (_, index) => new Client({ brokers: [`127.0.0.1:${port}`], clientId: `bench-share-${index}` }));
  try {
    const consumers = clients.map((client) => client.shareConsumer({ groupId }));
    for (const consumer of consumers) await consumer.subscribe({ topics: [topic] });
    const finished = new Promise<void>((resolve) => drain.onDone(resolve));
    drain.start();
    await Promise.all(consumers.map((consumer, index) => consumer.run({ eachMessage: async ({ message }) => drain.add(index, message.value?.length ?? 0) })));
    await finished;
  } finally {
    await Promise.all(clients.map((client) => client.close({ timeoutMs: 2_000 })));
  }
}
