// Proves that in cluster mode the SCRAM users and the ACLs live in etcd, shared by every
// broker: a real etcd and two real `spool serve --cluster` processes (the built CLI, run
// `npm run build` first) with `--sasl scram-sha-256 --super-users User:admin` and
// SPOOL_BOOTSTRAP_USER=admin:...; the SDK talks to each broker alone. A user created
// through broker 1 logs in on broker 2; an ACL added through broker 2 is enforced on
// broker 1 (before it, the user is denied there); a user deleted through broker 1 can no
// longer log in on broker 2. Both documents are in etcd under <root>/security/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, isSpoolError } from '../../src/client/index.js';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { KeyLayout } from '../../src/cluster/layout.js';
import { randomTopic, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

const ADMIN = { mechanism: 'scram-sha-256' as const, username: 'admin', password: 'admin-secret' };
const BOB = { mechanism: 'scram-sha-256' as const, username: 'bob', password: 'bob-secret' };
const layout = new KeyLayout('/spool');
let etcd: TestEtcd;
let store: EtcdStore;
const brokers: BrokerProcess[] = [];
const clients: Client[] = [];

function client(broker: BrokerProcess, sasl: typeof ADMIN): Client {
  const made = new Client({ brokers: [broker.address], retry: { retries: 0 }, sasl });
  clients.push(made);
  return made;
}

async function failureCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isSpoolError(error)) return error.code;
    throw error;
  }
  return 'none';
}

beforeAll(async () => {
  etcd = await startEtcd();
  store = new EtcdStore({ endpoints: [etcd.endpoint] });
  for (const nodeId of [1, 2]) {
    brokers.push(
      await startBroker({
        args: ['--cluster', etcd.url, '--node-id', String(nodeId), '--cluster-lease-ttl-ms', '2000', '--http', 'off', '--sasl', 'scram-sha-256', '--super-users', 'User:admin', '--inter-broker-user', 'admin', '--inter-broker-mechanism', 'scram-sha-256'],
        env: { SPOOL_BOOTSTRAP_USER: `admin:${ADMIN.password}`, SPOOL_INTER_BROKER_PASSWORD: ADMIN.password },
      }),
    );
  }
  // Changes go through etcd once a broker has attached its security documents (after it listens).
  await waitFor(() => brokers.every((broker) => /shared through etcd/.test(broker.stderr())), 15_000, 50);
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((made) => made.close()));
  await Promise.all(brokers.map((broker) => broker.kill()));
  for (const broker of brokers) broker.cleanup();
  store.close();
  await etcd?.destroy();
});

describe('credentials and ACLs in etcd (cluster mode)', () => {
  it('a user made on broker 1 logs in on broker 2; an ACL added on broker 2 holds on broker 1; a user deleted on broker 1 is refused on broker 2', async () => {
    const [one, two] = brokers as [BrokerProcess, BrokerProcess];
    // The bootstrap admin works on both (seeded by the first broker, the same credential on the second).
    await client(two, ADMIN).admin().listTopics();
    await client(one, ADMIN).admin().alterUserScramCredentials([{ kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: BOB.password }]);
    await waitFor(async () => (await failureCode(client(two, BOB).admin().listTopics())) === 'none', 10_000, 50);

    // Without an ACL bob may not see a topic on broker 1; an ACL added through broker 2 lets him.
    const topic = randomTopic();
    await client(one, ADMIN).admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 2 }] });
    const describeOnOne = async (): Promise<string> => failureCode(client(one, BOB).admin().describeTopics({ topics: [topic] }));
    expect(await describeOnOne()).toBe('TOPIC_AUTHORIZATION_FAILED');
    await client(two, ADMIN).admin().createAcls([{ principal: 'User:bob', resourceType: 'Topic', resourceName: topic, operation: 'Describe' }]);
    await waitFor(async () => (await describeOnOne()) === 'none', 10_000, 50);

    await client(one, ADMIN).admin().alterUserScramCredentials([{ kind: 'delete', user: 'bob', mechanism: 'SCRAM-SHA-256' }]);
    await waitFor(async () => (await failureCode(client(two, BOB).admin().listTopics())) === 'SASL_AUTHENTICATION_FAILED', 10_000, 50);

    // Both documents are the files' JSON in etcd.
    const credentials = JSON.parse((await store.get(layout.scramCredentials))!.value.toString()) as { users: Record<string, unknown> };
    expect(Object.keys(credentials.users)).toEqual(['admin']);
    const acls = JSON.parse((await store.get(layout.acls))!.value.toString()) as { acls: Array<{ principal: string }> };
    expect(acls.acls.map((binding) => binding.principal)).toEqual(['User:bob']);
  }, 30_000);
});
