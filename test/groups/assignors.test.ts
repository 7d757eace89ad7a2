// Proves the assignors' contracts: every partition of a subscribed, existing topic goes
// to exactly one member subscribed to it; uniform is balanced within one partition when
// subscriptions are equal (and admits no improving move when they differ); uniform is
// sticky: after one member joins or leaves it moves exactly the minimum number of
// partitions (computed from the kept counts). Examples pin concrete results; fast-check
// properties cover random groups, topics, subscriptions and previous assignments.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addPartition, partitionCount, toTopicPartitions, type Assignment } from '../../src/groups/assignment.js';
import { rangeAssignor } from '../../src/groups/assignors/range.js';
import type { AssignmentInput, AssignorMember } from '../../src/groups/assignors/types.js';
import { uniformAssignor } from '../../src/groups/assignors/uniform.js';

function member(memberId: string, topics: string[], current: Assignment = new Map()): AssignorMember {
  return { memberId, subscription: new Set(topics), current };
}

function counts(result: Map<string, Assignment>): number[] {
  return [...result.values()].map(partitionCount);
}

/** Checks the exactly-once property and returns the owner of each partition. */
function checkComplete(input: AssignmentInput, result: Map<string, Assignment>): Map<string, string> {
  const owner = new Map<string, string>();
  for (const [memberId, assignment] of result) {
    const spec = input.members.find((m) => m.memberId === memberId);
    expect(spec).toBeDefined();
    for (const [topic, partitions] of assignment) {
      expect(spec!.subscription.has(topic)).toBe(true);
      for (const partition of partitions) {
        expect(partition).toBeLessThan(input.topicPartitions.get(topic) ?? 0);
        const key = `${topic}/${partition}`;
        expect(owner.has(key)).toBe(false);
        owner.set(key, memberId);
      }
    }
  }
  for (const [topic, count] of input.topicPartitions) {
    const subscribed = input.members.some((m) => m.subscription.has(topic));
    for (let partition = 0; partition < count; partition++) {
      expect(owner.has(`${topic}/${partition}`)).toBe(subscribed);
    }
  }
  return owner;
}

/** Minimum moves when subscriptions are equal: members over their final quota shed the excess. */
function minimumMoves(kept: number[], total: number): number {
  const members = kept.length;
  const floor = Math.floor(total / members);
  const extra = total % members;
  return [...kept]
    .sort((a, b) => b - a)
    .reduce((sum, count, index) => sum + Math.max(0, count - (floor + (index < extra ? 1 : 0))), 0);
}

describe('uniform assignor', () => {
  it('gives 3 members 2 of 6 partitions each', () => {
    const input = { members: ['a', 'b', 'c'].map((id) => member(id, ['t'])), topicPartitions: new Map([['t', 6]]) };
    const result = uniformAssignor.assign(input);
    checkComplete(input, result);
    expect(counts(result)).toEqual([2, 2, 2]);
  });

  it('moves only what the new member needs when a 4th joins', () => {
    const first = uniformAssignor.assign({ members: ['a', 'b', 'c'].map((id) => member(id, ['t'])), topicPartitions: new Map([['t', 6]]) });
    const members = ['a', 'b', 'c'].map((id) => member(id, ['t'], first.get(id)!)).concat(member('d', ['t']));
    const second = uniformAssignor.assign({ members, topicPartitions: new Map([['t', 6]]) });
    expect(partitionCount(second.get('d')!)).toBe(1);
    let kept = 0;
    for (const id of ['a', 'b', 'c']) for (const p of second.get(id)!.get('t') ?? []) if (first.get(id)!.get('t')!.has(p)) kept += 1;
    expect(kept).toBe(5);
  });

  it('leaves topics nobody subscribes to unassigned and balances mixed subscriptions', () => {
    const input = {
      members: [member('a', ['x', 'y']), member('b', ['y']), member('c', ['y'])],
      topicPartitions: new Map([['x', 3], ['y', 3], ['z', 4]]),
    };
    const result = uniformAssignor.assign(input);
    checkComplete(input, result);
    expect(toTopicPartitions(result.get('a')!)).toEqual([{ topic: 'x', partitions: [0, 1, 2] }]);
    expect([partitionCount(result.get('b')!), partitionCount(result.get('c')!)].sort()).toEqual([1, 2]);
  });
});

describe('range assignor', () => {
  it('gives contiguous ranges, the first members one extra', () => {
    const input = { members: ['c', 'a', 'b'].map((id) => member(id, ['t'])), topicPartitions: new Map([['t', 7]]) };
    const result = rangeAssignor.assign(input);
    checkComplete(input, result);
    expect(toTopicPartitions(result.get('a')!)).toEqual([{ topic: 't', partitions: [0, 1, 2] }]);
    expect(toTopicPartitions(result.get('b')!)).toEqual([{ topic: 't', partitions: [3, 4] }]);
    expect(toTopicPartitions(result.get('c')!)).toEqual([{ topic: 't', partitions: [5, 6] }]);
  });
});

const topicNames = ['t0', 't1', 't2', 't3'];
const inputArbitrary = fc
  .record({
    memberCount: fc.integer({ min: 1, max: 8 }),
    partitions: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 4 }),
    homogeneous: fc.boolean(),
    subscriptionSeeds: fc.array(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), { minLength: 8, maxLength: 8 }),
    previousSeeds: fc.array(fc.tuple(fc.nat(7), fc.nat(3), fc.nat(14)), { maxLength: 30 }),
  })
  .map(({ memberCount, partitions, homogeneous, subscriptionSeeds, previousSeeds }) => {
    const topics = topicNames.slice(0, partitions.length);
    const topicPartitions = new Map(topics.map((topic, index) => [topic, partitions[index]!] as [string, number]).filter(([, n]) => n > 0));
    const members: AssignorMember[] = [];
    for (let index = 0; index < memberCount; index++) {
      const subscription = homogeneous ? topics : topics.filter((_, t) => subscriptionSeeds[index]![t]);
      members.push(member(`m${index}`, subscription));
    }
    // Arbitrary (even conflicting or stale) previous assignments: the assignor must cope.
    for (const [m, t, p] of previousSeeds) {
      const target = members[m % memberCount]!;
      addPartition(target.current as Assignment, topicNames[t]!, p);
    }
    return { input: { members, topicPartitions } as AssignmentInput, homogeneous };
  });

describe('assignor properties', () => {
  it('uniform: complete, exclusive, balanced (within 1 when homogeneous; no improving move otherwise)', () => {
    fc.assert(
      fc.property(inputArbitrary, ({ input, homogeneous }) => {
        const result = uniformAssignor.assign(input);
        checkComplete(input, result);
        const loads = input.members.map((m) => ({ m, count: partitionCount(result.get(m.memberId)!) }));
        if (homogeneous) {
          const values = loads.map((l) => l.count);
          expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
        }
        for (const donor of loads) {
          for (const receiver of loads) {
            if (donor.count - receiver.count < 2) continue;
            for (const topic of result.get(donor.m.memberId)!.keys()) expect(receiver.m.subscription.has(topic)).toBe(false);
          }
        }
      }),
    );
  });

  it('range: complete, exclusive, per-topic balanced', () => {
    fc.assert(
      fc.property(inputArbitrary, ({ input }) => {
        const result = rangeAssignor.assign(input);
        checkComplete(input, result);
        for (const topic of input.topicPartitions.keys()) {
          const sizes = input.members.filter((m) => m.subscription.has(topic)).map((m) => result.get(m.memberId)!.get(topic)?.size ?? 0);
          if (sizes.length > 0) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
        }
      }),
    );
  });

  it('uniform is sticky: one member joining or leaving moves the minimum', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.nat(),
        (memberCount, partitions, join, pick) => {
          const topics = partitions.map((_, index) => `t${index}`);
          const topicPartitions = new Map(topics.map((topic, index) => [topic, partitions[index]!] as [string, number]));
          const ids = Array.from({ length: memberCount }, (_, index) => `m${index}`);
          const before = uniformAssignor.assign({ members: ids.map((id) => member(id, topics)), topicPartitions });
          let nextIds: string[];
          if (join) nextIds = [...ids, 'new'];
          else if (memberCount > 1) nextIds = ids.filter((_, index) => index !== pick % memberCount);
          else return;
          const after = uniformAssignor.assign({
            members: nextIds.map((id) => member(id, topics, before.get(id) ?? new Map())),
            topicPartitions,
          });
          let moved = 0;
          const kept: number[] = [];
          for (const id of nextIds) {
            const previous = before.get(id) ?? new Map<string, Set<number>>();
            kept.push(partitionCount(previous));
            for (const [topic, set] of previous) for (const p of set) if (!(after.get(id)!.get(topic)?.has(p) ?? false)) moved += 1;
          }
          const total = partitions.reduce((a, b) => a + b, 0);
          expect(moved).toBe(minimumMoves(kept, total));
        },
      ),
    );
  });
});
