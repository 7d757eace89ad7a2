// One share consumer of `bench/cli.ts share --processes` (share-bench.ts), in its own
// process: on 'start' it connects and subscribes, says 'ready'; on 'go' it runs
// run({ eachMessage }) (an empty handler: accept) and reports { count, bytes, lastWallMs }
// every 50 ms; on 'stop' it reports once more, closes (releasing what it holds) and exits.

import { Client } from '../../src/client/index.js';

export interface ShareWorkerStart {
  type: 'start';
  broker: string;
  topic: string;
  groupId: string;
  maxRecords: number;
}

export type ShareWorkerReport = { type: 'ready' } | { type: 'progress'; count: number; bytes: number; lastWallMs: number } | { type: 'failed'; error: string };

const wallNow = (): number => performance.timeOrigin + performance.now();

if (process.send !== undefined) {
  const send = (message: ShareWorkerReport): void => void process.send?.(message);
  let count = 0;
  let bytes = 0;
  let lastWallMs = 0;
  let client: Client | undefined;
  let timer: NodeJS.Timeout | undefined;
  let go: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (go = resolve));
  const report = (): void => send({ type: 'progress', count, bytes, lastWallMs });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: { type: 'go' | 'stop' } | ShareWorkerStart) => {
    if (message.type === 'go') go();
    else if (message.type === 'stop') {
      clearInterval(timer);
      report();
      void (client?.close() ?? Promise.resolve()).finally(() => process.disconnect());
    } else if (message.type === 'start') {
      const start = message;
      client = new Client({ brokers: [start.broker], clientId: 'spool-bench-share-worker' });
      const consumer = client.shareConsumer({ groupId: start.groupId, maxRecords: start.maxRecords });
      consumer
        .subscribe({ topics: [start.topic] })
        .then(() => send({ type: 'ready' }))
        .then(() => started)
        .then(() => {
          timer = setInterval(report, 50);
          return consumer.run({
            eachMessage: async ({ message: record }) => {
              count++;
              bytes += record.value?.length ?? 0;
              lastWallMs = wallNow();
            },
          });
        })
        .catch((error: unknown) => send({ type: 'failed', error: error instanceof Error ? error.message : String(error) }));
    }
  });
}
