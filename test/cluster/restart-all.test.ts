// Proves a whole cluster survives a full restart (issue #12 "whole cluster restarted"): three
// real `spool serve --cluster` processes over a real etcd (lease TTL 2 s, RF 3, min.insync 2,
// two partitions); an acks=all producer that logs its own acknowledgements runs; all three
// brokers get SIGTERM (graceful: leases revoked) while it runs, and start again on their data
// dirs; every partition gets a leader again, the producer resumes, and the checker
// (test/helpers/ack-checker.ts), reading the producer's ack log file, finds nothing
// acknowledged lost, reordered or moved, before and after the restart. Run `npm run build`
// first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckLog, formatCheck, readJsonLines, type AckedMessage } from '../helpers/ack-checker.js';
import { AckProducer, etcdLocator } from '../helpers/ack-producer.js';
import { waitFor } from '../helpers/broker.js';
import { checkTopic } from '../helpers/cluster-check.js';
import { createReplicatedTopic, TestCluster } from '../helpers/cluster.js';

const TTL_MS = 2_000;
const TOPIC = 'restart-all';
const PARTITIONS = 2;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

async function allLed(): Promise<boolean> {
  for (let partition = 0; partition < PARTITIONS; partition++) {
    const state = await cluster.state(TOPIC, partition);
    if (!state || state.leader < 0 || (await cluster.portOf(state.leader)) === null) return false;
  }
  return true;
}

describe('whole cluster restarted', () => {
  it('keeps every acknowledged message, elects leaders again, and produce resumes', async () => {
    expect((await createReplicatedTopic(cluster.brokers.get(1)!.port, TOPIC, PARTITIONS, 3)).topics[0]!.errorCode).toBe(0);
    await waitFor(allLed);
    const logDir = mkdtempSync(join(tmpdir(), 'spool-acklog-'));
    const log = new AckLog(join(logDir, 'producer-a.jsonl'));
    const producer = new AckProducer({ producer: 'a', topic: TOPIC, partitions: [0, 1], locate: etcdLocator(cluster.store, cluster.layout), batchMessages: 5, log });
    producer.start();
    await waitFor(() => producer.acked.length >= 500, 15_000);

    // All three down (SIGTERM, in parallel) while producing, then all three up again.
    await Promise.all([1, 2, 3].map((id) => cluster.brokers.get(id)!.stop()));
    const ackedBeforeRestart = producer.acked.length;
    const restartedAt = Date.now();
    await Promise.all([1, 2, 3].map((id) => cluster.serve(id)));
    await waitFor(allLed, 15_000);
    const ledMs = Date.now() - restartedAt;
    await waitFor(() => producer.ackedSince(restartedAt) >= 50, 15_000);
    await producer.stop();
    expect(producer.acked.length).toBeGreaterThan(ackedBeforeRestart);

    // The checker's input is the producer's own log on disk (as bench/cluster-check.ts reads it).
    const logged = readJsonLines<AckedMessage>(log.path);
    rmSync(logDir, { recursive: true, force: true });
    expect(logged).toEqual(producer.acked);
    const result = await checkTopic(cluster, TOPIC, PARTITIONS, logged);
    expect(result.examples.filter((line) => !line.startsWith('duplicated'))).toEqual([]);
    expect(result).toMatchObject({ lost: 0, reordered: 0, moved: 0 });
    // eslint-disable-next-line no-console
    console.log(`restart-all: leaders ${ledMs} ms after the restart began; ${formatCheck(result)}; errors seen: ${JSON.stringify(Object.fromEntries(producer.errors))}`);
  }, 45_000);
});
