// Proves the Kafka ACL and quota APIs on the Kafka wire (raw frames, no client library):
// CreateAcls v3 stores a prefixed deny and a literal allow with Kafka's numeric enums,
// DescribeAcls (v1 and flexible v3) answers them grouped by resource, DeleteAcls v2 removes
// what its filter matches (ANY/MATCH fields match anything); AlterClientQuotas v1 sets and
// removes byte rates that DescribeClientQuotas v1 reads back (exact and any filters), and
// unserved entity types and default entities are refused per entry. Broker in this
// process without authorisation (so anyone may manage them).

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, type Broker } from '../../src/broker/index.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { tempDir } from '../helpers/broker.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';

let broker: Broker;
let dataDir: string;
let wire: KafkaWire;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, kafkaListener: { host: '127.0.0.1', port: 0 } });
  wire = await KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
});

afterAll(async () => {
  await wire?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

// Kafka's enums: resource TOPIC 2, GROUP 3; pattern ANY 1, MATCH 2, LITERAL 3, PREFIXED 4;
// operation ANY 1, READ 3, WRITE 4; permission ANY 1, DENY 2, ALLOW 3.
const anyFilter = { resourceTypeFilter: 1, resourceNameFilter: null, patternTypeFilter: 1, principalFilter: null, hostFilter: null, operation: 1, permissionType: 1 };

describe('Kafka ACL APIs', () => {
  it('creates, describes and deletes ACLs with Kafka enums', async () => {
    const created = await wire.request(ApiKeys.CreateAcls, 3, {
      creations: [
        { resourceType: 2, resourceName: 'orders', resourcePatternType: 3, principal: 'User:alice', host: '*', operation: 4, permissionType: 3 },
        { resourceType: 2, resourceName: 'secret.', resourcePatternType: 4, principal: 'User:*', host: '10.0.0.7', operation: 3, permissionType: 2 },
        { resourceType: 9, resourceName: 'x', resourcePatternType: 3, principal: 'User:bob', host: '*', operation: 3, permissionType: 3 },
      ],
    });
    expect(created.results.map((result) => result.errorCode)).toEqual([KafkaErrors.NONE, KafkaErrors.NONE, KafkaErrors.INVALID_REQUEST]);
    expect(broker.context.security.describeAcls({ principal: null, host: null, resourceType: null, resourceName: null, patternType: null, operation: null, permission: null })).toHaveLength(2);

    for (const version of [1, 3]) {
      const described = await wire.request(ApiKeys.DescribeAcls, version, anyFilter);
      expect(described.errorCode).toBe(KafkaErrors.NONE);
      const byName = new Map(described.resources.map((resource) => [resource.resourceName, resource]));
      expect(byName.get('orders')).toMatchObject({ resourceType: 2, patternType: 3, acls: [{ principal: 'User:alice', host: '*', operation: 4, permissionType: 3 }] });
      expect(byName.get('secret.')).toMatchObject({ resourceType: 2, patternType: 4, acls: [{ principal: 'User:*', host: '10.0.0.7', operation: 3, permissionType: 2 }] });
    }
    const onlyAlice = await wire.request(ApiKeys.DescribeAcls, 3, { ...anyFilter, principalFilter: 'User:alice', patternTypeFilter: 2 });
    expect(onlyAlice.resources.map((resource) => resource.resourceName)).toEqual(['orders']);

    const deleted = await wire.request(ApiKeys.DeleteAcls, 2, { filters: [{ ...anyFilter, permissionType: 2 }] });
    expect(deleted.filterResults[0]!.matchingAcls).toEqual([
      expect.objectContaining({ resourceName: 'secret.', patternType: 4, principal: 'User:*', permissionType: 2, errorCode: KafkaErrors.NONE }),
    ]);
    expect((await wire.request(ApiKeys.DescribeAcls, 3, anyFilter)).resources.map((resource) => resource.resourceName)).toEqual(['orders']);
  });
});

describe('Kafka client-quota APIs', () => {
  it('sets, describes and removes byte rates per user and client id', async () => {
    const altered = await wire.request(ApiKeys.AlterClientQuotas, 1, {
      validateOnly: false,
      entries: [
        { entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 1048576, remove: false }] },
        { entity: [{ entityType: 'client-id', entityName: 'batch' }], ops: [{ key: 'consumer_byte_rate', value: 5000, remove: false }] },
        { entity: [{ entityType: 'user', entityName: null }], ops: [{ key: 'producer_byte_rate', value: 1, remove: false }] },
        { entity: [{ entityType: 'ip', entityName: '10.0.0.1' }], ops: [{ key: 'connection_creation_rate', value: 1, remove: false }] },
      ],
    });
    expect(altered.entries.map((entry) => entry.errorCode)).toEqual([KafkaErrors.NONE, KafkaErrors.NONE, KafkaErrors.INVALID_REQUEST, KafkaErrors.INVALID_REQUEST]);
    expect(broker.context.security.quotas.quotaFor('User:alice', 'any', 'producer_byte_rate')?.bytesPerSecond).toBe(1048576);

    const all = await wire.request(ApiKeys.DescribeClientQuotas, 1, { components: [], strict: false });
    expect(all.entries).toEqual(
      expect.arrayContaining([
        { entity: [{ entityType: 'user', entityName: 'alice' }], values: [{ key: 'producer_byte_rate', value: 1048576 }] },
        { entity: [{ entityType: 'client-id', entityName: 'batch' }], values: [{ key: 'consumer_byte_rate', value: 5000 }] },
      ]),
    );
    const alice = await wire.request(ApiKeys.DescribeClientQuotas, 1, { components: [{ entityType: 'user', matchType: 0, match: 'alice' }], strict: true });
    expect(alice.entries).toHaveLength(1);

    await wire.request(ApiKeys.AlterClientQuotas, 1, {
      validateOnly: false,
      entries: [{ entity: [{ entityType: 'user', entityName: 'alice' }], ops: [{ key: 'producer_byte_rate', value: 0, remove: true }] }],
    });
    expect(broker.context.security.quotas.quotaFor('User:alice', 'any', 'producer_byte_rate')).toBeNull();
  });
});
