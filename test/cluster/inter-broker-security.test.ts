// Proves that a secured cluster replicates: a real etcd and three real `spool serve --cluster`
// processes (the built CLI: run `npm run build` first) with `--sasl scram-sha-512` and TLS
// on the native listener requiring client certificates (test/helpers/tls-certs.ts; one
// broker certificate with serverAuth and clientAuth for all three, as they share 127.0.0.1),
// each logging in to its peers as `--inter-broker-user broker` with SPOOL_INTER_BROKER_PASSWORD:
// a user that is not a super user, created by the bootstrap admin through the SDK with an ACL
// allowing Alter on the cluster (what ReplicaFetch needs). The SDK (TLS client certificate +
// SCRAM as admin) creates a topic with RF 3 and produces with acks=all; every follower's
// segment files then equal the leader's byte for byte and the ISR holds all three. A share
// group consumes a topic whose partitions other brokers lead: its state crosses brokers and
// its dead letters reach the DLQ's leader with only that Alter ACL. Then a
// follower restarted with a wrong inter-broker password does not replicate (its log stays as
// it was) and logs the authentication error, naming what to check, while the leader keeps
// serving: acks=all produce goes on once the leader has dropped it from the ISR, and a new
// SDK connection logs in there (the follower's paced retries did not get the shared host
// locked out). And `spool serve` refuses, before opening anything, --sasl in cluster mode
// without --inter-broker-user, the user without its password in the environment, and an
// inter-broker mechanism its --sasl does not enable.

import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { SPOOL_MAIN, waitFor } from '../helpers/broker.js';
import { TestCluster, segmentChecksums } from '../helpers/cluster.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.js';

const PASSWORD = 'admin-secret';
const BROKER_PASSWORD = 'broker-secret';
const TOPIC = 'secured';
let certs: TestCerts;
let cluster: TestCluster;
const clients: Client[] = [];

function client(): Client {
  const made = new Client({
    brokers: [...cluster.brokers.values()].map((broker) => broker.address),
    ssl: { ca: certs.read(certs.ca.cert), cert: certs.read(certs.client.cert), key: certs.read(certs.client.key) },
    sasl: { mechanism: 'scram-sha-512', username: 'admin', password: PASSWORD },
    requestTimeoutMs: 20_000,
  });
  clients.push(made);
  return made;
}

async function produce(values: string[]): Promise<void> {
  const producer = client().producer({ acks: 'all', lingerMs: 0 });
  try {
    for (let start = 0; start < values.length; start += 20) {
      await producer.send({ topic: TOPIC, messages: values.slice(start, start + 20).map((value) => ({ value })) });
    }
  } finally {
    await producer.close();
  }
}

beforeAll(async () => {
  certs = makeTestCerts();
  const broker = certs.issuePeer('broker', '127.0.0.1');
  cluster = await TestCluster.start([1, 2, 3], {
    leaseTtlMs: 2_000,
    replicaLagTimeMaxMs: 1_000,
    args: [
      '--sasl', 'scram-sha-512',
      '--super-users', 'User:admin',
      '--inter-broker-user', 'broker',
      '--tls-cert', broker.cert,
      '--tls-key', broker.key,
      '--tls-ca', certs.ca.cert,
      '--tls-client-auth', 'required',
      '--tls-listeners', 'native',
    ],
    env: { SPOOL_BOOTSTRAP_USER: `admin:${PASSWORD}`, SPOOL_INTER_BROKER_PASSWORD: BROKER_PASSWORD },
  });
}, 30_000);

afterAll(async () => {
  await Promise.all(clients.map((made) => made.close()));
  await cluster?.destroy();
  certs?.cleanup();
});

describe('inter-broker TLS and SASL', () => {
  it('a 3-broker cluster with --sasl and TLS on the native listener replicates: acks=all with RF 3, followers byte-equal to the leader', async () => {
    await waitFor(async () => (await Promise.all([1, 2, 3].map((id) => cluster.portOf(id)))).every((port) => port !== null), 10_000, 50);
    // The inter-broker user: not a super user, allowed Alter on the cluster (before any topic, so no follower fails to log in).
    const admin = client().admin();
    await admin.alterUserScramCredentials([{ kind: 'upsert', user: 'broker', mechanism: 'SCRAM-SHA-512', password: BROKER_PASSWORD }]);
    await admin.createAcls([{ principal: 'User:broker', resourceType: 'Cluster', resourceName: 'kafka-cluster', operation: 'Alter' }]);
    // The controller's view may lag the last registration: INVALID_REPLICATION_FACTOR, try again.
    await waitFor(
      async () => {
        try {
          await client().admin().createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }] });
          return true;
        } catch (error) {
          if ((error as { code?: string }).code === 'INVALID_REPLICATION_FACTOR') return false;
          throw error;
        }
      },
      10_000,
      100,
    );
    await waitFor(async () => (await cluster.state(TOPIC, 0))?.isr.length === 3, 10_000, 50);
    await produce(Array.from({ length: 200 }, (_, index) => `v${index}`));

    const state = (await cluster.state(TOPIC, 0))!;
    expect(state.isr.slice().sort()).toEqual([1, 2, 3]);
    const leaderSums = segmentChecksums(cluster.dataDir(state.leader), TOPIC, 0);
    expect(Object.keys(leaderSums).length).toBeGreaterThan(0);
    for (const id of [1, 2, 3].filter((node) => node !== state.leader)) {
      await waitFor(() => JSON.stringify(segmentChecksums(cluster.dataDir(id), TOPIC, 0)) === JSON.stringify(leaderSums), 10_000, 50);
    }
  }, 40_000);

  it('share groups work over the secured cluster: state between brokers and dead letters need only Alter on the cluster', async () => {
    // A topic whose partitions are led by different brokers; the group's share coordinator is
    // one of them, so leaders read and write share state on other brokers (62-65) and send dead
    // letters to the DLQ's leader (66), all as User:broker over TLS + SCRAM.
    await client().admin().createTopics({ topics: [{ topic: 'jobs', numPartitions: 3, replicationFactor: 3 }] });
    await waitFor(async () => (await Promise.all([0, 1, 2].map((partition) => cluster.state('jobs', partition)))).every((state) => state?.isr.length === 3), 10_000, 50);
    const producer = client().producer({ acks: 'all', lingerMs: 0 });
    await producer.send({ topic: 'jobs', messages: Array.from({ length: 90 }, (_, index) => ({ value: `job-${index}`, partition: index % 3 })) });
    await producer.close();
    const accepted = new Set<string>();
    const consumer = client().shareConsumer({ groupId: 'secure-cooks', maxWaitMs: 200 });
    await consumer.subscribe({ topics: ['jobs'] });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = message.value!.toString();
        if (Number(value.slice(4)) % 30 === 7) return message.reject('poison');
        await message.ack();
        accepted.add(value);
      },
    });
    try {
      await waitFor(() => accepted.size === 87, 20_000, 50);
      const [described] = await client().admin().describeShareGroups({ groupIds: ['secure-cooks'] });
      expect(described!.partitions.map((entry) => [entry.partition, entry.startOffset, entry.inFlight])).toEqual([[0, 30, 0], [1, 30, 0], [2, 30, 0]]);
      expect(described!.deadLetters).toBe(3);
    } finally {
      await consumer.close();
    }
  }, 40_000);

  it('a follower with a wrong inter-broker password does not replicate and says why; the leader keeps serving', async () => {
    const state = (await cluster.state(TOPIC, 0))!;
    const follower = [1, 2, 3].find((id) => id !== state.leader)!;
    const leader = cluster.brokers.get(state.leader)!;
    await cluster.brokers.get(follower)!.stop();
    const before = segmentChecksums(cluster.dataDir(follower), TOPIC, 0);
    const restarted = await cluster.serve(follower, { SPOOL_INTER_BROKER_PASSWORD: 'wrong' });

    await waitFor(() => /inter-broker login to leader 127\.0\.0\.1:\d+ as User:broker with SCRAM-SHA-512 failed/.test(restarted.stderr()), 15_000, 50);
    expect(restarted.stderr()).toContain('SPOOL_INTER_BROKER_PASSWORD');
    expect(leader.stderr()).toMatch(/authentication failed for User:broker with SCRAM-SHA-512/);

    // The leader drops the silent follower from the ISR (1 s lag) and acks=all goes on with two.
    await produce(Array.from({ length: 40 }, (_, index) => `w${index}`));
    await waitFor(async () => !(await cluster.state(TOPIC, 0))!.isr.includes(follower), 10_000, 50);
    const leaderSums = segmentChecksums(cluster.dataDir(state.leader), TOPIC, 0);
    expect(leaderSums).not.toEqual(before);
    expect(segmentChecksums(cluster.dataDir(follower), TOPIC, 0)).toEqual(before);
    // A new connection from the same host still logs in at the leader: no lockout.
    const fresh = new Client({
      brokers: [leader.address],
      ssl: { ca: certs.read(certs.ca.cert), cert: certs.read(certs.client.cert), key: certs.read(certs.client.key) },
      sasl: { mechanism: 'scram-sha-512', username: 'admin', password: PASSWORD },
      retry: { retries: 0 },
    });
    clients.push(fresh);
    expect(await fresh.admin().listTopics()).toContain(TOPIC);
    // Fewer failed logins at the leader than its lockout needs (10 within 60 s).
    expect(leader.stderr().match(/authentication failed for User:broker/g)!.length).toBeLessThan(10);
  }, 40_000);

  it('refuses to start: --sasl in cluster mode without --inter-broker-user, no password in the environment, a mechanism --sasl does not enable', () => {
    const cases = [
      { args: ['--sasl', 'scram-sha-512'], password: 'x', message: /--sasl in cluster mode needs --inter-broker-user <name> and its password in env SPOOL_INTER_BROKER_PASSWORD/ },
      { args: ['--sasl', 'scram-sha-512', '--inter-broker-user', 'admin'], password: undefined, message: /--inter-broker-user admin needs its password in env SPOOL_INTER_BROKER_PASSWORD/ },
      { args: ['--sasl', 'scram-sha-256', '--inter-broker-user', 'admin'], password: 'x', message: /--inter-broker-mechanism scram-sha-512 is not one of --sasl scram-sha-256/ },
      { args: ['--inter-broker-user', 'admin'], password: 'x', message: /need --sasl/ },
    ];
    for (const { args, password, message } of cases) {
      const env: NodeJS.ProcessEnv = { ...process.env };
      delete env['SPOOL_INTER_BROKER_PASSWORD'];
      if (password !== undefined) env['SPOOL_INTER_BROKER_PASSWORD'] = password;
      const result = spawnSync(process.execPath, [SPOOL_MAIN, 'serve', '--data-dir', '/nonexistent/spool-never-created', '--http', 'off', '--cluster', cluster.etcd.url, '--node-id', '9', ...args], { encoding: 'utf8', env });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(message);
    }
  });
});
