// Proves ACLs apply to the principal a TLS client certificate names: a broker that requires
// client certificates turns authorisation on by default, a client with alice's certificate
// (User:CN=alice,OU=eng,O=Spool Test,C=US) is refused TOPIC_AUTHORIZATION_FAILED until an
// ACL for that principal allows it, then produces. Broker in this process, test certificates
// from test/helpers/tls-certs.ts (openssl).

import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, TlsContext, type Broker } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { isSpoolError } from '../../src/util/errors.js';
import { randomTopic, tempDir } from '../helpers/broker.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.js';

let certs: TestCerts;
let broker: Broker;
let dataDir: string;
let client: Client;

beforeAll(async () => {
  certs = makeTestCerts();
  dataDir = tempDir();
  const tls = TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca.cert, clientAuth: 'required' });
  broker = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, tls: { native: tls } });
  client = new Client({
    brokers: [`127.0.0.1:${broker.port}`],
    retry: { retries: 0 },
    ssl: { ca: certs.read(certs.ca.cert), cert: certs.read(certs.client.cert), key: certs.read(certs.client.key) },
  });
});

afterAll(async () => {
  await client?.close();
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
  certs?.cleanup();
});

describe('ACLs with mTLS principals', () => {
  it('refuses the certificate principal until an ACL names it', async () => {
    expect(broker.context.security.authorizer.enabled).toBe(true);
    const topic = randomTopic('mtls');
    await broker.context.logs.createTopic(topic, 1);
    const producer = client.producer({ lingerMs: 0, idempotent: false });
    const send = () => producer.send({ topic, messages: [{ value: 'x' }] });
    const refused = await send().then(
      () => null,
      (error: unknown) => (isSpoolError(error) ? error.code : error),
    );
    expect(refused).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(broker.context.logs.getPartition(topic, 0).logEndOffset).toBe(0);
    broker.context.security.createAcls([
      { principal: certs.clientPrincipal, host: '*', resourceType: 'Topic', resourceName: topic, patternType: 'literal', operation: 'Write', permission: 'allow' },
    ]);
    await send();
    expect(broker.context.logs.getPartition(topic, 0).logEndOffset).toBe(1);
  });
});
