// Proves the native SDK follows leaders in a real cluster: etcd and three `spool serve
// --cluster` processes (lease TTL 2 s, RF 3, min.insync 2). The Client bootstraps from the
// three addresses, creates a 2-partition topic with replicationFactor 3 through the admin,
// and an idempotent acks=all producer sends to both partitions while the leader of
// partition 0 is kill -9'd: the producer hears the broken connection / NOT_LEADER, refreshes
// metadata, and carries on against the new leader; every send() resolves, and each
// partition's log, read back by the SDK consumer (fetching from leaders), holds exactly the
// messages sent to it, in send order, once each. kcat -L against a surviving broker's Kafka
// listener lists the live brokers at their Kafka addresses and the leaders etcd holds.
// Run `npm run build` first.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { waitFor } from '../helpers/broker.js';
import { TestCluster } from '../helpers/cluster.js';
import { run } from '../kafka-clients/helpers.js';

const TTL_MS = 2_000;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2, 3], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000, args: ['--kafka-listener', '127.0.0.1:0'] });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

describe('the SDK against a cluster of spool serve processes', () => {
  it('keeps producing through a kill -9 of a partition leader: every send acknowledged once, in order', async () => {
    const topic = 'sdk-failover';
    const client = new Client({
      brokers: [1, 2, 3].map((id) => `127.0.0.1:${cluster.brokers.get(id)!.port}`),
      retry: { retries: 12, initialRetryTimeMs: 100, maxRetryTimeMs: 1_000 },
      requestTimeoutMs: 10_000,
    });
    try {
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3 }] });
      const initial = (await waitFor(async () => {
        const states = await Promise.all([cluster.state(topic, 0), cluster.state(topic, 1)]);
        return states.every((state) => state !== null && state.isr.length === 3) ? states : null;
      }))!;
      const leaderId = initial[0]!.leader;

      const producer = client.producer({ acks: 'all', lingerMs: 2 });
      const sent: string[][] = [[], []];
      let acknowledged = 0;
      let failed: unknown = null;
      let stop = false;
      const outstanding = new Set<Promise<void>>();
      const sending = (async () => {
        for (let i = 0; !stop; i++) {
          const partition = i % 2;
          const value = `m${i}`;
          sent[partition]!.push(value);
          const send = producer.send({ topic, messages: [{ value, partition }] }).then(
            () => void acknowledged++,
            (error: unknown) => void (failed ??= error),
          );
          outstanding.add(send);
          void send.finally(() => outstanding.delete(send));
          if (outstanding.size >= 64) await Promise.race(outstanding);
        }
        await Promise.all(outstanding);
      })();

      await waitFor(() => acknowledged >= 400, 15_000);
      const killedAt = Date.now();
      await cluster.brokers.get(leaderId)!.kill();
      const ackedAtKill = acknowledged;
      await waitFor(async () => {
        const state = await cluster.state(topic, 0);
        return state !== null && state.leader !== leaderId && state.leader >= 0;
      }, TTL_MS + 5_000);
      await waitFor(() => acknowledged >= ackedAtKill + 600 || failed !== null, 20_000);
      const resumedMs = Date.now() - killedAt;
      stop = true;
      await sending;
      expect(failed).toBeNull();
      expect(acknowledged).toBe(sent[0]!.length + sent[1]!.length);

      const consumer = client.consumer({ maxWaitMs: 100 });
      await consumer.assign([0, 1].map((partition) => ({ topic, partition, offset: 'earliest' as const })));
      const read: string[][] = [[], []];
      for await (const message of consumer) {
        read[message.partition]!.push(message.value!.toString());
        if (read[0]!.length + read[1]!.length === acknowledged) break;
      }
      expect(read[0]).toEqual(sent[0]);
      expect(read[1]).toEqual(sent[1]);

      // kcat (librdkafka) reads the same cluster from a survivor's Kafka listener.
      const survivor = [1, 2, 3].find((id) => id !== leaderId)!;
      const listing = await waitFor(async () => {
        const result = await run('kcat', ['-b', cluster.brokers.get(survivor)!.kafkaAddress!, '-L', '-J', '-t', topic], { timeoutMs: 20_000 });
        const parsed = JSON.parse(result.stdout) as { brokers: Array<{ id: number; name: string }>; topics: Array<{ partitions: Array<{ partition: number; leader: number; isrs: number[] }> }> };
        return parsed.brokers.length === 2 ? parsed : null; // the killed broker's lease has run out
      }, 10_000, 200);
      expect(listing!.brokers.map((broker) => [broker.id, broker.name]).sort()).toEqual(
        [1, 2, 3].filter((id) => id !== leaderId).map((id) => [id, cluster.brokers.get(id)!.kafkaAddress!]),
      );
      const states = await Promise.all([cluster.state(topic, 0), cluster.state(topic, 1)]);
      expect(listing!.topics[0]!.partitions.map((partition) => [partition.partition, partition.leader])).toEqual([
        [0, states[0]!.leader],
        [1, states[1]!.leader],
      ]);
      // eslint-disable-next-line no-console
      console.log(`sdk failover: ${acknowledged} sends acknowledged, ${ackedAtKill} before the kill; 600 more ${resumedMs} ms after it`);
    } finally {
      await client.close();
    }
  }, 60_000);
});
