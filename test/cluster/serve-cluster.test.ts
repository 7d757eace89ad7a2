// Proves cluster membership with real `spool serve --cluster` processes (the built CLI) and a
// real etcd, lease TTL 2 s: three brokers register (before their listening line) with the
// address they listen on, and a controller places a topic; a SIGSTOPped partition leader
// loses its partition to an ISR member with epoch + 1 within TTL + 2 s, and after SIGCONT
// logs its lease loss and registers again; a broker kill -9'd vanishes from etcd within
// TTL + 1.5 s; the controller kill -9'd is replaced by another broker with a higher
// controller epoch within TTL + 1.5 s; `spool cluster describe --cluster` reads it all from
// etcd; SIGTERM revokes the lease so the key goes at once; --cluster without --node-id is
// refused before anything opens; a broker restarted at once after kill -9 registers with a
// new incarnation and registration epoch. Run `npm run build` first (the test spawns dist/).

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { decodeBrokerRegistration, decodeControllerRecord, decodePartitionState, encodeValue, type PartitionState } from '../../src/cluster/values.js';
import { SPOOL_MAIN, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

const TTL_MS = 2_000;
const layout = new KeyLayout('/spool');
let etcd: TestEtcd;
let store: EtcdStore;
const brokers = new Map<number, BrokerProcess>();

beforeAll(async () => {
  etcd = await startEtcd();
  store = new EtcdStore({ endpoints: [etcd.endpoint] });
});

afterAll(async () => {
  await Promise.all([...brokers.values()].map(async (broker) => {
    await broker.kill();
    broker.cleanup();
  }));
  store.close();
  await etcd.destroy();
});

function serve(nodeId: number): Promise<BrokerProcess> {
  return startBroker({ args: ['--cluster', etcd.url, '--node-id', String(nodeId), '--cluster-lease-ttl-ms', String(TTL_MS), '--http', 'off'] });
}

async function registered(): Promise<Map<number, string>> {
  const listing = await store.list(layout.brokers);
  return new Map(listing.items.map((item) => {
    const registration = decodeBrokerRegistration(item.value)!;
    return [registration.nodeId, `${registration.host}:${registration.port}`];
  }));
}

async function controller(): Promise<{ nodeId: number; epoch: number } | null> {
  const kv = await store.get(layout.controller);
  return kv ? { nodeId: decodeControllerRecord(kv.value)!.nodeId, epoch: kv.createRevision } : null;
}

describe('spool serve --cluster', () => {
  // The first two tests share three brokers (starting a broker is the slow part): the second
  // goes on from the state the first leaves.
  it('registers with the listening address; a SIGSTOPped leader\'s partition moves to its ISR; after SIGCONT it knows it lost its lease and registers again', async () => {
    for (const [nodeId, broker] of await Promise.all([1, 2, 3].map(async (id) => [id, await serve(id)] as const))) brokers.set(nodeId, broker);
    // Registered before it prints its listening line, with the port it listens on.
    expect(await registered()).toEqual(new Map([...brokers].map(([id, broker]) => [id, broker.address])));
    // A topic as a broker's CreateTopics writes it; the controller (one of the three) places it.
    await store.put(layout.topic('stopped'), encodeValue({ partitions: 3, replicationFactor: 3, minInsyncReplicas: 2, configs: {} }));
    const states = async (): Promise<PartitionState[]> => {
      const listing = await store.list(layout.partitions);
      return listing.items.map((item) => decodePartitionState(item.value)!);
    };
    await waitFor(async () => (await states()).length === 3 && (await store.get(layout.assignment('stopped'))) !== null);
    const before = await states();
    expect(new Set(before.map((state) => state.leader)).size).toBe(3);
    const victimId = before[0]!.leader;
    const victim = brokers.get(victimId)!;
    const stoppedAt = Date.now();
    victim.child.kill('SIGSTOP');
    try {
      const after = (await waitFor(async () => {
        const current = await states();
        return current.some((state) => state.leader === victimId) ? null : current;
      }, TTL_MS + 4_000, 50))!;
      expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS + 2_000);
      const moved = after.filter((_, index) => before[index]!.leader === victimId);
      expect(moved).toHaveLength(1);
      expect(moved[0]!.leaderEpoch).toBe(before[0]!.leaderEpoch + 1);
      expect(before[0]!.isr).toContain(moved[0]!.leader);
      expect(after.every((state) => !state.isr.includes(victimId))).toBe(true);
    } finally {
      victim.child.kill('SIGCONT');
    }
    await waitFor(() => /membership lease lost/.test(victim.stderr()) && /registered/.test(victim.stderr().split('membership lease lost')[1] ?? ''), 10_000, 50);
    await waitFor(async () => (await registered()).size === 3, 5_000, 50);
  });

  it('fails over on kill -9 (member key and controller), and leaves at once on SIGTERM', async () => {
    const first = (await waitFor(() => controller()))!;
    const follower = [...brokers.keys()].find((id) => id !== first.nodeId)!;
    let killedAt = Date.now();
    await brokers.get(follower)!.kill();
    await waitFor(async () => !(await registered()).has(follower), TTL_MS + 3_000, 50);
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + 1_500);

    killedAt = Date.now();
    await brokers.get(first.nodeId)!.kill();
    const next = (await waitFor(async () => {
      const current = await controller();
      return current && current.nodeId !== first.nodeId ? current : null;
    }, TTL_MS + 3_000, 50))!;
    expect(Date.now() - killedAt).toBeLessThan(TTL_MS + 1_500);
    expect(next.epoch).toBeGreaterThan(first.epoch);

    const described = spawnSync(process.execPath, [SPOOL_MAIN, 'cluster', 'describe', '--cluster', etcd.url, '--format', 'json'], { encoding: 'utf8' });
    expect(described.status, described.stderr).toBe(0);
    const summary = JSON.parse(described.stdout) as { brokers: { nodeId: number }[]; controller: { nodeId: number; epoch: number }; partitions: unknown[] };
    expect(summary.brokers.map((broker) => broker.nodeId)).toEqual([next.nodeId]);
    expect(summary.controller).toEqual(next);
    expect(summary.partitions).toHaveLength(3);

    const stoppedAt = Date.now();
    expect(await brokers.get(next.nodeId)!.stop()).toBe(0);
    expect(await registered()).toEqual(new Map());
    expect(await controller()).toBeNull();
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
  });

  it('refuses --cluster without --node-id (and --node-id alone) before opening anything', () => {
    for (const [args, message] of [[['--cluster', etcd.url], /--cluster needs --node-id/], [['--node-id', '1'], /need --cluster/]] as const) {
      const result = spawnSync(process.execPath, [SPOOL_MAIN, 'serve', '--data-dir', '/nonexistent/spool-never-created', '--http', 'off', ...args], { encoding: 'utf8' });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
    }
  });

  it('a broker restarted at once after kill -9 registers anew, with a new registration epoch', async () => {
    const old = await serve(7);
    brokers.set(7, old);
    const oldKey = (await store.get(layout.broker(7)))!;
    await old.kill();
    const restarted = await serve(7);
    brokers.set(7, restarted);
    const newKey = (await store.get(layout.broker(7)))!;
    expect(newKey.createRevision).toBeGreaterThan(oldKey.createRevision);
    expect(decodeBrokerRegistration(newKey.value)!.incarnation).not.toBe(decodeBrokerRegistration(oldKey.value)!.incarnation);
    // (Whether it had to wait for the old lease depends on how fast it started; the waiting
    // itself is proven in-process in cluster-node.test.ts.)
  });
});
