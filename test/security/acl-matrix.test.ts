// The ACL matrix: for each operation and resource kind, a principal without the ACL is
// refused with the named error and nothing changes, and with the ACL it succeeds, on both
// listeners: the native SDK (spool's Client) and kafkajs 2.2.4 on the Kafka listener, both
// authenticated as alice with SCRAM-SHA-256. The broker runs in this process with SASL on
// (so authorisation is on by default) and User:admin as super user: the admin client makes
// alice's credentials through the ACL-free super-user path; the test grants and revokes
// alice's ACLs through the broker's SecurityStore and reads the log and group state to
// prove "nothing changed". A second broker with `authorizer: 'acl'` and no SASL checks the
// explicit flag and the Kafka DescribeGroups / FindCoordinator answers on a raw wire.

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { Kafka, logLevel, type Admin as KafkaAdmin } from 'kafkajs';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, type Broker } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { alterUserScramCredentials } from '../../src/client/admin-users.js';
import type { AclBinding } from '../../src/security/acl.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { isSpoolError } from '../../src/util/errors.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';
import { RawClient } from '../helpers/raw-client.js';
import { ApiKey } from '../../src/protocol/index.js';
import { Errors } from '../../src/util/errors.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';

const PRINCIPAL = 'User:alice';
const ALICE = { mechanism: 'SCRAM-SHA-256' as const, username: 'alice', password: 'alice-secret' };

let broker: Broker;
let dataDir: string;
let native: Client;
let kafka: Kafka;
let kafkaAdmin: KafkaAdmin;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir);
  expect(broker.context.security.authorizer.enabled).toBe(true);
  const admin = new Client({ brokers: [`127.0.0.1:${broker.port}`], retry: { retries: 0 }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' } });
  await alterUserScramCredentials(admin, [{ kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', password: ALICE.password }]);
  await admin.close();
  native = new Client({ brokers: [`127.0.0.1:${broker.port}`], retry: { retries: 0 }, sasl: ALICE });
  kafka = kafkaAs(ALICE.username, ALICE.password, 0);
});

// A kafkajs admin keeps asking metadata for every topic it has touched: a fresh one per
// test, so a topic an earlier test left denied does not fail a later test's calls.
beforeEach(async () => {
  kafkaAdmin = kafka.admin();
  await kafkaAdmin.connect();
});

afterEach(async () => {
  await kafkaAdmin.disconnect();
});

afterAll(async () => {
  await native?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function grant(operation: AclBinding['operation'], resourceType: AclBinding['resourceType'], resourceName: string): AclBinding {
  return { principal: PRINCIPAL, host: '*', resourceType, resourceName, patternType: 'literal', operation, permission: 'allow' };
}

function withAcls<T>(acls: AclBinding[], run: () => Promise<T>): Promise<T> {
  const security = broker.context.security;
  expect(security.createAcls(acls).every((error) => error === null)).toBe(true);
  return run().finally(() => security.deleteAcls(acls.map((acl) => ({ ...acl }))));
}

function kafkaAs(username: string, password: string, retries: number): Kafka {
  return new Kafka({
    clientId: 'acl-matrix',
    brokers: [`127.0.0.1:${broker.kafka!.port}`],
    logLevel: logLevel.NOTHING,
    retry: { retries },
    sasl: { mechanism: 'scram-sha-256', username, password },
  });
}

/** The error name a native call failed with. */
async function nativeError(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    if (isSpoolError(error)) return error.code;
    throw error;
  }
  throw new Error('expected the call to be refused');
}

/** The Kafka error type a kafkajs call failed with (kafkajs wraps some in aggregate errors). */
async function kafkaError(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
  } catch (error) {
    const find = (value: unknown): string | undefined => {
      if (value === null || typeof value !== 'object') return undefined;
      const record = value as { type?: unknown; errors?: unknown[]; originalError?: unknown; cause?: unknown };
      if (typeof record.type === 'string' && record.type !== 'UNKNOWN') return record.type;
      for (const inner of record.errors ?? []) {
        const found = find(inner);
        if (found) return found;
      }
      return find(record.originalError) ?? find(record.cause);
    };
    const type = find(error);
    if (type) return type;
    throw error;
  }
  throw new Error('expected the call to be refused');
}

/** A kafkajs group member reads one record and leaves (committing it); rejects with what crashed it. */
async function consumeInGroup(topic: string, groupId: string): Promise<string> {
  const consumer = kafka.consumer({ groupId, retry: { retries: 0 } });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let value: string | null = null;
    let crash: unknown = null;
    consumer.on(consumer.events.CRASH, (event) => (crash = event.payload.error));
    await consumer.run({ eachMessage: async ({ message }) => void (value = message.value!.toString()) });
    await waitFor(() => value !== null || crash !== null, 20_000);
    if (crash) throw crash;
    return value!;
  } finally {
    await consumer.disconnect();
  }
}

const ctx = () => broker.context;
const logEnd = (topic: string): number => ctx().logs.getPartition(topic, 0).logEndOffset;
const adminCreate = (topic: string, partitions = 1) => ctx().logs.createTopic(topic, partitions);

describe.each(['native', 'kafka'] as const)('ACL matrix on the %s listener', (listener) => {
  const expectDenied = async (call: { native: () => Promise<unknown>; kafka: () => Promise<unknown> }, name: string): Promise<void> => {
    if (listener === 'native') expect(await nativeError(call.native)).toBe(name);
    else expect(await kafkaError(call.kafka)).toBe(name);
  };
  const run = (call: { native: () => Promise<unknown>; kafka: () => Promise<unknown> }): Promise<unknown> => (listener === 'native' ? call.native() : call.kafka());

  it('Produce needs Write on the topic', async () => {
    const topic = randomTopic('produce');
    await adminCreate(topic);
    // Not idempotent: this case is about Produce itself (InitProducerId has its own below).
    const producer = native.producer({ lingerMs: 0, idempotent: false });
    const kafkaProducer = kafka.producer();
    await kafkaProducer.connect();
    const call = {
      native: () => producer.send({ topic, messages: [{ value: 'x' }] }),
      kafka: () => kafkaProducer.send({ topic, messages: [{ value: 'x' }] }),
    };
    // Describe alone lets the client see the topic, not write to it.
    await withAcls([grant('Describe', 'Topic', topic)], () => expectDenied(call, 'TOPIC_AUTHORIZATION_FAILED'));
    expect(logEnd(topic)).toBe(0);
    await withAcls([grant('Write', 'Topic', topic)], () => run(call));
    expect(logEnd(topic)).toBe(1);
    await kafkaProducer.disconnect();
    await producer.close();
  });

  it('Fetch needs Read on the topic', async () => {
    const topic = randomTopic('fetch');
    await adminCreate(topic);
    await ctx().logs.getPartition(topic, 0); // exists
    await withAcls([grant('Write', 'Topic', topic)], () => native.producer({ lingerMs: 0, idempotent: false }).send({ topic, messages: [{ value: 'hello' }] }));
    const readNative = async (): Promise<string> => {
      const consumer = native.consumer({ autoOffsetReset: 'earliest' });
      try {
        await consumer.assign([{ topic, partition: 0, offset: 0 }]);
        for await (const message of consumer) return message.value!.toString();
        return '';
      } finally {
        await consumer.close();
      }
    };
    const readKafka = (): Promise<string> => consumeInGroup(topic, randomTopic('fetch-group'));
    const group = (name: string) => grant('Read', 'Group', name);
    await withAcls([grant('Describe', 'Topic', topic), { ...group('*'), resourceName: '*' }], () => expectDenied({ native: readNative, kafka: readKafka }, 'TOPIC_AUTHORIZATION_FAILED'));
    await withAcls([grant('Read', 'Topic', topic), { ...group('*'), resourceName: '*' }], async () => expect(await run({ native: readNative, kafka: readKafka })).toBe('hello'));
  });

  it('listings hide topics the principal may not Describe; a named one is TOPIC_AUTHORIZATION_FAILED', async () => {
    const topic = randomTopic('hidden');
    await adminCreate(topic);
    const list = { native: () => native.admin().listTopics(), kafka: () => kafkaAdmin.listTopics() };
    expect(await run(list)).not.toContain(topic);
    const offsets = { native: () => native.admin().listOffsets({ topic }), kafka: () => kafkaAdmin.fetchTopicOffsets(topic) };
    await expectDenied(offsets, 'TOPIC_AUTHORIZATION_FAILED');
    await withAcls([grant('Describe', 'Topic', topic)], async () => {
      expect(await run(list)).toContain(topic);
      await run(offsets);
    });
  });

  it('CreateTopics needs Create on the cluster or the topic', async () => {
    const topic = randomTopic('create');
    const create = {
      native: () => native.admin().createTopics({ topics: [{ topic }] }),
      kafka: () => kafkaAdmin.createTopics({ waitForLeaders: false, topics: [{ topic }] }),
    };
    await expectDenied(create, 'TOPIC_AUTHORIZATION_FAILED');
    expect(ctx().logs.getTopic(topic)).toBeUndefined();
    await withAcls([grant('Create', 'Topic', topic)], () => run(create));
    expect(ctx().logs.getTopic(topic)).toBeDefined();
    const other = randomTopic('create');
    // A fresh kafkajs admin: this one would ask metadata for `topic`, which it may not Describe.
    const freshAdmin = kafka.admin();
    await freshAdmin.connect();
    await withAcls([grant('Create', 'Cluster', 'kafka-cluster')], () => run({ native: () => native.admin().createTopics({ topics: [{ topic: other }] }), kafka: () => freshAdmin.createTopics({ waitForLeaders: false, topics: [{ topic: other }] }) }));
    await freshAdmin.disconnect();
    expect(ctx().logs.getTopic(other)).toBeDefined();
  });

  it('DeleteTopics needs Delete on the topic', async () => {
    const topic = randomTopic('delete');
    await adminCreate(topic);
    const remove = { native: () => native.admin().deleteTopics({ topics: [topic] }), kafka: () => kafkaAdmin.deleteTopics({ topics: [topic] }) };
    await withAcls([grant('Describe', 'Topic', topic)], () => expectDenied(remove, 'TOPIC_AUTHORIZATION_FAILED'));
    expect(ctx().logs.getTopic(topic)).toBeDefined();
    await withAcls([grant('Delete', 'Topic', topic)], () => run(remove));
    expect(ctx().logs.getTopic(topic)).toBeUndefined();
  });

  it('CreatePartitions needs Alter on the topic', async () => {
    const topic = randomTopic('grow');
    await adminCreate(topic);
    const grow = {
      native: () => native.admin().createPartitions({ topicPartitions: [{ topic, count: 2 }] }),
      kafka: () => kafkaAdmin.createPartitions({ topicPartitions: [{ topic, count: 2 }] }),
    };
    await withAcls([grant('Describe', 'Topic', topic)], () => expectDenied(grow, 'TOPIC_AUTHORIZATION_FAILED'));
    expect(ctx().logs.getTopic(topic)!.partitions).toBe(1);
    await withAcls([grant('Alter', 'Topic', topic)], () => run(grow));
    expect(ctx().logs.getTopic(topic)!.partitions).toBe(2);
  });

  it('configs need AlterConfigs (native alter) / DescribeConfigs (Kafka describe) on the topic', async () => {
    const topic = randomTopic('configs');
    await adminCreate(topic);
    const call = {
      native: () => native.admin().alterConfigs({ topics: [{ topic, config: { 'retention.ms': 12345 } }] }),
      kafka: () => kafkaAdmin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic }] }),
    };
    await withAcls([grant('Describe', 'Topic', topic)], () => expectDenied(call, 'TOPIC_AUTHORIZATION_FAILED'));
    expect(ctx().logs.getTopic(topic)!.config.retentionMs).not.toBe(12345);
    await withAcls([grant('AlterConfigs', 'Topic', topic)], () => run(call));
    if (listener === 'native') expect(ctx().logs.getTopic(topic)!.config.retentionMs).toBe(12345);
  });

  it('group offsets need Read on the group and the topic; describing a group needs Describe', async () => {
    const topic = randomTopic('offsets');
    const groupId = randomTopic('group');
    await adminCreate(topic);
    await withAcls([grant('Write', 'Topic', topic)], () => native.producer({ lingerMs: 0, idempotent: false }).send({ topic, messages: [{ value: 'a' }] }));
    // Native: the admin's offset reset (an OffsetCommit outside the group). Kafka: a kafkajs
    // group member that joins (JoinGroup needs Read on the group), reads the record and
    // commits it as it leaves.
    const commit = {
      native: () => native.admin().resetOffsets({ groupId, topic, to: 1 }),
      kafka: () => consumeInGroup(topic, groupId),
    };
    const committed = async (): Promise<number> => (await ctx().coordinator.fetchOffsets({ groupId, partitions: [{ topic, partition: 0 }] })).offsets[0]?.offset ?? -1;
    await withAcls([grant('Read', 'Topic', topic), grant('Describe', 'Group', groupId)], () => expectDenied(commit, 'GROUP_AUTHORIZATION_FAILED'));
    if (listener === 'native') await withAcls([grant('Read', 'Group', groupId), grant('Describe', 'Topic', topic)], () => expectDenied(commit, 'TOPIC_AUTHORIZATION_FAILED'));
    expect(await committed()).toBe(-1);
    await withAcls([grant('Read', 'Group', groupId), grant('Read', 'Topic', topic)], () => run(commit));
    expect(await committed()).toBe(1);
    if (listener === 'native') {
      const describe = () => native.admin().describeGroups({ groupIds: [groupId] });
      expect(await nativeError(describe)).toBe('GROUP_AUTHORIZATION_FAILED');
      await withAcls([grant('Describe', 'Group', groupId)], describe);
    } else {
      // kafkajs hides FindCoordinator's GROUP_AUTHORIZATION_FAILED behind "no brokers in the
      // pool": the call fails, and the codes themselves are checked on a raw wire below.
      await expect(kafkaAdmin.describeGroups([groupId])).rejects.toThrow();
      await withAcls([grant('Describe', 'Group', groupId)], () => kafkaAdmin.describeGroups([groupId]));
    }
  });

  it('ACL admin needs Describe / Alter on the cluster', async () => {
    const entry = grant('Read', 'Topic', randomTopic('acl'));
    const describeAcls = {
      native: () => native.admin().describeAcls({ resourceType: 'Topic' }),
      kafka: () => kafkaAdmin.describeAcls({ resourceType: 1, permissionType: 1, operation: 1, resourcePatternType: 1 }),
    };
    const createAcl = {
      native: () => native.admin().createAcls([{ ...entry }]),
      kafka: () => kafkaAdmin.createAcls({ acl: [{ resourceType: 2, resourceName: entry.resourceName, resourcePatternType: 3, principal: PRINCIPAL, host: '*', operation: 3, permissionType: 3 }] }),
    };
    await expectDenied(describeAcls, 'CLUSTER_AUTHORIZATION_FAILED');
    await expectDenied(createAcl, 'CLUSTER_AUTHORIZATION_FAILED');
    expect(ctx().security.describeAcls({ principal: null, host: null, resourceType: null, resourceName: entry.resourceName, patternType: null, operation: null, permission: null })).toEqual([]);
    await withAcls([grant('Describe', 'Cluster', 'kafka-cluster'), grant('Alter', 'Cluster', 'kafka-cluster')], async () => {
      await run(createAcl);
      await run(describeAcls);
    });
    expect(ctx().security.describeAcls({ principal: null, host: null, resourceType: null, resourceName: entry.resourceName, patternType: null, operation: null, permission: null })).toHaveLength(1);
  });

  it('an idempotent producer needs IdempotentWrite on the cluster or Write on some topic', async () => {
    const topic = randomTopic('idem');
    await adminCreate(topic);
    const producer = native.producer({ idempotent: true, lingerMs: 0 });
    const kafkaProducer = kafkaAs(ALICE.username, ALICE.password, 1).producer({ idempotent: true, maxInFlightRequests: 1 });
    const call = {
      native: () => producer.send({ topic, messages: [{ value: 'x' }] }),
      kafka: async () => {
        await kafkaProducer.connect();
        await kafkaProducer.send({ topic, messages: [{ value: 'x' }] });
      },
    };
    await withAcls([grant('Describe', 'Topic', topic)], () => expectDenied(call, 'CLUSTER_AUTHORIZATION_FAILED'));
    expect(logEnd(topic)).toBe(0);
    await withAcls([grant('Write', 'Topic', topic)], () => run(call));
    expect(logEnd(topic)).toBe(1);
    await kafkaProducer.disconnect();
    await producer.close();
  });
});

describe('native-only APIs', () => {
  it('DeleteRecords needs Delete, DeleteGroups Delete on the group, quotas DescribeConfigs/AlterConfigs on the cluster', async () => {
    const topic = randomTopic('records');
    await adminCreate(topic);
    await withAcls([grant('Write', 'Topic', topic)], () => native.producer({ lingerMs: 0, idempotent: false }).send({ topic, messages: [{ value: 'a' }, { value: 'b' }] }));
    const deleteRecords = () => native.admin().deleteRecords({ topic, partitions: [{ partition: 0, offset: 1 }] });
    expect(await nativeError(deleteRecords)).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(ctx().logs.getPartition(topic, 0).logStartOffset).toBe(0);
    await withAcls([grant('Delete', 'Topic', topic)], deleteRecords);
    expect(ctx().logs.getPartition(topic, 0).logStartOffset).toBe(1);

    expect(await nativeError(() => native.admin().describeClientQuotas())).toBe('CLUSTER_AUTHORIZATION_FAILED');
    expect(await nativeError(() => native.admin().alterClientQuotas([{ clientId: 'x', producerByteRate: 10 }]))).toBe('CLUSTER_AUTHORIZATION_FAILED');
    expect(ctx().security.listQuotas()).toEqual([]);
    await withAcls([grant('AlterConfigs', 'Cluster', 'kafka-cluster')], async () => {
      await native.admin().alterClientQuotas([{ clientId: 'x', producerByteRate: 10 }]);
      expect(await native.admin().describeClientQuotas()).toEqual([{ clientId: 'x', producerByteRate: 10 }]);
      await native.admin().alterClientQuotas([{ clientId: 'x', producerByteRate: null }]);
    });
  });
});

describe('authorizer acl without authentication (every connection is User:ANONYMOUS)', () => {
  it('answers Kafka DescribeGroups and FindCoordinator GROUP_AUTHORIZATION_FAILED without Describe on the group', async () => {
    const dir = tempDir();
    const plain = await startBroker({ dataDir: dir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, kafkaListener: { host: '127.0.0.1', port: 0 }, authorizer: 'acl' });
    try {
      const groupId = randomTopic('group');
      const wire = await KafkaWire.connect(`127.0.0.1:${plain.kafka!.port}`);
      const describe = async (): Promise<number> => (await wire.request(ApiKeys.DescribeGroups, 0, { groups: [groupId] })).groups[0]!.errorCode;
      const find = async (): Promise<number> => (await wire.request(ApiKeys.FindCoordinator, 1, { key: groupId, keyType: 0 })).errorCode ?? -1;
      expect(await describe()).toBe(KafkaErrors.GROUP_AUTHORIZATION_FAILED);
      expect(await find()).toBe(KafkaErrors.GROUP_AUTHORIZATION_FAILED);
      plain.context.security.createAcls([{ ...grant('Describe', 'Group', groupId), principal: 'User:ANONYMOUS' }]);
      expect(await describe()).toBe(KafkaErrors.NONE);
      expect(await find()).toBe(KafkaErrors.NONE);
      await wire.close();
    } finally {
      await plain.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers native FindCoordinator GROUP_AUTHORIZATION_FAILED without Describe on the group, and ReplicaFetch / OffsetForLeaderEpoch CLUSTER_AUTHORIZATION_FAILED (they read past topic ACLs)', async () => {
    const dir = tempDir();
    const plain = await startBroker({ dataDir: dir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, authorizer: 'acl' });
    try {
      const groupId = randomTopic('group');
      const raw = await RawClient.connect(plain.port);
      const code = async (apiKey: number, header: unknown): Promise<unknown> => (await raw.request<{ errorCode?: number }>(apiKey, header)).header.errorCode;
      expect(await code(ApiKey.FindCoordinator, { groupId })).toBe(Errors.GROUP_AUTHORIZATION_FAILED.code);
      expect(await code(ApiKey.ReplicaFetch, { replicaId: 1, maxWaitMs: 0, minBytes: 0, maxBytes: 1024, partitions: [] })).toBe(Errors.CLUSTER_AUTHORIZATION_FAILED.code);
      expect(await code(ApiKey.OffsetForLeaderEpoch, { replicaId: 1, partitions: [] })).toBe(Errors.CLUSTER_AUTHORIZATION_FAILED.code);
      plain.context.security.createAcls([{ ...grant('Describe', 'Group', groupId), principal: 'User:ANONYMOUS' }]);
      expect(await code(ApiKey.FindCoordinator, { groupId })).toBe(Errors.NONE.code);
      raw.socket.destroy();
    } finally {
      await plain.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
