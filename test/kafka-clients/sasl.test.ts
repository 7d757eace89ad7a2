// SASL/SCRAM on a real `spool serve --sasl scram-sha-256,scram-sha-512` process with both
// listeners, driven by clients nobody here wrote and by the CLI:
// - SPOOL_BOOTSTRAP_USER creates the first user (both mechanisms) at first start only;
// - `spool user create|list|delete` over the wire, authenticated with SPOOL_SASL_* env;
// - kcat (librdkafka) with security.protocol=SASL_PLAINTEXT and SCRAM-SHA-512 produces and
//   consumes; a wrong password and no SASL at all are refused with a clear error;
// - kafkajs 2.2.4 with sasl scram-sha-256 produces and consumes; a wrong password fails
//   with its SASL authentication error;
// - kafka-python 2.0.2 (SaslHandshake v0, then raw SASL tokens) produces and consumes with
//   SCRAM-SHA-256 and SCRAM-SHA-512; with a wrong password it gives up in seconds
//   (NoBrokersAvailable: the broker closes each attempt) and the broker goes on serving;
// - confluent-kafka (python3-confluent-kafka, librdkafka) produces and consumes with SCRAM-SHA-512;
// - the console API on the plain HTTP port answers 403 (Basic would send the password);
// - after all the failures the broker still serves, and after a restart the users remain.
// SASL_SSL (TLS + SCRAM, PLAIN over TLS) is sasl-tls.test.ts.

import { Kafka, logLevel } from 'kafkajs';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { SPOOL, sh } from '../cli/run.js';
import { parseKcatJson, run } from './helpers.js';

const KCAT = 'kcat';
const ADMIN = { SPOOL_SASL_USERNAME: 'admin', SPOOL_SASL_PASSWORD: 'admin-secret' };

describe('SASL/SCRAM with real clients', () => {
  let broker: BrokerProcess;
  let client: Client;

  beforeAll(async () => {
    broker = await startBroker({
      // Many failures below come from 127.0.0.1 (kcat retries): no lockout in this file.
      // Authentication only: ACLs (on by default with --sasl) are test/security/acl-matrix.test.ts's.
      args: ['--kafka-listener', '127.0.0.1:0', '--sasl', 'scram-sha-256,scram-sha-512', '--sasl-max-failures-per-host', '1000', '--authorizer', 'none'],
      env: { SPOOL_BOOTSTRAP_USER: 'admin:admin-secret' },
    });
    client = new Client({ brokers: [broker.address], sasl: { mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' } });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  const cli = (args: string, env: Record<string, string> = ADMIN) => sh(`${SPOOL} --broker ${broker.address} ${args}`, { env });
  const kcatSasl = (mechanism: string, username: string, password: string) => [
    '-b', broker.kafkaAddress!, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${username}`, '-X', `sasl.password=${password}`,
  ];

  it('creates the bootstrap user, and users over the CLI', async () => {
    expect(broker.stderr()).toContain('created bootstrap user User:admin');
    // The credentials file: private to the broker's user, salted keys only.
    const file = join(broker.dataDir, 'meta/security/scram-credentials.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).not.toContain('admin-secret');
    const created = await cli("user create carol --password 'c4rol pw' --mechanism scram-sha-512");
    expect(created.code, created.stderr).toBe(0);
    const listed = await cli('user list --format json');
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([
      { user: 'admin', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
      { user: 'carol', credentials: [{ mechanism: 'SCRAM-SHA-512', iterations: 4096 }] },
    ]);
    // carol logs in with her new password.
    const asCarol = await cli('topic list', { SPOOL_SASL_USERNAME: 'carol', SPOOL_SASL_PASSWORD: 'c4rol pw', SPOOL_SASL_MECHANISM: 'SCRAM-SHA-512' });
    expect(asCarol.code, asCarol.stderr).toBe(0);
    const deleted = await cli('user delete carol');
    expect(deleted.code, deleted.stderr).toBe(0);
    expect((await cli('user list')).stdout).not.toContain('carol');
    const unauthenticated = await cli('user list', {});
    expect(unauthenticated.code).toBe(1);
    expect(unauthenticated.stderr).toMatch(/not allowed before authentication.*SASL_AUTHENTICATION_FAILED/);
    const wrong = await cli('topic list', { ...ADMIN, SPOOL_SASL_PASSWORD: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/invalid credentials.*SASL_AUTHENTICATION_FAILED/);
    // The broker's log names the principal of a failed login, never the password.
    expect(broker.stderr()).toMatch(/authentication failed for User:admin/);
    expect(broker.stderr()).not.toContain('nope');
  });

  it('serve --print-config writes --sasl back in a form --config reads, and never the bootstrap password', async () => {
    const printed = await sh(`${SPOOL} serve --sasl scram-sha-256,SCRAM-SHA-512 --print-config`, { env: { SPOOL_BOOTSTRAP_USER: 'admin:admin-secret' } });
    expect(printed.code, printed.stderr).toBe(0);
    const config = JSON.parse(printed.stdout) as Record<string, unknown>;
    expect(config['sasl']).toBe('scram-sha-256,scram-sha-512');
    expect(printed.stdout).not.toContain('admin-secret');
  });

  it('the console API on a plain HTTP port is refused while SASL is on; /healthz stays open', async () => {
    const status = async (path: string): Promise<number> => (await fetch(`http://${broker.httpAddress!}${path}`)).status;
    expect(await status('/healthz')).toBe(200);
    expect(await status('/api/topics')).toBe(403);
  });

  it('kcat (librdkafka) with SASL_PLAINTEXT and SCRAM-SHA-512 produces and consumes', async () => {
    expect((await cli("user create kc --password 'kc-pw'")).code).toBe(0);
    const topic = randomTopic('sasl-kcat');
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const lines = Array.from({ length: 100 }, (_, i) => `k${i}:v${i}`);
    const produced = await run(KCAT, [...kcatSasl('SCRAM-SHA-512', 'kc', 'kc-pw'), '-t', topic, '-P', '-K', ':'], { stdin: lines.join('\n') + '\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await run(KCAT, [...kcatSasl('SCRAM-SHA-256', 'kc', 'kc-pw'), '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(parseKcatJson(consumed.stdout).map((m) => m.payload).sort()).toEqual(lines.map((line) => line.split(':')[1]).sort());
  });

  it('kcat with a wrong password or without SASL is refused', async () => {
    const wrong = await run(KCAT, [...kcatSasl('SCRAM-SHA-512', 'kc', 'wrong'), '-L', '-m', '2'], { timeoutMs: 20_000 });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/SASL authentication error.*invalid credentials/);
    const plain = await run(KCAT, ['-b', broker.kafkaAddress!, '-L', '-m', '2'], { timeoutMs: 20_000 });
    expect(plain.code).not.toBe(0);
  });

  it('kafkajs 2.2.4 with sasl scram-sha-256 produces and consumes; a wrong password fails', async () => {
    const kafka = (password: string) =>
      new Kafka({ clientId: 'sasl-test', brokers: [broker.kafkaAddress!], logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: { mechanism: 'scram-sha-256', username: 'admin', password } });
    const topic = randomTopic('sasl-kjs');
    const admin = kafka('admin-secret').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    const producer = kafka('admin-secret').producer();
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'a', value: 'one' }, { key: 'b', value: 'two' }] });
    await producer.disconnect();
    const consumer = kafka('admin-secret').consumer({ groupId: randomTopic('sasl-kjs-group') });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value!.toString());
          if (values.length === 2) resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(values).toEqual(['one', 'two']);
    const refused = kafka('wrong').producer();
    await expect(refused.connect()).rejects.toThrow(/SASL SCRAM SHA256 authentication failed|invalid credentials/);
  });

  const python = async (script: string, topic: string, mechanism: string, password: string) =>
    run('/usr/bin/python3', [fileURLToPath(new URL(script, import.meta.url)), broker.kafkaAddress!, topic, `${topic}-group`, '200', 'SASL_PLAINTEXT', mechanism, 'admin', password], {
      timeoutMs: 60_000,
    });

  for (const mechanism of ['SCRAM-SHA-256', 'SCRAM-SHA-512']) {
    it(`kafka-python 2.0.2 (SaslHandshake v0, raw tokens) with ${mechanism} produces and consumes`, async () => {
      const topic = randomTopic('sasl-kpy');
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const result = await python('./sasl_python_client.py', topic, mechanism, 'admin-secret');
      expect(result.code, result.stderr + result.stdout).toBe(0);
      expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ produced: 200, consumed: 200 });
      const offsets = await client.admin().fetchOffsets({ groupId: `${topic}-group` });
      expect(offsets.filter((o) => o.topic === topic).reduce((sum, o) => sum + o.offset, 0)).toBe(200);
    });
  }

  it('kafka-python with a wrong password gives up cleanly; the broker goes on serving', async () => {
    const topic = randomTopic('sasl-kpy-wrong');
    const started = Date.now();
    const result = await python('./sasl_python_client.py', topic, 'SCRAM-SHA-512', 'wrong');
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout.trim()).toMatch(/^refused: NoBrokersAvailable/);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(broker.stderr()).toMatch(/authentication failed for User:admin with SCRAM-SHA-512 from 127\.0\.0\.1: wrong password/);
    expect(broker.stderr()).not.toContain("'wrong'");
    // Still serving (kafka-python logs in again in the tests around this one).
    expect(await client.admin().listTopics()).toBeInstanceOf(Array);
  });

  it('confluent-kafka (librdkafka) with SCRAM-SHA-512 produces and consumes', async () => {
    const topic = randomTopic('sasl-ck');
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const result = await python('./sasl_confluent_client.py', topic, 'SCRAM-SHA-512', 'admin-secret');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ produced: 200, consumed: 200 });
  });

  it('still serves after the failures, and keeps its users across a restart', async () => {
    expect((await client.admin().describeUserScramCredentials()).map((entry) => entry.user)).toContain('kc');
    await client.close();
    expect(await broker.stop()).toBe(0);
    broker = await startBroker({ dataDir: broker.dataDir, args: ['--sasl', 'scram-sha-512', '--authorizer', 'none'] });
    expect(broker.stderr()).not.toContain('bootstrap user');
    client = new Client({ brokers: [broker.address], sasl: { mechanism: 'scram-sha-512', username: 'kc', password: 'kc-pw' } });
    expect((await client.admin().describeUserScramCredentials()).map((entry) => entry.user)).toEqual(['admin', 'kc']);
  });
});
