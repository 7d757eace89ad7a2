// The share workload on Redis Streams: a consumer group read by N consumers, each on its
// own connection, each looping XREADGROUP ... COUNT READ_BATCH STREAMS s > (BLOCK 100 ms
// when empty) and acknowledging each batch's ids with one XACK (sent without waiting: the
// connection keeps order, and the next XREADGROUP waits behind it anyway).

import { Redis } from 'ioredis';
import type { ShareDrain } from './share-common.js';

const READ_BATCH = 500;

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

export async function redisWorkQueue(port: number, stream: string, workers: number, drain: ShareDrain): Promise<void> {
  const group = `workers-${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  const connections = Array.from({ length: workers }, () => new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 }));
  try {
    await admin.xgroup('CREATE', stream, group, '0');
    drain.start();
    await Promise.all(
      connections.map(async (redis, index) => {
        const consumer = `c${index}`;
        while (!drain.done) {
          const reply = (await redis.xreadgroup('GROUP', group, consumer, 'COUNT', READ_BATCH, 'BLOCK', 100, 'STREAMS', stream, '>')) as StreamReply;
          const entries = reply?.[0]?.[1] ?? [];
          if (entries.length === 0) continue;
          void redis.xack(stream, group, ...entries.map(([id]) => id));
          for (const [, fields] of entries) drain.add(index, fields[1]?.length ?? 0);
        }
      }),
    );
    await admin.xgroup('DESTROY', stream, group);
  } finally {
    for (const redis of connections) redis.disconnect();
    admin.disconnect();
  }
}
