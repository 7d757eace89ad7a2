// Test helpers for classic groups: a member that speaks JoinGroup/SyncGroup/Heartbeat
// to the coordinator the way a Kafka client does (rejoin after MEMBER_ID_REQUIRED), and
// the embedded consumer protocol's subscription and assignment bytes.

import type { GroupCoordinator } from '../../src/groups/coordinator.js';
import type { JoinGroup, JoinGroupResult, SyncGroupResult } from '../../src/groups/types.js';
import { Errors } from '../../src/util/errors.js';

function string16(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  const length = Buffer.alloc(2);
  length.writeInt16BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function int32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeInt32BE(value);
  return bytes;
}

/** ConsumerProtocolSubscription v0: version, topics, user_data (null). */
export function subscription(topics: string[]): Buffer {
  return Buffer.concat([Buffer.from([0, 0]), int32(topics.length), ...topics.map(string16), int32(-1)]);
}

/** ConsumerProtocolAssignment v0: version, [topic [partition]], user_data (null). */
export function assignment(entries: Array<[string, number[]]>): Buffer {
  const parts = entries.map(([topic, partitions]) => Buffer.concat([string16(topic), int32(partitions.length), ...partitions.map(int32)]));
  return Buffer.concat([Buffer.from([0, 0]), int32(entries.length), ...parts, int32(-1)]);
}

export class ClassicClient {
  memberId = '';
  generationId = -1;
  leader = '';
  lastJoin: JoinGroupResult | undefined;
  constructor(
    readonly coordinator: GroupCoordinator,
    readonly groupId: string,
    readonly options: Partial<JoinGroup> & { topics?: string[] } = {},
  ) {}

  request(): JoinGroup {
    const { topics = ['orders'], ...rest } = this.options;
    return {
      groupId: this.groupId,
      memberId: this.memberId,
      groupInstanceId: null,
      clientId: 'client',
      clientHost: '/127.0.0.1',
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 30_000,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: subscription(topics) }],
      requireKnownMemberId: true,
      ...rest,
    };
  }

  /**
   * Sends JoinGroup; after MEMBER_ID_REQUIRED it joins again with the given id. Resolves
   * once the join is sent (wrapped, since an async function would wait for a parked join).
   */
  async startJoin(): Promise<{ result: Promise<JoinGroupResult> }> {
    const first = this.coordinator.joinGroup(this.request());
    if (this.memberId !== '' || (this.options.groupInstanceId ?? null) !== null) return { result: first.then((r) => this.record(r)) };
    const answer = await first;
    if (answer.errorCode !== Errors.MEMBER_ID_REQUIRED.code) return { result: Promise.resolve(this.record(answer)) };
    this.memberId = answer.memberId;
    return { result: this.coordinator.joinGroup(this.request()).then((r) => this.record(r)) };
  }

  private record(result: JoinGroupResult): JoinGroupResult {
    this.lastJoin = result;
    if (result.errorCode === 0) {
      this.memberId = result.memberId;
      this.generationId = result.generationId;
      this.leader = result.leader;
    }
    return result;
  }

  sync(assignments: Array<{ memberId: string; assignment: Buffer }> = []): Promise<SyncGroupResult> {
    return this.coordinator.syncGroup({
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.options.groupInstanceId ?? null,
      protocolType: 'consumer',
      protocolName: 'range',
      assignments,
    });
  }

  async heartbeat(): Promise<number> {
    const result = await this.coordinator.classicHeartbeat({
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.options.groupInstanceId ?? null,
    });
    return result.errorCode;
  }

  async commit(offset: number, partition = 0, generationId = this.generationId): Promise<number> {
    const result = await this.coordinator.commitOffsets({
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: generationId,
      groupInstanceId: this.options.groupInstanceId ?? null,
      offsets: [{ topic: 'orders', partition, offset }],
    });
    return result.partitions[0]!.errorCode;
  }

  async leave(): Promise<number> {
    const result = await this.coordinator.leaveGroup({
      groupId: this.groupId,
      members: [{ memberId: this.memberId, groupInstanceId: this.options.groupInstanceId ?? null }],
    });
    return result.members[0]!.errorCode;
  }
}
