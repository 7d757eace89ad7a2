// Proves the opening check of the Kafka front's classic-group calls (JoinGroup, SyncGroup,
// Heartbeat, LeaveGroup: Read on the group, then the member ids named are bound to the
// principal that first used them): over the Kafka wire with SASL/SCRAM and ACLs, alice's
// member id (given out with MEMBER_ID_REQUIRED) is refused to bob, who may Read the group,
// with UNKNOWN_MEMBER_ID in each of the four calls, and none of them touches alice's
// membership (her heartbeat still succeeds); carol, without Read on the group, gets
// GROUP_AUTHORIZATION_FAILED. Broker in this process (raw Kafka-wire requests, no client
// library); the first join waits the coordinator's 1 s initial rebalance delay.

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { alterUserScramCredentials } from '../../src/client/admin-users.js';
import { Client } from '../../src/client/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { randomTopic, tempDir } from '../helpers/broker.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';

let broker: Broker;
let dataDir: string;
const wires: KafkaWire[] = [];

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir);
  const admin = new Client({ brokers: [`127.0.0.1:${broker.port}`], retry: { retries: 0 }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' } });
  try {
    await alterUserScramCredentials(
      admin,
      ['alice', 'bob', 'carol'].map((user) => ({ kind: 'upsert' as const, user, mechanism: 'SCRAM-SHA-256' as const, password: `${user}-secret` })),
    );
  } finally {
    await admin.close();
  }
});

afterAll(async () => {
  for (const wire of wires) wire.socket.destroy();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function login(user: string): Promise<KafkaWire> {
  const wire = await KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
  wires.push(wire);
  expect((await wire.request(ApiKeys.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' })).errorCode).toBe(0);
  const scram = new ScramClient('SCRAM-SHA-256', user, `${user}-secret`);
  const first = await wire.request(ApiKeys.SaslAuthenticate, 2, { authBytes: scram.first() });
  expect(first.errorCode).toBe(0);
  const final = await wire.request(ApiKeys.SaslAuthenticate, 2, { authBytes: await scram.final(first.authBytes) });
  expect(final.errorCode, final.errorMessage ?? '').toBe(0);
  return wire;
}

describe('Kafka classic-group calls check the group and the member id first', () => {
  it('refuses alice\'s member id to bob in JoinGroup, SyncGroup, Heartbeat and LeaveGroup; carol may not Read the group', async () => {
    const groupId = randomTopic('classic');
    broker.context.security.createAcls(
      ['User:alice', 'User:bob'].map((principal) => ({ principal, host: '*', resourceType: 'Group' as const, resourceName: groupId, patternType: 'literal' as const, operation: 'Read' as const, permission: 'allow' as const })),
    );
    const alice = await login('alice');
    const bob = await login('bob');
    const carol = await login('carol');
    const join = (memberId: string) => ({ groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, groupInstanceId: null, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }] });

    // Alice is given a member id (bound to her), joins with it and takes her assignment.
    const required = await alice.request(ApiKeys.JoinGroup, 5, join(''));
    expect(required.errorCode).toBe(KafkaErrors.MEMBER_ID_REQUIRED);
    const memberId = required.memberId;
    const joined = await alice.request(ApiKeys.JoinGroup, 5, join(memberId));
    expect(joined).toMatchObject({ errorCode: 0, leader: memberId, memberId });
    const generationId = joined.generationId!;
    expect(generationId).toBeGreaterThan(0);
    const assignments = [{ memberId, assignment: Buffer.from('a') }];
    expect((await alice.request(ApiKeys.SyncGroup, 3, { groupId, generationId, memberId, groupInstanceId: null, assignments })).errorCode).toBe(0);

    // Bob, who may Read the group, naming alice's member id: refused before the coordinator.
    expect((await bob.request(ApiKeys.JoinGroup, 5, join(memberId))).errorCode).toBe(KafkaErrors.UNKNOWN_MEMBER_ID);
    expect((await bob.request(ApiKeys.SyncGroup, 3, { groupId, generationId, memberId, groupInstanceId: null, assignments })).errorCode).toBe(KafkaErrors.UNKNOWN_MEMBER_ID);
    expect((await bob.request(ApiKeys.Heartbeat, 3, { groupId, generationId, memberId, groupInstanceId: null })).errorCode).toBe(KafkaErrors.UNKNOWN_MEMBER_ID);
    const left = await bob.request(ApiKeys.LeaveGroup, 3, { groupId, members: [{ memberId, groupInstanceId: null }] });
    expect(left).toMatchObject({ errorCode: KafkaErrors.UNKNOWN_MEMBER_ID, members: [] });
    // Alice is still the member, in the same generation.
    expect((await alice.request(ApiKeys.Heartbeat, 3, { groupId, generationId, memberId, groupInstanceId: null })).errorCode).toBe(0);

    // Carol may not Read the group: refused before any member id is looked at.
    expect((await carol.request(ApiKeys.Heartbeat, 3, { groupId, generationId, memberId, groupInstanceId: null })).errorCode).toBe(KafkaErrors.GROUP_AUTHORIZATION_FAILED);
    expect((await carol.request(ApiKeys.JoinGroup, 5, join(''))).errorCode).toBe(KafkaErrors.GROUP_AUTHORIZATION_FAILED);

    const leftAlice = await alice.request(ApiKeys.LeaveGroup, 3, { groupId, members: [{ memberId, groupInstanceId: null }] });
    expect(leftAlice.errorCode).toBe(0);
  });
});
