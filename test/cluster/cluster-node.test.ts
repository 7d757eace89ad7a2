// Proves the cluster control plane in-process against a real etcd (three ClusterNodes with a
// 2 s lease TTL, no brokers behind them): every node registers and exactly one is controller;
// a node whose id is still held by a crashed node's lease waits for that lease to run out;
// a new topic is placed with leaders spread evenly and every node derives the same roles; a
// leader's ISR write is a CAS that rejects a stale revision; a broker that stops renewing its
// lease learns it lost the lease (the event the replica manager stops acknowledging on), its
// key vanishes, and the controller moves its leaderships to live ISR members with a higher
// leader epoch; revoking the controller's lease hands the controller to another node with a
// higher epoch and the old epoch can no longer write; after an etcd restart the nodes renew
// their leases (same data) or register again (etcd wiped) and the control plane works again.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClusterNode } from '../../src/cluster/cluster-node.js';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { NO_LEADER } from '../../src/cluster/values.js';
import { Errors } from '../../src/util/errors.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/broker.js';

const TTL_MS = 2_000;
let etcd: TestEtcd;
let nodes: ClusterNode[] = [];
let root = 0;

beforeAll(async () => {
  etcd = await startEtcd();
});

afterAll(async () => {
  await etcd.destroy();
});

afterEach(async () => {
  await Promise.all(nodes.map((node) => node.close().catch(() => {})));
  nodes = [];
});

/** Three nodes under a fresh key root, so tests do not see each other's state. */
async function startNodes(count = 3): Promise<ClusterNode[]> {
  root++;
  const url = `${etcd.url}/test${root}`;
  nodes = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      ClusterNode.start({ url, nodeId: index + 1, advertised: { host: '127.0.0.1', port: 10_000 + index }, leaseTtlMs: TTL_MS }),
    ),
  );
  await waitFor(() => nodes.every((node) => node.view.brokers.size === count && node.view.controller !== null));
  return nodes;
}

function controllerOf(all: ClusterNode[]): ClusterNode {
  return waitForSync(() => all.find((node) => node.controllerEpoch !== null));
}

function waitForSync<T>(find: () => T | undefined): T {
  const found = find();
  if (found === undefined) throw new Error('not found');
  return found;
}

describe('ClusterNode', () => {
  it('registers every node, elects one controller, places a topic with leaders spread evenly', async () => {
    const all = await startNodes();
    await waitFor(() => all.filter((node) => node.controllerEpoch !== null).length === 1);
    const controller = controllerOf(all);
    expect(all.every((node) => node.view.controller?.epoch === controller.controllerEpoch)).toBe(true);

    const assignment = await all[1]!.createTopic('orders', { partitions: 6 });
    expect(assignment.replicas).toHaveLength(6);
    const leaders = assignment.replicas.map((replicas) => replicas[0]!);
    expect([1, 2, 3].map((id) => leaders.filter((leader) => leader === id).length)).toEqual([2, 2, 2]);
    await waitFor(() => all.every((node) => [...node.roles.all()].length === 6));
    for (const node of all) {
      for (const role of node.roles.all()) {
        expect(role.replicas).toHaveLength(3);
        expect(role.minInsyncReplicas).toBe(2);
        expect(role.leaderEpoch).toBe(0);
        expect(role.isr).toEqual(role.replicas);
        expect(role.role).toBe(role.leaderId === node.nodeId ? 'leader' : 'follower');
        expect(role.leader).toEqual({ nodeId: role.leaderId, host: '127.0.0.1', port: 10_000 + role.leaderId - 1 });
      }
    }
    const summary = all[0]!.describe();
    expect(summary.controller?.epoch).toBe(controller.controllerEpoch);
    expect(summary.partitions).toHaveLength(6);
    expect(summary.underReplicated + summary.offline).toBe(0);
    await expect(all[0]!.createTopic('orders', { partitions: 1 })).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' });
    await expect(all[0]!.createTopic('wide', { partitions: 1, replicationFactor: 4 })).rejects.toMatchObject({ code: Errors.INVALID_REPLICATION_FACTOR.name });
    await all[0]!.createTopic('strict', { partitions: 1, configs: { 'min.insync.replicas': '3' } });
    await waitFor(() => all[0]!.roles.get('strict', 0)?.minInsyncReplicas === 3);
    await expect(all[0]!.createTopic('lax', { partitions: 1, replicationFactor: 2, minInsyncReplicas: 3 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });

  it('makes a node with a taken id wait until the old holder\'s lease runs out', async () => {
    const all = await startNodes(1);
    const crashed = all[0]!;
    const oldRevision = crashed.membership.registrationRevision;
    // What kill -9 leaves behind: a lease nobody renews, its key still there until the TTL.
    crashed.membership.lease.stop();
    const startedAt = Date.now();
    const restarted = await ClusterNode.start({ url: `${etcd.url}/test${root}`, nodeId: 1, advertised: { host: '127.0.0.1', port: 10_100 }, leaseTtlMs: TTL_MS });
    nodes.push(restarted);
    const waitedMs = Date.now() - startedAt;
    expect(waitedMs).toBeGreaterThan(TTL_MS / 2);
    expect(restarted.membership.registrationRevision).toBeGreaterThan(oldRevision);
    expect(restarted.view.brokers.get(1)!.registration.port).toBe(10_100);
  });

  it('lets a leader change its ISR by CAS and rejects a stale revision', async () => {
    const all = await startNodes();
    await all[0]!.createTopic('isr', { partitions: 1 });
    await waitFor(() => all.every((node) => node.roles.get('isr', 0) !== undefined));
    const leaderId = all[0]!.roles.get('isr', 0)!.leaderId;
    const leader = all.find((node) => node.nodeId === leaderId)!;
    const role = leader.roles.get('isr', 0)!;
    const shrunk = role.isr.filter((id) => id === leaderId || id === role.isr.find((other) => other !== leaderId));
    const result = await leader.roles.alterIsr('isr', 0, shrunk, role.stateRevision);
    expect(result.ok).toBe(true);
    const stale = await leader.roles.alterIsr('isr', 0, role.isr, role.stateRevision);
    expect(stale).toMatchObject({ ok: false, error: { code: 'STATE_CHANGED' } });
    await waitFor(() => all.every((node) => node.roles.get('isr', 0)?.isr.length === 2));
    expect(leader.roles.get('isr', 0)!.leaderEpoch).toBe(role.leaderEpoch);
  });

  it('moves a lost broker\'s leaderships to live ISR members with a higher epoch', async () => {
    const all = await startNodes();
    await all[0]!.createTopic('failover', { partitions: 6 });
    await waitFor(() => all.every((node) => [...node.roles.all()].length === 6));
    const controller = controllerOf(all);
    const victim = all.find((node) => node !== controller)!;
    const before = new Map([...controller.roles.all()].map((role) => [role.partition, role]));
    const led = [...before.values()].filter((role) => role.leaderId === victim.nodeId).map((role) => role.partition);
    expect(led.length).toBe(2);

    let lost = false;
    victim.roles.onLease((event) => (lost ||= event === 'lost'));
    // A hung broker: it stops renewing. Its lease runs out after the TTL.
    const stoppedAt = Date.now();
    victim.membership.lease.stopRenewing();
    await waitFor(() => lost, TTL_MS + 2_000);
    expect(victim.roles.leaseValid()).toBe(false);
    await waitFor(() => !controller.view.brokers.has(victim.nodeId), TTL_MS + 3_000);
    await waitFor(() => led.every((partition) => controller.roles.get('failover', partition)!.leaderId !== victim.nodeId));
    expect(Date.now() - stoppedAt).toBeLessThan(TTL_MS + 3_000);
    for (const partition of led) {
      const role = controller.roles.get('failover', partition)!;
      expect(role.leaderId).not.toBe(NO_LEADER);
      expect(before.get(partition)!.isr).toContain(role.leaderId);
      expect(role.leaderEpoch).toBe(before.get(partition)!.leaderEpoch + 1);
      expect(role.isr).not.toContain(victim.nodeId);
    }
    // Where it followed, it left the ISR; those leaders keep their epoch.
    await waitFor(() => [...controller.roles.all()].every((role) => !role.isr.includes(victim.nodeId)));
    for (const role of controller.roles.all()) {
      if (!led.includes(role.partition)) expect(role.leaderEpoch).toBe(before.get(role.partition)!.leaderEpoch);
    }
    expect(controller.describe().underReplicated).toBe(6);
  });

  it('hands the controller over when its lease is revoked; the old epoch is fenced', async () => {
    const all = await startNodes();
    const first = controllerOf(all);
    const oldEpoch = first.controllerEpoch!;
    await first.membership.lease.revoke();
    const others = all.filter((node) => node !== first);
    const next = (await waitFor(() => others.find((node) => node.controllerEpoch !== null), 5_000))!;
    expect(next.controllerEpoch!).toBeGreaterThan(oldEpoch);
    const store = new EtcdStore({ endpoints: [etcd.endpoint] });
    try {
      const layout = new KeyLayout(`/test${root}`);
      const write = await store.transaction([{ key: layout.controller, kind: 'createRevision', createRevision: oldEpoch }], [{ kind: 'put', key: layout.topic('zombie'), value: '{}' }]);
      expect(write.succeeded).toBe(false);
    } finally {
      store.close();
    }
    // The new controller works: it places a topic.
    await next.createTopic('after', { partitions: 2, replicationFactor: 2 });
  });

  it('renews or re-registers after etcd restarts, and works again', async () => {
    const all = await startNodes();
    let lost = 0;
    let regained = 0;
    for (const node of all) node.roles.onLease((event) => (event === 'lost' ? lost++ : regained++));
    await etcd.stop();
    await waitFor(() => lost === 3, TTL_MS + 2_000);
    await etcd.restart();
    await waitFor(() => regained >= 3, 10_000);
    await waitFor(() => all.every((node) => node.roles.leaseValid() && node.view.brokers.size === 3 && node.view.controller !== null), 10_000);
    expect(all.filter((node) => node.controllerEpoch !== null)).toHaveLength(1);
    const assignment = await all[2]!.createTopic('after-restart', { partitions: 3 });
    expect(assignment.replicas).toHaveLength(3);
  });

  it('registers again with a new lease when etcd comes back without the old one', async () => {
    const all = await startNodes();
    const before = all.map((node) => node.membership.registrationRevision);
    let regained = 0;
    for (const node of all) node.roles.onLease((event) => (regained += event === 'regained' ? 1 : 0));
    // A new, empty etcd on the same address: every lease and key is gone.
    await etcd.restart({ wipe: true });
    await waitFor(() => regained >= 3, 10_000);
    await waitFor(() => all.every((node) => node.roles.leaseValid() && node.view.brokers.size === 3 && node.view.controller !== null), 10_000);
    expect(all.filter((node) => node.controllerEpoch !== null)).toHaveLength(1);
    // New registrations: a new store's revisions start again, so compare with what the view holds.
    for (const node of all) expect(node.view.brokers.get(node.nodeId)!.registrationRevision).toBe(node.membership.registrationRevision);
    expect(all.map((node) => node.membership.registrationRevision)).not.toEqual(before);
    await all[0]!.createTopic('fresh', { partitions: 1 });
  });
});
