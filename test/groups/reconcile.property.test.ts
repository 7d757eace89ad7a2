// Proves, for random histories, the safety and liveness of reconciliation: members join,
// heartbeat in any order, leave, crash (and are fenced by session expiry), and topics
// appear, while simulated consumers follow the protocol. After every step no partition
// is held by two live consumers and the coordinator's ownership table is consistent;
// after the history, a few heartbeat rounds reach a stable group in which every
// partition is owned by exactly one member and the load is balanced within one.
// fast-check generates the histories (seed printed on failure).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GroupCoordinator } from '../../src/groups/coordinator.js';
import { MemoryOffsetStore } from '../../src/groups/offset-store.js';
import { ManualClock } from '../../src/util/clock.js';
import { expectExclusive, FakeLogs, settle, SimMember } from './helpers.js';

type Op =
  | { kind: 'join' }
  | { kind: 'heartbeat'; member: number }
  | { kind: 'leave'; member: number }
  | { kind: 'crash'; member: number }
  | { kind: 'createTopic'; partitions: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'join' }) },
  { weight: 6, arbitrary: fc.nat(9).map<Op>((member) => ({ kind: 'heartbeat', member })) },
  { weight: 1, arbitrary: fc.nat(9).map<Op>((member) => ({ kind: 'leave', member })) },
  { weight: 1, arbitrary: fc.nat(9).map<Op>((member) => ({ kind: 'crash', member })) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 5 }).map<Op>((partitions) => ({ kind: 'createTopic', partitions })) },
);

describe('reconciliation under random histories', () => {
  it('never gives a partition to two members and converges to a balanced, complete assignment', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArbitrary, { minLength: 1, maxLength: 40 }), fc.constantFrom('uniform', 'range' as const), async (ops, assignor) => {
        const logs = new FakeLogs();
        logs.createTopic('t0', 5);
        const clock = new ManualClock();
        const coordinator = await GroupCoordinator.open(logs.asLogManager(), { clock, offsetStore: new MemoryOffsetStore(), warn: () => {} });
        const topics = ['t0', 't1', 't2', 't3'];
        let nextTopic = 1;
        const live: SimMember[] = [];
        const check = (): void => {
          expectExclusive(live);
          coordinator.group('g')?.checkInvariants();
        };
        try {
          for (const op of ops) {
            const member = 'member' in op && live.length > 0 ? live[op.member % live.length]! : undefined;
            switch (op.kind) {
              case 'join': {
                const joined = new SimMember(coordinator, 'g', topics, { sessionTimeoutMs: 1000, assignor });
                live.push(joined);
                await joined.heartbeat();
                break;
              }
              case 'heartbeat':
                await member?.heartbeat();
                break;
              case 'leave':
                if (member === undefined) break;
                await member.leave();
                live.splice(live.indexOf(member), 1);
                break;
              case 'crash':
                if (member === undefined) break;
                live.splice(live.indexOf(member), 1);
                for (let step = 0; step < 2; step++) {
                  clock.advance(600);
                  coordinator.runSessionExpiry();
                  for (const other of live) {
                    await other.heartbeat();
                    check();
                  }
                }
                coordinator.runSessionExpiry();
                expect(coordinator.group('g')?.members.has(member.memberId) ?? false).toBe(false);
                break;
              case 'createTopic':
                if (nextTopic < topics.length) logs.createTopic(topics[nextTopic++]!, op.partitions);
                break;
            }
            check();
          }
          if (live.length === 0) return;
          await settle(coordinator, 'g', live, 6);
          let total = 0;
          for (const name of topics) total += logs.topics.get(name)?.info.partitions ?? 0;
          const counts = live.map((m) => m.count());
          expect(counts.reduce((a, b) => a + b, 0)).toBe(total);
          if (assignor === 'uniform') expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        } finally {
          await coordinator.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
