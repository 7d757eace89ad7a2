// Proves producer ids are unique across a cluster (KIP-730-style blocks reserved in etcd by
// compare-and-swap, src/cluster/producer-id-blocks.ts). With two real `spool serve --cluster`
// processes over a real etcd: 1,500 InitProducerId requests pipelined on each broker at once
// (each broker goes through two blocks of 1,000), with Kafka InitProducerId (key 22) on both
// brokers' Kafka listeners among them, get ids that are all different — before the
// fix both brokers counted from 0 in their own data dirs; then one broker is killed, its data
// dir emptied, and started again: its ids are above every id handed out before (no reuse).
// In-process against the same etcd: a reservation whose compare loses to another broker's
// (forced by a store that lets the other reserve between the read and the write) is retried
// and both get disjoint blocks; several allocators racing for real stay disjoint; with etcd
// unreachable an allocator serves what is left of its block, then rejects CLUSTER_UNAVAILABLE;
// a broker not yet joined answers CLUSTER_UNAVAILABLE rather than an id of its data dir.
// Run `npm run build` first.

import { mkdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { silentClusterLogger } from '../../src/cluster/logger.js';
import { ProducerIdBlocks } from '../../src/cluster/producer-id-blocks.js';
import type { ClusterStore } from '../../src/cluster/store.js';
import type { BrokerContext } from '../../src/broker/context.js';
import { initProducerId, notJoinedProducerIds } from '../../src/broker/core/producer-ids.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { ApiKey } from '../../src/protocol/index.js';
import { Errors, SpoolError } from '../../src/util/errors.js';
import { TestCluster } from '../helpers/cluster.js';
import { RawClient } from '../helpers/raw-client.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';

const TTL_MS = 2_000;
const REQUESTS_PER_BROKER = 1_500;
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await TestCluster.start([1, 2], { leaseTtlMs: TTL_MS, replicaLagTimeMaxMs: 3_000, args: ['--kafka-listener', '127.0.0.1:0'] });
}, 30_000);

afterAll(async () => {
  await cluster?.destroy();
});

/** `count` InitProducerId requests pipelined on one connection; their ids in answer order. */
async function initProducerIds(port: number, count: number): Promise<number[]> {
  const client = await RawClient.connect(port);
  try {
    const responses = await Promise.all(Array.from({ length: count }, () => client.request<{ errorCode: number; producerId: number; producerEpoch: number }>(ApiKey.InitProducerId, {})));
    for (const response of responses) expect(response.header).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    return responses.map((response) => response.header.producerId);
  } finally {
    client.socket.destroy();
  }
}

/** `count` Kafka InitProducerId v4 requests, one after another, on broker `nodeId`'s Kafka listener. */
async function kafkaInitProducerIds(nodeId: number, count: number): Promise<number[]> {
  const wire = await KafkaWire.connect(cluster.brokers.get(nodeId)!.kafkaAddress!);
  try {
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const init = await wire.request(ApiKeys.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
      expect(init).toMatchObject({ errorCode: KafkaErrors.NONE, producerEpoch: 0 });
      ids.push(Number(init.producerId));
    }
    return ids;
  } finally {
    await wire.close();
  }
}

/** Wraps a store; `beforeTransaction` runs (once) before the first transaction is forwarded. */
function interceptedStore(inner: ClusterStore, hooks: { beforeTransaction?: () => Promise<void>; down?: () => boolean }): ClusterStore {
  let hook = hooks.beforeTransaction;
  const check = (): void => {
    if (hooks.down?.() === true) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, 'etcd down (test)');
  };
  return {
    get: async (key) => (check(), inner.get(key)),
    list: (prefix) => inner.list(prefix),
    put: (key, value, options) => inner.put(key, value, options),
    delete: (key) => inner.delete(key),
    transaction: async (compares, operations) => {
      check();
      const before = hook;
      hook = undefined;
      if (before) await before();
      return inner.transaction(compares, operations);
    },
    watchPrefix: (prefix, fromRevision, handlers) => inner.watchPrefix(prefix, fromRevision, handlers),
    grantLease: (ttl) => inner.grantLease(ttl),
    keepAliveOnce: (lease) => inner.keepAliveOnce(lease),
    revokeLease: (lease) => inner.revokeLease(lease),
    close: () => {},
  };
}

describe('producer ids in a cluster', () => {
  it('two brokers answering InitProducerId at once hand out disjoint ids; a broker restarted with an empty data dir reuses none', async () => {
    const [first, second, kafkaFirst, kafkaSecond] = await Promise.all([
      initProducerIds(cluster.brokers.get(1)!.port, REQUESTS_PER_BROKER),
      initProducerIds(cluster.brokers.get(2)!.port, REQUESTS_PER_BROKER),
      kafkaInitProducerIds(1, 20),
      kafkaInitProducerIds(2, 20),
    ]);
    const all = [...first, ...second, ...kafkaFirst, ...kafkaSecond];
    expect(new Set(all).size).toBe(all.length);
    const highest = Math.max(...all);

    await cluster.brokers.get(1)!.kill();
    const dir = cluster.dataDir(1);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    await cluster.serve(1);
    const afterRestart = await initProducerIds(cluster.brokers.get(1)!.port, 10);
    expect(Math.min(...afterRestart)).toBeGreaterThan(highest);
    expect(new Set(afterRestart).size).toBe(afterRestart.length);
  }, 20_000);

  it('a cluster broker that has not joined yet answers CLUSTER_UNAVAILABLE, not an id from its data dir', () => {
    const ctx = { producerIds: notJoinedProducerIds, logs: { allocateProducerId: () => 0 } } as unknown as BrokerContext;
    expect(() => initProducerId(ctx, null)).toThrow(expect.objectContaining({ code: Errors.CLUSTER_UNAVAILABLE.name }));
  });

  describe('reservations in etcd', () => {
    let store: EtcdStore;
    let root = 0;
    const layout = (): KeyLayout => new KeyLayout(`/producer-id-test${++root}`);

    beforeAll(() => {
      store = new EtcdStore({ endpoints: [cluster.etcd.endpoint] });
    });
    afterAll(() => store.close());

    it('a compare lost to another broker reserving at the same moment is retried, and the blocks are disjoint', async () => {
      const keys = layout();
      const other = new ProducerIdBlocks(store, keys, silentClusterLogger, { blockSize: 10 });
      let otherId = -1;
      // Between our read (key absent) and our CAS, the other broker reserves the first block.
      const racing = interceptedStore(store, { beforeTransaction: async () => void (otherId = await other.allocate()) });
      const mine = new ProducerIdBlocks(racing, keys, silentClusterLogger, { blockSize: 10 });
      const myId = await mine.allocate();
      expect(otherId).toBe(0);
      expect(myId).toBe(10);
      expect(mine.conflicts).toBe(1);
      expect(mine.blocksReserved).toBe(1);
    });

    it('allocators racing for real stay disjoint', async () => {
      const keys = layout();
      const allocators = Array.from({ length: 4 }, () => new ProducerIdBlocks(store, keys, silentClusterLogger, { blockSize: 7, prefetchBelow: 2 }));
      const ids = (await Promise.all(allocators.map((allocator) => Promise.all(Array.from({ length: 60 }, () => allocator.allocate()))))).flat();
      expect(new Set(ids).size).toBe(ids.length);
      // Every reserved id is accounted for: 4 x 60 ids from whole blocks of 7.
      const reserved = allocators.reduce((sum, allocator) => sum + allocator.blocksReserved, 0);
      expect(Math.max(...ids)).toBeLessThan(reserved * 7);
    });

    it('with etcd unreachable: the rest of the block is served, then CLUSTER_UNAVAILABLE; afterwards ids resume', async () => {
      const keys = layout();
      let down = false;
      const blocks = new ProducerIdBlocks(interceptedStore(store, { down: () => down }), keys, silentClusterLogger, { blockSize: 5, prefetchBelow: 0 });
      expect(await blocks.allocate()).toBe(0);
      down = true;
      expect([1, 2, 3, 4].map(() => blocks.allocate())).toEqual([1, 2, 3, 4]);
      await expect(blocks.allocate()).rejects.toMatchObject({ code: Errors.CLUSTER_UNAVAILABLE.name, retriable: true });
      down = false;
      expect(await blocks.allocate()).toBe(5);
    });
  });
});
