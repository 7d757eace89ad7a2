// Test helpers for the group coordinator: a tiny in-memory stand-in for the LogManager
// (topics, partition counts, log offsets, timestamps) and a simulated consumer that
// follows the heartbeat protocol the way a well-behaved client does.

import { expect } from 'vitest';
import type { GroupCoordinator } from '../../src/groups/coordinator.js';
import type * as M from '../../src/protocol/messages.js';
import type { LogManager, PartitionLog, TopicConfig, TopicInfo } from '../../src/storage/types.js';

export class FakePartition {
  logStartOffset = 0;
  logEndOffset = 0;
  /** timestamps[i] = timestamp of offset logStartOffset + i */
  timestamps: number[] = [];
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}
  offsetForTimestamp(timestampMs: number): number | null {
    const index = this.timestamps.findIndex((t) => t >= timestampMs);
    return index < 0 ? null : this.logStartOffset + index;
  }
  produce(count: number, timestampMs = 0): void {
    for (let i = 0; i < count; i++) this.timestamps.push(timestampMs);
    this.logEndOffset += count;
  }
}

export class FakeLogs {
  readonly topics = new Map<string, { info: TopicInfo; partitions: FakePartition[] }>();
  createTopic(name: string, partitions: number): void {
    this.topics.set(name, {
      info: { name, partitions, config: {} as TopicConfig, internal: false },
      partitions: Array.from({ length: partitions }, (_, p) => new FakePartition(name, p)),
    });
  }
  deleteTopic(name: string): void {
    this.topics.delete(name);
  }
  partition(topic: string, partition: number): FakePartition {
    const found = this.topics.get(topic)?.partitions[partition];
    if (found === undefined) throw new Error(`no ${topic}-${partition}`);
    return found;
  }
  asLogManager(): LogManager {
    return {
      dataDir: '/nowhere',
      recoveryReports: [],
      getTopic: (name: string) => this.topics.get(name)?.info,
      listTopics: () => [...this.topics.values()].map((t) => t.info),
      getPartition: (topic: string, partition: number) => this.partition(topic, partition) as unknown as PartitionLog,
      createTopic: () => Promise.reject(new Error('not in the fake')),
      createPartitions: () => Promise.reject(new Error('not in the fake')),
      alterTopicConfig: () => Promise.reject(new Error('not in the fake')),
      deleteTopic: () => Promise.reject(new Error('not in the fake')),
      deletePartition: () => Promise.reject(new Error('not in the fake')),
      allocateProducerId: () => {
        throw new Error('not in the fake');
      },
      close: () => Promise.resolve(),
    };
  }
}

type Owned = Map<string, Set<number>>;

/**
 * A consumer that does what the protocol asks, slowly: partitions a response leaves out
 * are still held (being committed) until just before its next heartbeat, which then
 * reports them dropped; new partitions are held from the response on. So a coordinator
 * that gave a partition away before the owner reported it dropped would be caught by
 * expectExclusive.
 */
export class SimMember {
  memberId = '';
  memberEpoch = 0;
  owned: Owned = new Map();
  /** Revoked partitions still being committed; dropped before the next heartbeat. */
  revoking: Owned = new Map();
  lastError = 0;
  constructor(
    readonly coordinator: GroupCoordinator,
    readonly groupId: string,
    public topics: string[],
    readonly extra: Partial<M.ConsumerGroupHeartbeatRequest> = {},
  ) {}

  ownedList(): M.TopicPartitions[] {
    return [...this.owned].map(([topic, set]) => ({ topic, partitions: [...set].sort((a, b) => a - b) }));
  }

  /** Partitions it consumes (owned and not being revoked). */
  count(): number {
    let n = 0;
    for (const set of this.revoking.values()) n -= set.size;
    for (const set of this.owned.values()) n += set.size;
    return n;
  }

  has(topic: string, partition: number): boolean {
    return this.owned.get(topic)?.has(partition) ?? false;
  }

  async heartbeat(): Promise<M.ConsumerGroupHeartbeatResponse> {
    for (const [topic, set] of this.revoking) for (const p of set) this.owned.get(topic)?.delete(p);
    for (const [topic, set] of [...this.owned]) if (set.size === 0) this.owned.delete(topic);
    this.revoking = new Map();
    const response = await this.coordinator.heartbeat({
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.memberEpoch,
      topics: this.topics,
      ownedPartitions: this.ownedList(),
      ...this.extra,
    });
    this.lastError = response.errorCode;
    if (response.errorCode !== 0) {
      // Fenced or unknown: drop everything and rejoin with epoch 0 next time.
      this.owned = new Map();
      this.revoking = new Map();
      this.memberEpoch = 0;
      return response;
    }
    this.memberId = response.memberId;
    this.memberEpoch = response.memberEpoch;
    if (response.assignment !== undefined) {
      const assigned: Owned = new Map(response.assignment.map((tp) => [tp.topic, new Set(tp.partitions)]));
      for (const [topic, set] of this.owned) {
        for (const p of set) {
          if (assigned.get(topic)?.has(p) ?? false) continue;
          if (!this.revoking.has(topic)) this.revoking.set(topic, new Set());
          this.revoking.get(topic)!.add(p);
        }
      }
      for (const [topic, set] of assigned) {
        if (!this.owned.has(topic)) this.owned.set(topic, new Set());
        for (const p of set) this.owned.get(topic)!.add(p);
      }
    }
    return response;
  }

  async leave(): Promise<void> {
    await this.coordinator.heartbeat({ groupId: this.groupId, memberId: this.memberId, memberEpoch: -1 });
    this.owned = new Map();
    this.revoking = new Map();
  }
}

/** No partition is held by two simulated consumers at once. */
export function expectExclusive(members: SimMember[]): void {
  const seen = new Map<string, string>();
  for (const member of members) {
    for (const [topic, set] of member.owned) {
      for (const partition of set) {
        const key = `${topic}-${partition}`;
        expect(seen.get(key), `${key} held by ${seen.get(key)} and ${member.memberId}`).toBeUndefined();
        seen.set(key, member.memberId);
      }
    }
  }
}

/** Heartbeats every member in turn until nothing changes, checking exclusivity after each one. */
export async function settle(coordinator: GroupCoordinator, groupId: string, members: SimMember[], rounds = 10): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (const member of members) {
      await member.heartbeat();
      expectExclusive(members);
      coordinator.group(groupId)?.checkInvariants();
    }
    if (coordinator.group(groupId)?.state() === 'stable') return;
  }
  throw new Error(`group ${groupId} did not settle: ${coordinator.group(groupId)?.state()}`);
}
