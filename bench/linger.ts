// Adaptive linger, both patterns: `npx tsc && npx tsx bench/linger.ts [--seconds S] [--tiny]`.
// Starts a broker process (dist/cli/main.js serve, port 0, temp dir, --fsync never) and
// measures, with the producer's adaptiveLinger on (the default) and off (every batch waits
// lingerMs = 5 ms, the behaviour before):
//   lone:     one awaited send() of one 100-byte message at a time (request/response code);
//             with a 5 ms linger this is bounded by ~1000 / 5.x ms = <200 sends/s.
//   parallel: 64 send() calls of one message outstanding at once (a busy service), where
//             batching is what gives the throughput.
// Each pattern runs for --seconds (default 3) and prints sends/s and messages per request
// (the producer's requests are counted by wrapping client.send). No numbers are asserted.

import { Client } from '../src/client/index.js';
import { ApiKey } from '../src/protocol/index.js';
import { startBroker } from '../test/helpers/broker.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const tiny = process.argv.includes('--tiny');
const seconds = argument('--seconds', tiny ? 0.3 : 3);
const outstanding = argument('--outstanding', 64);

const broker = await startBroker({ args: ['--fsync', 'never'] });
const client = new Client({ brokers: [broker.address] });
let requests = 0;
const send = client.send.bind(client);
client.send = (...args: Parameters<Client['send']>) => {
  if (args[0] === ApiKey.Produce) requests++;
  return send(...args);
};
try {
  const topic = 'linger';
  await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const value = Buffer.alloc(100, 'x');
  for (const adaptiveLinger of [true, false]) {
    const producer = client.producer({ acks: 1, lingerMs: 5, adaptiveLinger });
    await producer.send({ topic, messages: [{ value }] }); // metadata and connection warm
    {
      requests = 0;
      let sends = 0;
      const start = performance.now();
      while (performance.now() - start < seconds * 1000) {
        await producer.send({ topic, messages: [{ value }] });
        sends++;
      }
      report(`lone awaited send, adaptiveLinger ${adaptiveLinger}`, sends, (performance.now() - start) / 1000, requests);
    }
    {
      requests = 0;
      let sends = 0;
      const start = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      while (performance.now() - start < seconds * 1000) {
        const promise = producer.send({ topic, messages: [{ value }] });
        sends++;
        inFlight.add(promise);
        void promise.finally(() => inFlight.delete(promise));
        if (inFlight.size >= outstanding) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      report(`${outstanding} sends outstanding, adaptiveLinger ${adaptiveLinger}`, sends, (performance.now() - start) / 1000, requests);
    }
    await producer.close();
  }
} finally {
  await client.close();
  await broker.stop();
  broker.cleanup();
}

function report(what: string, sends: number, elapsedSeconds: number, produceRequests: number): void {
  const rate = Math.round(sends / elapsedSeconds);
  const perRequest = produceRequests === 0 ? 0 : sends / produceRequests;
  console.log(`${what}: ${rate.toLocaleString('en-US')} sends/s (${sends} in ${elapsedSeconds.toFixed(2)} s, ${perRequest.toFixed(1)} messages per request)`);
}
