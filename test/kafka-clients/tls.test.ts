// Kafka clients nobody here wrote, over TLS to spool's Kafka listener (certificates made by
// openssl in a temp dir): kcat (librdkafka) with security.protocol=SSL produces and reads
// back keyed messages trusting only the test CA, and again with a client certificate when
// the broker requires one (and fails without it); kafkajs 2.2.4 with `ssl: { ca }` produces
// and consumes in a group. The native SDK reads what they wrote, over TLS too.

import { Kafka, logLevel } from 'kafkajs';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { makeTestCerts } from '../helpers/tls-certs.js';
import { parseKcatJson, run } from './helpers.js';

const certs = makeTestCerts();
afterAll(() => certs.cleanup());

const KCAT = 'kcat';
const tlsArgs = ['--kafka-listener', '127.0.0.1:0', '--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.ca.cert];
const sslArgs = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs.ca.cert}`];
const clientCertArgs = ['-X', `ssl.certificate.location=${certs.client.cert}`, '-X', `ssl.key.location=${certs.client.key}`];

describe('Kafka clients over TLS', () => {
  const shared = useBroker([...tlsArgs, '--tls-client-auth', 'requested']);

  it('kcat -X security.protocol=SSL produces and consumes; the SDK reads the same messages over TLS', async () => {
    const topic = randomTopic('kcat-tls');
    const lines = Array.from({ length: 500 }, (_, i) => `k${i}:v${i}`);
    await sdk().admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const produced = await run(KCAT, ['-b', shared.kafka(), ...sslArgs, '-t', topic, '-P', '-K', ':'], { stdin: lines.join('\n') + '\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await run(KCAT, ['-b', shared.kafka(), ...sslArgs, ...clientCertArgs, '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const messages = parseKcatJson(consumed.stdout);
    expect(new Set(messages.map((m) => `${m.key}:${m.payload}`))).toEqual(new Set(lines));
  });

  it('kafkajs 2.2.4 with ssl: { ca } produces and a group consumes', async () => {
    const topic = randomTopic('kjs-tls');
    const kafka = new Kafka({ clientId: 'spool-tls', brokers: [shared.kafka()], ssl: { ca: [readFileSync(certs.ca.cert, 'utf8')] }, logLevel: logLevel.NOTHING, retry: { retries: 5 } });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 200 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();
    const consumer = kafka.consumer({ groupId: randomTopic('kjs-tls-g'), sessionTimeout: 6000, heartbeatInterval: 500 });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const seen = new Set<string>();
    await consumer.run({ eachMessage: async ({ message }) => void seen.add(message.value!.toString()) });
    await waitFor(() => seen.size === 200, 30_000, 50);
    await consumer.disconnect();
    const ends = await sdk().admin().listOffsets({ topic, timestamp: 'latest' });
    expect(ends.reduce((sum, partition) => sum + partition.offset, 0)).toBe(200);
  });

  let client: Client | undefined;
  function sdk(): Client {
    client ??= new Client({ brokers: [shared.address()], ssl: { ca: readFileSync(certs.ca.cert) } });
    return client;
  }
  afterAll(async () => client?.close());
});

describe('kcat against a Kafka listener that requires client certificates', () => {
  const shared = useBroker([...tlsArgs, '--tls-client-auth', 'required', '--authorizer', 'none']); // ACLs (on by default with mTLS): acl-matrix.test.ts

  it('lists metadata with a client certificate and fails without one', async () => {
    const withCert = await run(KCAT, ['-b', shared.kafka(), ...sslArgs, ...clientCertArgs, '-L', '-J']);
    expect(withCert.code, withCert.stderr).toBe(0);
    expect((JSON.parse(withCert.stdout) as { brokers: unknown[] }).brokers).toHaveLength(1);
    const without = await run(KCAT, ['-b', shared.kafka(), ...sslArgs, '-L', '-m', '3'], { timeoutMs: 20_000 });
    expect(without.code).not.toBe(0);
    expect(without.stderr).toMatch(/SSL|certificate|handshake/i);
  });
});
