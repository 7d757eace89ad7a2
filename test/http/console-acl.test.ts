// Proves the admin HTTP port is no way around authentication and ACLs. A broker runs in this
// process with SASL (SCRAM) on, so ACLs are on, User:admin as super user, and its admin port
// over HTTPS (test certificates from openssl); requests are plain node:https calls.
// - Authentication: /healthz, /readyz and /metrics answer without credentials; every other
//   route (the console page, the API, an unknown path) answers 401 with
//   `WWW-Authenticate: Basic realm="spool"` without credentials, with a wrong password and with
//   an unknown user (the same message), and 200 with a SCRAM user's password (either
//   mechanism's credential, `basic` in any case); a host that keeps failing is locked out (the
//   SASL path's lockout: then even the right password gets 401); on a plain HTTP port with SASL
//   on, every route but those three is 403 (Basic would send the password in clear).
// - Authorisation, as test/security/acl-matrix.test.ts does it for the native and Kafka fronts:
//   for each console API route, User:bob (authenticated, no ACLs) gets 403 with the named
//   *_AUTHORIZATION_FAILED error and nothing changes (the topic, its partitions, configs, log
//   end and the group's offsets are read back through the broker), or for a listing an empty
//   list; with exactly the ACLs the route needs (granted through the broker's security store)
//   he gets 200 and the change is made. A topic he may not Describe answers 403 whether it
//   exists or not.
// - Without SASL nothing is asked (a plain HTTP port, no credentials, every route as before);
//   with ACLs on and no SASL the console runs as the HTTPS client certificate's principal
//   (mTLS), or as User:ANONYMOUS on a plain port, under the ACLs.
// - `--metrics-auth basic` (AdminHttpOptions.metricsAuthentication): /metrics then needs the
//   login and Describe on the cluster (403 CLUSTER_AUTHORIZATION_FAILED without it).

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BrokerMetrics, silentLogger, startBroker, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { alterUserScramCredentials } from '../../src/client/admin-users.js';
import { serveWithHttp, type ServedBroker } from '../../src/http/index.js';
import { TlsContext } from '../../src/broker/index.js';
import type { AclBinding } from '../../src/security/acl.js';
import { randomTopic, SPOOL_MAIN, tempDir } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/tls-certs.js';

const certs = makeTestCerts();
const ca = readFileSync(certs.ca.cert);
const BOB = 'User:bob';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function basic(user: string, password: string, scheme = 'Basic'): string {
  return `${scheme} ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** One HTTPS request to the admin port; a JSON body is parsed, anything else kept as text. */
function call(served: ServedBroker, method: string, path: string, options: { authorization?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  // Only POST carries a body (node sends a DELETE's without a length); every change is JSON.
  const payload = method === 'POST' ? JSON.stringify(options.body ?? {}) : undefined;
  if (method !== 'GET') headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port: served.http!.port, method, path, headers, ca }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = (response.headers['content-type'] ?? '').startsWith('application/json');
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: json ? JSON.parse(text) : text });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

async function serveSasl(dataDir: string, sasl: NonNullable<BrokerOptions['sasl']>, metricsAuthentication = false): Promise<ServedBroker> {
  return serveWithHttp({
    http: { host: '127.0.0.1', port: 0, metricsAuthentication },
    metrics: new BrokerMetrics(),
    logger: silentLogger,
    tls: TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key }),
    open: (metrics) =>
      startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, metrics, sasl, bootstrapUser: { name: 'admin', password: 'admin-secret' }, superUsers: ['User:admin'] }),
  });
}

afterAll(() => certs.cleanup());

describe('admin HTTPS port with SASL on', () => {
  const dataDir = tempDir();
  let served: ServedBroker;
  let broker: Broker;
  let admin: Client;
  const asBob = { authorization: basic('bob', 'bob-secret') };
  const asAdmin = { authorization: basic('admin', 'admin-secret') };

  beforeAll(async () => {
    served = await serveSasl(dataDir, { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 1000 });
    broker = served.broker;
    admin = new Client({ brokers: [`127.0.0.1:${broker.port}`], retry: { retries: 0 }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' } });
    await alterUserScramCredentials(admin, [
      { kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret' },
      { kind: 'upsert', user: 'carol', mechanism: 'SCRAM-SHA-512', password: 'carol-secret' },
    ]);
  });

  afterAll(async () => {
    await admin?.close();
    await served?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves /healthz, /readyz and /metrics open and asks HTTP Basic everywhere else', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) expect((await call(served, 'GET', path)).status, path).toBe(200);
    for (const path of ['/', '/index.html', '/app.js', '/api/overview', '/api/topics', '/no-such-page']) {
      const answer = await call(served, 'GET', path);
      expect(answer.status, path).toBe(401);
      expect(answer.headers['www-authenticate']).toBe('Basic realm="spool", charset="UTF-8"');
      expect(answer.body.error.name).toBe('SASL_AUTHENTICATION_FAILED');
    }
    const change = await call(served, 'DELETE', `/api/topics/${randomTopic()}`);
    expect(change.status).toBe(401);
  });

  it('refuses a wrong password and an unknown user alike, and takes the right one of either mechanism', async () => {
    const wrong = await call(served, 'GET', '/api/topics', { authorization: basic('bob', 'nope') });
    const unknown = await call(served, 'GET', '/api/topics', { authorization: basic('nobody', 'nope') });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body.error.message).toBe('invalid user name or password');
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
    expect(wrong.headers['www-authenticate']).toMatch(/^Basic realm="spool"/);
    expect((await call(served, 'GET', '/api/topics', { authorization: 'Basic !!!' })).status).toBe(401);
    expect((await call(served, 'GET', '/api/topics', { authorization: basic('bob', '') })).status).toBe(401);
    expect((await call(served, 'GET', '/api/topics', asBob)).status).toBe(200);
    expect((await call(served, 'GET', '/api/topics', { authorization: basic('bob', 'bob-secret', 'basic') })).status).toBe(200);
    expect((await call(served, 'GET', '/api/topics', { authorization: basic('carol', 'carol-secret') })).status).toBe(200);
    const page = await call(served, 'GET', '/', asBob);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<html');
  });

  function grant(operation: AclBinding['operation'], resourceType: AclBinding['resourceType'], resourceName: string): AclBinding {
    return { principal: BOB, host: '*', resourceType, resourceName, patternType: 'literal', operation, permission: 'allow' };
  }

  async function withAcls<T>(acls: AclBinding[], run: () => Promise<T>): Promise<T> {
    const security = broker.context.security;
    expect(security.createAcls(acls).every((error) => error === null)).toBe(true);
    try {
      return await run();
    } finally {
      security.deleteAcls(acls.map((acl) => ({ ...acl })));
    }
  }

  async function topicWithMessages(prefix: string, partitions = 1, messages = 3): Promise<string> {
    const topic = randomTopic(prefix);
    await admin.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
    const producer = admin.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: Array.from({ length: messages }, (_, i) => ({ partition: 0, value: `m${i}` })) });
    await producer.close();
    return topic;
  }

  const logEnd = (topic: string): number => broker.context.logs.getPartition(topic, 0).logEndOffset;

  /** bob without ACLs: 403 with `errorName`; `unchanged` still holds. Then with `acls`: `okStatus`. */
  async function expectMatrix(row: { method: string; path: string; body?: unknown; acls: AclBinding[]; errorName: string; okStatus?: number; unchanged?: () => void; changed?: () => void }): Promise<Answer> {
    const denied = await call(served, row.method, row.path, { ...asBob, body: row.body });
    expect([denied.status, denied.body.error?.name], `${row.method} ${row.path} without ACLs`).toEqual([403, row.errorName]);
    expect(denied.body.error.message).toContain('User:bob may not');
    row.unchanged?.();
    // One ACL short of the set is still refused.
    for (const left of row.acls) {
      const partial = await withAcls(
        row.acls.filter((acl) => acl !== left),
        () => call(served, row.method, row.path, { ...asBob, body: row.body }),
      );
      expect(partial.status, `${row.method} ${row.path} without ${left.operation} on ${left.resourceType}`).toBe(403);
      row.unchanged?.();
    }
    const allowed = await withAcls(row.acls, () => call(served, row.method, row.path, { ...asBob, body: row.body }));
    expect(allowed.status, `${row.method} ${row.path} with ACLs: ${JSON.stringify(allowed.body)}`).toBe(row.okStatus ?? 200);
    row.changed?.();
    return allowed;
  }

  it('topic reads: detail needs Describe (configs DescribeConfigs), messages Read, offsets Describe', async () => {
    const topic = await topicWithMessages('acl-read', 2);
    await expectMatrix({ method: 'GET', path: `/api/topics/${topic}`, acls: [grant('Describe', 'Topic', topic)], errorName: 'TOPIC_AUTHORIZATION_FAILED' }).then((answer) => {
      expect(answer.body.partitions).toHaveLength(2);
      expect([answer.body.configAuthorized, answer.body.config]).toEqual([false, {}]);
    });
    const withConfigs = await withAcls([grant('Describe', 'Topic', topic), grant('DescribeConfigs', 'Topic', topic)], () => call(served, 'GET', `/api/topics/${topic}`, asBob));
    expect(withConfigs.body.configAuthorized).toBe(true);
    expect(withConfigs.body.config['retention.ms']).toBeDefined();
    const page = await expectMatrix({ method: 'GET', path: `/api/topics/${topic}/messages?partition=0`, acls: [grant('Read', 'Topic', topic)], errorName: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(page.body.records.map((record: any) => record.value.text)).toEqual(['m2', 'm1', 'm0']);
    const offsets = await expectMatrix({ method: 'GET', path: `/api/topics/${topic}/offsets?partition=0&timestamp=-1`, acls: [grant('Describe', 'Topic', topic)], errorName: 'TOPIC_AUTHORIZATION_FAILED' });
    expect(offsets.body.offset).toBe(3);
    // Existence is not told: an unknown topic is 403 too without Describe, and 404 with it.
    const ghost = randomTopic('ghost');
    expect((await call(served, 'GET', `/api/topics/${ghost}`, asBob)).status).toBe(403);
    expect((await call(served, 'GET', `/api/topics/${ghost}/messages`, asBob)).status).toBe(403);
    expect((await withAcls([grant('Describe', 'Topic', ghost)], () => call(served, 'GET', `/api/topics/${ghost}`, asBob))).status).toBe(404);
  });

  it('topic changes: create needs Create, delete Delete, partitions Alter, configs AlterConfigs, produce Write', async () => {
    const created = randomTopic('acl-create');
    await expectMatrix({
      method: 'POST',
      path: '/api/topics',
      body: { name: created, partitions: 1 },
      acls: [grant('Create', 'Topic', created)],
      errorName: 'TOPIC_AUTHORIZATION_FAILED',
      okStatus: 201,
      unchanged: () => expect(broker.context.logs.getTopic(created)).toBeUndefined(),
      changed: () => expect(broker.context.logs.getTopic(created)?.partitions).toBe(1),
    });
    // Create on the cluster allows any topic (Kafka).
    const another = randomTopic('acl-create');
    expect((await withAcls([grant('Create', 'Cluster', 'kafka-cluster')], () => call(served, 'POST', '/api/topics', { ...asBob, body: { name: another, partitions: 1 } }))).status).toBe(201);

    const doomed = await topicWithMessages('acl-delete');
    await expectMatrix({
      method: 'DELETE',
      path: `/api/topics/${doomed}`,
      acls: [grant('Delete', 'Topic', doomed)],
      errorName: 'TOPIC_AUTHORIZATION_FAILED',
      unchanged: () => expect(logEnd(doomed)).toBe(3),
      changed: () => expect(broker.context.logs.getTopic(doomed)).toBeUndefined(),
    });

    const grown = await topicWithMessages('acl-partitions');
    await expectMatrix({
      method: 'POST',
      path: `/api/topics/${grown}/partitions`,
      body: { count: 3 },
      acls: [grant('Alter', 'Topic', grown)],
      errorName: 'TOPIC_AUTHORIZATION_FAILED',
      unchanged: () => expect(broker.context.logs.getTopic(grown)?.partitions).toBe(1),
      changed: () => expect(broker.context.logs.getTopic(grown)?.partitions).toBe(3),
    });

    const configured = await topicWithMessages('acl-config');
    const retention = (): unknown => broker.context.logs.getTopic(configured)?.config.retentionMs;
    const before = retention();
    const altered = await expectMatrix({
      method: 'POST',
      path: `/api/topics/${configured}/config`,
      body: { config: { 'retention.ms': 123456 } },
      acls: [grant('AlterConfigs', 'Topic', configured)],
      errorName: 'TOPIC_AUTHORIZATION_FAILED',
      unchanged: () => expect(retention()).toBe(before),
      changed: () => expect(retention()).toBe(123456),
    });
    expect(altered.body.config['retention.ms']).toBe(123456);

    const written = await topicWithMessages('acl-produce');
    await expectMatrix({
      method: 'POST',
      path: `/api/topics/${written}/messages`,
      body: { partition: 0, key: 'k', value: 'v' },
      acls: [grant('Write', 'Topic', written)],
      errorName: 'TOPIC_AUTHORIZATION_FAILED',
      unchanged: () => expect(logEnd(written)).toBe(3),
      changed: () => expect(logEnd(written)).toBe(4),
    });
  });

  it('groups: describe needs Describe on the group (offsets Describe on the topic), reset Read on the group and the topic', async () => {
    const topic = await topicWithMessages('acl-group', 1, 10);
    const groupId = randomTopic('acl-g');
    await admin.admin().resetOffsets({ groupId, topic, to: { offset: 4 } });
    const committed = async (): Promise<number | undefined> => (await admin.admin().fetchOffsets({ groupId }))[0]?.offset;
    expect(await committed()).toBe(4);

    const described = await expectMatrix({ method: 'GET', path: `/api/groups/${groupId}`, acls: [grant('Describe', 'Group', groupId)], errorName: 'GROUP_AUTHORIZATION_FAILED' });
    expect(described.body.offsets).toEqual([]);
    const withTopic = await withAcls([grant('Describe', 'Group', groupId), grant('Describe', 'Topic', topic)], () => call(served, 'GET', `/api/groups/${groupId}`, asBob));
    expect(withTopic.body.offsets.map((entry: any) => [entry.topic, entry.committed])).toEqual([[topic, 4]]);

    const reset = { topic, to: { kind: 'latest' } };
    const bobReset = (): Promise<Answer> => call(served, 'POST', `/api/groups/${groupId}/reset`, { ...asBob, body: reset });
    expect((await withAcls([grant('Read', 'Group', groupId)], bobReset)).body.error.name).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect((await withAcls([grant('Read', 'Topic', topic)], bobReset)).body.error.name).toBe('GROUP_AUTHORIZATION_FAILED');
    expect(await committed()).toBe(4);
    const answer = await withAcls([grant('Read', 'Group', groupId), grant('Read', 'Topic', topic)], bobReset);
    expect([answer.status, answer.body.partitions]).toEqual([200, [{ partition: 0, offset: 10 }]]);
    expect(await committed()).toBe(10);
    // A dry run needs the same ACLs (it is a reset that writes nothing).
    expect((await call(served, 'POST', `/api/groups/${groupId}/reset`, { ...asBob, body: { ...reset, dryRun: true } })).status).toBe(403);
    expect((await call(served, 'GET', `/api/groups/${randomTopic('no-group')}`, asBob)).status).toBe(403);
  });

  it('share groups: describe needs Describe on the group', async () => {
    const topic = await topicWithMessages('acl-share');
    const groupId = randomTopic('acl-sg');
    const consumer = admin.shareConsumer({ groupId, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic] });
    for await (const message of consumer) {
      await message.ack();
      break;
    }
    try {
      const detail = await expectMatrix({ method: 'GET', path: `/api/share-groups/${groupId}`, acls: [grant('Describe', 'Group', groupId)], errorName: 'GROUP_AUTHORIZATION_FAILED' });
      expect([detail.body.groupId, detail.body.partitions]).toEqual([groupId, []]);
      const listed = await withAcls([grant('Describe', 'Group', groupId)], () => call(served, 'GET', '/api/share-groups', asBob));
      expect(listed.body.groups.map((group: any) => group.groupId)).toEqual([groupId]);
      expect((await call(served, 'GET', '/api/share-groups', asBob)).body.groups).toEqual([]);
    } finally {
      await consumer.close();
    }
  });

  it('listings and the overview show only what bob may Describe; admin (super user) sees everything', async () => {
    const topic = await topicWithMessages('acl-list');
    const groupId = randomTopic('acl-lg');
    await admin.admin().resetOffsets({ groupId, topic, to: { offset: 1 } });
    const names = (answer: Answer, key: string, field: string): string[] => answer.body[key].map((entry: any) => entry[field]);
    expect((await call(served, 'GET', '/api/topics', asBob)).body.topics).toEqual([]);
    expect((await call(served, 'GET', '/api/groups', asBob)).body.groups).toEqual([]);
    const bare = await call(served, 'GET', '/api/overview', asBob);
    expect([bare.status, bare.body.topics, bare.body.groups, bare.body.messages]).toEqual([200, 0, 0, 0]);
    await withAcls([grant('Describe', 'Topic', topic), grant('Describe', 'Group', groupId)], async () => {
      expect(names(await call(served, 'GET', '/api/topics', asBob), 'topics', 'name')).toEqual([topic]);
      expect(names(await call(served, 'GET', '/api/groups', asBob), 'groups', 'groupId')).toEqual([groupId]);
      const overview = await call(served, 'GET', '/api/overview', asBob);
      expect([overview.body.topics, overview.body.groups, overview.body.messages]).toEqual([1, 1, 3]);
    });
    const all = names(await call(served, 'GET', '/api/topics', asAdmin), 'topics', 'name');
    expect(all).toContain(topic);
    expect(all.length).toBeGreaterThan(1);
  });
});

describe('admin HTTPS port with --metrics-auth basic', () => {
  it('/metrics needs a login and Describe on the cluster; --print-config keeps the flag', async () => {
    const dataDir = tempDir();
    const served = await serveSasl(dataDir, { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 1000 }, true);
    try {
      const admin = new Client({ brokers: [`127.0.0.1:${served.broker.port}`], retry: { retries: 0 }, sasl: { mechanism: 'SCRAM-SHA-256', username: 'admin', password: 'admin-secret' } });
      await alterUserScramCredentials(admin, [{ kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret' }]).finally(() => admin.close());
      const bob = { authorization: basic('bob', 'bob-secret') };
      expect((await call(served, 'GET', '/metrics')).status).toBe(401);
      const denied = await call(served, 'GET', '/metrics', bob);
      expect([denied.status, denied.body.error.name]).toEqual([403, 'CLUSTER_AUTHORIZATION_FAILED']);
      const describeCluster: AclBinding = { principal: BOB, host: '*', resourceType: 'Cluster', resourceName: 'kafka-cluster', patternType: 'literal', operation: 'Describe', permission: 'allow' };
      expect(served.broker.context.security.createAcls([describeCluster])).toEqual([null]);
      const scraped = await call(served, 'GET', '/metrics', bob);
      expect(scraped.status).toBe(200);
      expect(scraped.body).toContain('spool_');
      expect((await call(served, 'GET', '/metrics', { authorization: basic('admin', 'admin-secret') })).status).toBe(200);
      expect((await call(served, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    const printed = execFileSync(process.execPath, [SPOOL_MAIN, 'serve', '--metrics-auth', 'basic', '--print-config'], { encoding: 'utf8' });
    expect((JSON.parse(printed) as Record<string, unknown>)['metricsAuth']).toBe('basic');
  });
});

describe('admin plain HTTP port with SASL on', () => {
  it('refuses every route but health, readiness and metrics, even with the right password (Basic would send it in clear)', async () => {
    const dataDir = tempDir();
    const served = await serveWithHttp({
      http: { host: '127.0.0.1', port: 0 },
      metrics: new BrokerMetrics(),
      logger: silentLogger,
      open: (metrics) => startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, metrics, sasl: { mechanisms: ['SCRAM-SHA-256'] }, bootstrapUser: { name: 'admin', password: 'admin-secret' } }),
    });
    try {
      const status = async (path: string, headers: Record<string, string> = {}): Promise<number> => (await fetch(`http://127.0.0.1:${served.http!.port}${path}`, { headers })).status;
      for (const path of ['/healthz', '/readyz', '/metrics']) expect(await status(path), path).toBe(200);
      for (const path of ['/', '/api/topics']) expect(await status(path, { authorization: basic('admin', 'admin-secret') }), path).toBe(403);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('admin HTTPS port: failed logins lock the host out', () => {
  it('after maxFailuresPerHost wrong passwords even the right one is refused (the SASL lockout)', async () => {
    const dataDir = tempDir();
    const served = await serveSasl(dataDir, { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 3, lockoutMs: 60_000 });
    try {
      for (let i = 0; i < 3; i++) expect((await call(served, 'GET', '/api/topics', { authorization: basic('admin', `guess-${i}`) })).status).toBe(401);
      const locked = await call(served, 'GET', '/api/topics', { authorization: basic('admin', 'admin-secret') });
      expect(locked.status).toBe(401);
      expect(locked.body.error.message).toMatch(/too many failed authentications from 127\.0\.0\.1/);
      expect((await call(served, 'GET', '/healthz')).status).toBe(200);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('admin HTTPS port with client certificates (mTLS) and ACLs, no SASL', () => {
  it("runs the console API as the certificate's principal", async () => {
    const dataDir = tempDir();
    const served = await serveWithHttp({
      http: { host: '127.0.0.1', port: 0 },
      metrics: new BrokerMetrics(),
      logger: silentLogger,
      tls: TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca.cert, clientAuth: 'required' }),
      open: (metrics) => startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, metrics, authorizer: 'acl' }),
    });
    const get = (path: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const options = { host: '127.0.0.1', port: served.http!.port, path, ca, cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) };
        httpsRequest(options, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
          .on('error', reject)
          .end();
      });
    try {
      const topic = randomTopic('mtls');
      await served.broker.context.logs.createTopic(topic, 1);
      expect(await get(`/api/topics/${topic}`)).toBe(403);
      const acl: AclBinding = { principal: certs.clientPrincipal, host: '*', resourceType: 'Topic', resourceName: topic, patternType: 'literal', operation: 'Describe', permission: 'allow' };
      expect(served.broker.context.security.createAcls([acl])).toEqual([null]);
      expect(await get(`/api/topics/${topic}`)).toBe(200);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('admin HTTP port without SASL', () => {
  async function servePlain(dataDir: string, options: Partial<BrokerOptions>): Promise<ServedBroker> {
    return serveWithHttp({
      http: { host: '127.0.0.1', port: 0 },
      metrics: new BrokerMetrics(),
      logger: silentLogger,
      open: (metrics) => startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, metrics, ...options }),
    });
  }
  const get = async (served: ServedBroker, path: string): Promise<number> => (await fetch(`http://127.0.0.1:${served.http!.port}${path}`)).status;

  it('asks nothing: every route answers as before', async () => {
    const dataDir = tempDir();
    const served = await servePlain(dataDir, {});
    try {
      const topic = randomTopic('open');
      await served.broker.context.logs.createTopic(topic, 1);
      for (const path of ['/', '/api/overview', '/api/topics', `/api/topics/${topic}`, `/api/topics/${topic}/messages`, '/metrics']) expect(await get(served, path), path).toBe(200);
      const detail = (await (await fetch(`http://127.0.0.1:${served.http!.port}/api/topics/${topic}`)).json()) as { configAuthorized: boolean };
      expect(detail.configAuthorized).toBe(true);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("with authorizer 'acl' the console runs as User:ANONYMOUS under the ACLs", async () => {
    const dataDir = tempDir();
    const served = await servePlain(dataDir, { authorizer: 'acl' });
    try {
      const topic = randomTopic('anon');
      await served.broker.context.logs.createTopic(topic, 1);
      expect(await get(served, '/')).toBe(200);
      expect(await get(served, `/api/topics/${topic}`)).toBe(403);
      const acl: AclBinding = { principal: 'User:ANONYMOUS', host: '127.0.0.1', resourceType: 'Topic', resourceName: topic, patternType: 'literal', operation: 'Describe', permission: 'allow' };
      expect(served.broker.context.security.createAcls([acl])).toEqual([null]);
      expect(await get(served, `/api/topics/${topic}`)).toBe(200);
    } finally {
      await served.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
