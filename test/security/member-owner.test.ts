// Proves that a share-group member cannot act on records it did not acquire: a record bob
// names that alice acquired is INVALID_RECORD_STATE (the share partition's own check), and
// bob naming alice's member id (share member ids are client-chosen) is UNKNOWN_MEMBER_ID
// (the broker binds a member id to the principal that first used it); either way alice's
// lock is untouched and she can still acknowledge. Also: a principal that is not a member
// of a live consumer group cannot commit its offsets (the coordinator's rule). Broker in
// this process with SASL (SCRAM) and ACLs; alice and bob both may Read the group and topic.

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/index.js';
import { alterUserScramCredentials } from '../../src/client/admin-users.js';
import { Client } from '../../src/client/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type { AclBinding } from '../../src/security/acl.js';
import { errorByCode, isSpoolError } from '../../src/util/errors.js';
import { randomTopic, tempDir } from '../helpers/broker.js';

let broker: Broker;
let dataDir: string;
const clients: Client[] = [];

function as(username: string): Client {
  const client = new Client({ brokers: [`127.0.0.1:${broker.port}`], retry: { retries: 0 }, sasl: { mechanism: 'SCRAM-SHA-256', username, password: `${username}-secret` } });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir);
  await alterUserScramCredentials(as('admin'), [
    { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-secret' },
    { kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret' },
  ]);
});

afterAll(async () => {
  for (const client of clients) await client.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function allow(principal: string, operation: AclBinding['operation'], resourceType: AclBinding['resourceType'], resourceName: string): AclBinding {
  return { principal, host: '*', resourceType, resourceName, patternType: 'literal', operation, permission: 'allow' };
}

/** The error name a request was refused with (the client throws a top-level error). */
async function refusal(request: Promise<unknown>): Promise<string> {
  try {
    await request;
  } catch (error) {
    if (isSpoolError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('share-group members', () => {
  it('cannot acknowledge records another member acquired, by their offsets or by the other member id', async () => {
    const topic = randomTopic('share');
    const groupId = randomTopic('cooks');
    const admin = as('admin');
    await admin.admin().createTopics({ topics: [{ topic }] });
    await admin.producer({ lingerMs: 0 }).send({ topic, messages: [{ value: 'soup' }] });
    for (const user of ['User:alice', 'User:bob']) broker.context.security.createAcls([allow(user, 'Read', 'Group', groupId), allow(user, 'Read', 'Topic', topic)]);

    const alice = as('alice');
    const bob = as('bob');
    const aliceId = randomUUID();
    const fetched = await alice.request(ApiKey.ShareFetch, { groupId, memberId: aliceId, maxWaitMs: 1000, maxRecords: 10, maxBytes: 1 << 20, partitions: [{ topic, partition: 0 }] });
    const acquired = (fetched.header['partitions'] as Array<{ acquired: Array<{ firstOffset: number; lastOffset: number }> }>)[0]!.acquired;
    expect(acquired).toEqual([expect.objectContaining({ firstOffset: 0, lastOffset: 0 })]);

    const accept = { topic, partition: 0, ranges: [{ firstOffset: 0, lastOffset: 0, type: 1 }] };
    // Bob as himself: the record is not his.
    const own = await bob.request(ApiKey.ShareAcknowledge, { groupId, memberId: randomUUID(), partitions: [accept] });
    expect(errorByCode((own.header['partitions'] as Array<{ errorCode: number }>)[0]!.errorCode).name).toBe('INVALID_RECORD_STATE');
    // Bob naming alice's member id: refused before the coordinator sees it.
    expect(await refusal(bob.request(ApiKey.ShareAcknowledge, { groupId, memberId: aliceId, partitions: [accept] }))).toBe('UNKNOWN_MEMBER_ID');
    expect(await refusal(bob.request(ApiKey.ShareFetch, { groupId, memberId: aliceId, maxWaitMs: 0, maxRecords: 10, maxBytes: 1 << 20, partitions: [{ topic, partition: 0 }] }))).toBe('UNKNOWN_MEMBER_ID');
    // Alice's lock is untouched: she acknowledges it.
    const done = await alice.request(ApiKey.ShareAcknowledge, { groupId, memberId: aliceId, partitions: [accept] });
    expect((done.header['partitions'] as Array<{ errorCode: number }>)[0]!.errorCode).toBe(0);
  });
});

describe('consumer-group offsets', () => {
  it('a principal that is not a member of a live group cannot commit or reset its offsets', async () => {
    const topic = randomTopic('offsets');
    const groupId = randomTopic('kitchen');
    const admin = as('admin');
    await admin.admin().createTopics({ topics: [{ topic }] });
    for (const user of ['User:alice', 'User:bob']) broker.context.security.createAcls([allow(user, 'Read', 'Group', groupId), allow(user, 'Read', 'Topic', topic)]);
    const alice = as('alice');
    const joined = await alice.request(ApiKey.ConsumerGroupHeartbeat, { groupId, memberId: '', memberEpoch: 0, topics: [topic] });
    const memberId = joined.header['memberId'] as string;
    expect(memberId).not.toBe('');
    const bob = as('bob');
    const offsets = [{ topic, partition: 0, offset: 5 }];
    // A simple commit (no member) while the group has a member; a guess of a member id; alice's member id.
    expect(await refusal(bob.request(ApiKey.OffsetCommit, { groupId, memberId: '', memberEpoch: -1, offsets }))).toBe('NON_EMPTY_GROUP');
    expect(await refusal(bob.request(ApiKey.OffsetCommit, { groupId, memberId: 'guess', memberEpoch: 1, offsets }))).toBe('UNKNOWN_MEMBER_ID');
    // Alice's own member id and epoch, from bob: the id is bound to alice.
    expect(await refusal(bob.request(ApiKey.OffsetCommit, { groupId, memberId, memberEpoch: joined.header['memberEpoch'], offsets }))).toBe('UNKNOWN_MEMBER_ID');
    expect(await refusal(bob.request(ApiKey.ResetOffsets, { groupId, topic, to: { kind: 'offset', offset: 0 } }))).toBe('NON_EMPTY_GROUP');
    const committed = await broker.context.coordinator.fetchOffsets({ groupId, partitions: [{ topic, partition: 0 }] });
    expect(committed.offsets[0]!.offset).toBe(-1);
  });
});
