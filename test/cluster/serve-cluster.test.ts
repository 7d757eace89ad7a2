// Proves cluster membership with real `spool serve --cluster` processes (the built CLI) and a
// real etcd, lease TTL 2 s: three brokers register with their advertised addresses and one
// becomes controller; a broker kill -9'd vanishes from etcd within TTL + 1.5 s; the
// controller kill -9'd is replaced by another broker with a higher controller epoch within
// TTL + 1.5 s; SIGTERM revokes the lease so the key goes at once; `spool cluster describe
// --cluster` reads it all from etcd; a broker restarted at once after kill -9 waits until its
// old incarnation's lease is gone, then registers with a new registration epoch. Run
// `npm run build` first (the test spawns dist/).

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { decodeBrokerRegistration, decodeControllerRecord } from '../../src/cluster/values.js';
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
  it('registers, fails over on kill -9, and leaves at once on SIGTERM', async () => {
    for (const [nodeId, broker] of await Promise.all([1, 2, 3].map(async (id) => [id, await serve(id)] as const))) brokers.set(nodeId, broker);
    // Registered before it prints its listening line, with the port it listens on.
    const members = await registered();
    expect(members).toEqual(new Map([...brokers].map(([id, broker]) => [id, broker.address])));
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
    const summary = JSON.parse(described.stdout) as { brokers: { nodeId: number }[]; controller: { nodeId: number; epoch: number } };
    expect(summary.brokers.map((broker) => broker.nodeId)).toEqual([next.nodeId]);
    expect(summary.controller).toEqual(next);

    const stoppedAt = Date.now();
    expect(await brokers.get(next.nodeId)!.stop()).toBe(0);
    expect(await registered()).toEqual(new Map());
    expect(await controller()).toBeNull();
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS);
  });

  it('a broker restarted at once after kill -9 waits for its old lease, then registers anew', async () => {
    const old = await serve(7);
    brokers.set(7, old);
    const oldKey = (await store.get(layout.broker(7)))!;
    await old.kill();
    const restarted = await serve(7);
    brokers.set(7, restarted);
    const newKey = (await store.get(layout.broker(7)))!;
    expect(newKey.createRevision).toBeGreaterThan(oldKey.createRevision);
    expect(decodeBrokerRegistration(newKey.value)!.incarnation).not.toBe(decodeBrokerRegistration(oldKey.value)!.incarnation);
    expect(restarted.stderr()).toMatch(/registered by another live broker; waiting for its lease to expire/);
  });
});
