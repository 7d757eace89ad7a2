// SASL over TLS (SASL_SSL) on a real `spool serve` with TLS on both listeners (certificates
// made by openssl in a temp dir) and `--sasl scram-sha-256,scram-sha-512,plain`:
// - the SDK over TLS logs in with SCRAM-SHA-512 and with PLAIN (allowed only over TLS);
// - kcat with security.protocol=SASL_SSL produces with SCRAM-SHA-512 and consumes with PLAIN;
// - kafkajs 2.2.4 with ssl + sasl scram-sha-256 produces and consumes;
// - kafka-python 2.0.2 with SASL_SSL and PLAIN (SaslHandshake v0, the password as one raw
//   token, answered by four zero bytes) produces and consumes; a wrong PLAIN password gives up
//   cleanly; confluent-kafka (librdkafka) with SASL_SSL and PLAIN produces and consumes;
// - a client certificate alone (mTLS, no SASL) does not pass the SASL gate, and a wrong
//   PLAIN password is refused like a wrong SCRAM one;
// - the admin HTTPS port's console API asks for HTTP Basic with a SCRAM user (401 without
//   or with a wrong password, 200 with the right one); /healthz stays open.

import { Kafka, logLevel } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, isSpoolError } from '../../src/client/index.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/tls-certs.js';
import { fileURLToPath } from 'node:url';
import { parseKcatJson, run } from './helpers.js';

const certs = makeTestCerts();
const KCAT = 'kcat';

describe('SASL over TLS', () => {
  let broker: BrokerProcess;
  const clients: Client[] = [];

  beforeAll(async () => {
    broker = await startBroker({
      args: [
        '--kafka-listener', '127.0.0.1:0',
        '--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.ca.cert, '--tls-client-auth', 'requested',
        '--sasl', 'scram-sha-256,scram-sha-512,plain', '--sasl-max-failures-per-host', '1000',
        // Authentication only: ACLs (on by default with --sasl) are test/security/acl-matrix.test.ts's.
        '--authorizer', 'none',
      ],
      env: { SPOOL_BOOTSTRAP_USER: 'admin:admin-secret' },
    });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await broker?.stop();
    broker?.cleanup();
    certs.cleanup();
  });

  function sdk(sasl: ConstructorParameters<typeof Client>[0]['sasl'], withCertificate = false): Client {
    const ssl = { ca: readFileSync(certs.ca.cert), ...(withCertificate ? { cert: readFileSync(certs.client.cert), key: readFileSync(certs.client.key) } : {}) };
    const client = new Client({ brokers: [broker.address], ssl, retry: { retries: 0 }, ...(sasl ? { sasl } : {}) });
    clients.push(client);
    return client;
  }

  const kcatSasl = (mechanism: string, password = 'admin-secret') => [
    '-b', broker.kafkaAddress!, '-X', 'security.protocol=SASL_SSL', '-X', `ssl.ca.location=${certs.ca.cert}`,
    '-X', `sasl.mechanisms=${mechanism}`, '-X', 'sasl.username=admin', '-X', `sasl.password=${password}`,
  ];

  it('the SDK over TLS logs in with SCRAM-SHA-512 and with PLAIN', async () => {
    const topic = randomTopic('sasl-ssl-sdk');
    await sdk({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }).admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    expect(await sdk({ mechanism: 'plain', username: 'admin', password: 'admin-secret' }).admin().listTopics()).toContain(topic);
    const wrong = await sdk({ mechanism: 'plain', username: 'admin', password: 'nope' }).admin().listTopics().catch((error: unknown) => error);
    expect(isSpoolError(wrong) && wrong.code).toBe('SASL_AUTHENTICATION_FAILED');
  });

  it('a client certificate alone does not pass the SASL gate', async () => {
    const refused = await sdk(undefined, true).admin().listTopics().catch((error: unknown) => error);
    expect(isSpoolError(refused) && refused.code).toBe('SASL_AUTHENTICATION_FAILED');
    // With the certificate and SASL, it works (the SASL user is the principal).
    await sdk({ mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' }, true).admin().listTopics();
  });

  it('kcat with SASL_SSL: produces with SCRAM-SHA-512, consumes with PLAIN', async () => {
    const topic = randomTopic('sasl-ssl-kcat');
    const lines = Array.from({ length: 50 }, (_, i) => `k${i}:v${i}`);
    await sdk({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }).admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const produced = await run(KCAT, [...kcatSasl('SCRAM-SHA-512'), '-t', topic, '-P', '-K', ':'], { stdin: lines.join('\n') + '\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await run(KCAT, [...kcatSasl('PLAIN'), '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(parseKcatJson(consumed.stdout).map((m) => `${m.key}:${m.payload}`).sort()).toEqual([...lines].sort());
  });

  it('kafkajs 2.2.4 with ssl + sasl scram-sha-256 produces and consumes', async () => {
    const kafka = new Kafka({
      clientId: 'sasl-ssl',
      brokers: [broker.kafkaAddress!],
      ssl: { ca: [readFileSync(certs.ca.cert, 'utf8')] },
      sasl: { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' },
      logLevel: logLevel.NOTHING,
      retry: { retries: 2 },
    });
    const topic = randomTopic('sasl-ssl-kjs');
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await admin.disconnect();
    await producer.connect();
    await producer.send({ topic, messages: [{ value: 'over tls' }] });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: randomTopic('sasl-ssl-g') });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const value = await new Promise<string>((resolve) => void consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }));
    await consumer.disconnect();
    expect(value).toBe('over tls');
  });

  const python = (script: string, topic: string, password: string) =>
    run('/usr/bin/python3', [fileURLToPath(new URL(script, import.meta.url)), broker.kafkaAddress!, topic, `${topic}-group`, '100', 'SASL_SSL', 'PLAIN', 'admin', password, certs.ca.cert], {
      timeoutMs: 60_000,
    });

  it('kafka-python 2.0.2 with SASL_SSL and PLAIN (raw token) produces and consumes; a wrong password gives up', async () => {
    const topic = randomTopic('sasl-ssl-kpy');
    await sdk({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }).admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const result = await python('./sasl_python_client.py', topic, 'admin-secret');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ produced: 100, consumed: 100 });
    const wrong = await python('./sasl_python_client.py', topic, 'wrong');
    expect(wrong.code, wrong.stderr).toBe(2);
    expect(wrong.stdout.trim()).toMatch(/^refused: NoBrokersAvailable/);
    expect(broker.stderr()).toMatch(/authentication failed for User:admin with PLAIN from 127\.0\.0\.1: wrong password/);
  });

  it('confluent-kafka (librdkafka) with SASL_SSL and PLAIN produces and consumes', async () => {
    const topic = randomTopic('sasl-ssl-ck');
    await sdk({ mechanism: 'scram-sha-512', username: 'admin', password: 'admin-secret' }).admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const result = await python('./sasl_confluent_client.py', topic, 'admin-secret');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ produced: 100, consumed: 100 });
  });

  it('the console API over HTTPS takes a SCRAM user with HTTP Basic', async () => {
    const status = (path: string, authorization?: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const request = httpsGet(`https://${broker.httpAddress!}${path}`, { ca: readFileSync(certs.ca.cert), headers: authorization ? { authorization } : {} }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        request.on('error', reject);
      });
    const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    expect(await status('/healthz')).toBe(200);
    expect(await status('/api/topics')).toBe(401);
    expect(await status('/api/topics', basic('admin', 'wrong'))).toBe(401);
    expect(await status('/api/topics', basic('admin', 'admin-secret'))).toBe(200);
  });
});
