// Proves StaticReplicaState keeps the ReplicaState contract the replica manager relies on,
// without etcd: set/remove report changes with previous and current roles, alterIsr is a
// compare on the state revision (a stale revision is STATE_CHANGED and changes nothing), it is
// refused without a lease (LEASE_LOST), and lease loss and return reach the listeners.

import { describe, expect, it } from 'vitest';
import { StaticReplicaState } from '../../src/cluster/static-replica-state.js';
import type { RoleChange } from '../../src/cluster/replica-roles.js';

const leaderRole = { topic: 't', partition: 0, role: 'leader' as const, leaderId: 1, leaderEpoch: 2, isr: [1, 2, 3], replicas: [1, 2, 3], minInsyncReplicas: 2, leader: { nodeId: 1, host: '127.0.0.1', port: 9401 } };

describe('StaticReplicaState', () => {
  it('reports changes, applies ISR changes by compare, refuses without a lease', async () => {
    const state = new StaticReplicaState(1);
    const changes: RoleChange[] = [];
    const leases: string[] = [];
    state.onChange((batch) => changes.push(...batch));
    state.onLease((event) => leases.push(event));
    const first = state.set(leaderRole);
    expect(changes).toEqual([{ topic: 't', partition: 0, current: first }]);

    const shrunk = await state.alterIsr('t', 0, [1, 2], first.stateRevision);
    expect(shrunk.ok).toBe(true);
    expect(state.get('t', 0)!.isr).toEqual([1, 2]);
    expect(changes).toHaveLength(2);
    const stale = await state.alterIsr('t', 0, [1], first.stateRevision);
    expect(stale).toMatchObject({ ok: false, error: { code: 'STATE_CHANGED' } });
    expect(state.get('t', 0)!.isr).toEqual([1, 2]);

    state.setLeaseValid(false);
    expect(state.leaseValid()).toBe(false);
    const current = state.get('t', 0)!;
    expect(await state.alterIsr('t', 0, [1, 2, 3], current.stateRevision)).toMatchObject({ ok: false, error: { code: 'LEASE_LOST' } });
    state.setLeaseValid(true);
    expect(leases).toEqual(['lost', 'regained']);

    state.set({ ...leaderRole, role: 'follower', leaderId: 2, leaderEpoch: 3, leader: { nodeId: 2, host: '127.0.0.1', port: 9402 } });
    expect(changes.at(-1)).toMatchObject({ previous: { role: 'leader' }, current: { role: 'follower', leaderEpoch: 3 } });
    await expect(state.alterIsr('t', 0, [1], state.get('t', 0)!.stateRevision)).rejects.toThrow(/does not lead/);
    state.remove('t', 0);
    expect(changes.at(-1)).toMatchObject({ previous: { role: 'follower' } });
    expect(changes.at(-1)!.current).toBeUndefined();
    expect([...state.all()]).toEqual([]);
  });
});
