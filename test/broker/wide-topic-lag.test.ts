// Proves that creating and deleting one wide topic does not stall the broker's other
// clients (issue 8): storage makes and removes the partitions in ~5 ms slices that yield
// (src/storage/time-slices.ts). While a CreateTopics of PARTITIONS partitions, then a
// DeleteTopics of that topic, runs on a child broker, another client's ApiVersions round
// trips stay under 250 ms (generous for this loaded 2-core box: one slice plus a slow file
// call); in one piece 10,000 partitions blocked every client 8.3 s (create) and 2.7 s
// (delete), and 2000 partitions ~1-3 s. A measurement spoilt by the loaded machine is
// retried (up to 3 attempts, each on a fresh topic). The created topic is complete when
// the answer comes (Metadata names every partition, the last one takes a produce).
// Default 2000 partitions (a few seconds); SPOOL_TEST_TOPIC_PARTITIONS=10000 for the
// issue's case.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf } from './records.js';

const PARTITIONS = Number(process.env['SPOOL_TEST_TOPIC_PARTITIONS'] ?? 2000);
const LAG_BOUND_MS = 250;
const ATTEMPTS = 3;

let broker: BrokerProcess;
let admin: RawClient;
let probe: RawClient;

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never'] });
  admin = await RawClient.connect(broker.port);
  probe = await RawClient.connect(broker.port);
});

afterAll(async () => {
  admin?.destroy();
  probe?.destroy();
  await broker?.kill();
  broker?.cleanup();
});

/** The longest ApiVersions round trip of the probe while `request` runs; `request`'s result. */
async function lagDuring<T>(request: () => Promise<T>): Promise<{ maxMs: number; probes: number; result: T }> {
  await probe.request(ApiKey.ApiVersions, {});
  let done = false;
  const running = request().finally(() => (done = true));
  let maxMs = 0;
  let probes = 0;
  while (!done) {
    const started = performance.now();
    await probe.request(ApiKey.ApiVersions, {});
    maxMs = Math.max(maxMs, performance.now() - started);
    probes++;
  }
  return { maxMs: Math.round(maxMs), probes, result: await running };
}

it(`other clients are served while a topic of ${PARTITIONS} partitions is created and deleted`, async () => {
  const attempts: Array<{ createMaxMs: number; deleteMaxMs: number; probes: number }> = [];
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const topic = randomTopic('wide');
    const created = await lagDuring(() => admin.createTopic(topic, PARTITIONS));
    expect(created.result.topics[0]).toMatchObject({ errorCode: 0 });
    const metadata = await admin.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [topic] });
    expect(metadata.header.topics[0]).toMatchObject({ errorCode: 0, partitions: PARTITIONS });
    expect((await admin.produce(topic, PARTITIONS - 1, batchOf(['last']))).errorCode).toBe(0);

    const deleted = await lagDuring(() => admin.request<M.DeleteTopicsResponse>(ApiKey.DeleteTopics, { names: [topic] }));
    expect(deleted.result.header.topics[0]).toMatchObject({ errorCode: 0 });
    const gone = await admin.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [topic] });
    expect(gone.header.topics[0]?.errorCode).not.toBe(0);

    attempts.push({ createMaxMs: created.maxMs, deleteMaxMs: deleted.maxMs, probes: created.probes + deleted.probes });
    if (created.maxMs < LAG_BOUND_MS && deleted.maxMs < LAG_BOUND_MS) break;
  }
  console.log(`wide topic of ${PARTITIONS} partitions, probe round trips: ${JSON.stringify(attempts)}`);
  const best = attempts.reduce((a, b) => (Math.max(a.createMaxMs, a.deleteMaxMs) <= Math.max(b.createMaxMs, b.deleteMaxMs) ? a : b));
  expect(best.createMaxMs, JSON.stringify(attempts)).toBeLessThan(LAG_BOUND_MS);
  expect(best.deleteMaxMs, JSON.stringify(attempts)).toBeLessThan(LAG_BOUND_MS);
}, 180_000);
