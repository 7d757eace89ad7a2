// Proves TLS on the broker's listeners with startBroker in this process and certificates
// made by openssl in a temp dir (test/helpers/tls-certs.ts): the SDK produces and consumes
// over TLS; with client auth required a client without a certificate fails fast with
// TLS_HANDSHAKE_FAILED and one with a certificate is served, its principal (Kafka's RFC 2253
// subject) in the broker's debug line; with client auth requested a client without a
// certificate is served and one whose certificate does not verify is refused; a plaintext
// client on the TLS port gets a clear error within a second while a TLS client keeps being
// served, and the broker logs one line; a client trusting another CA, and a TLS client on a
// plaintext port, get clear errors naming the broker. Also the pieces: the principal's form,
// and file errors that name the file and never the key.

import { rmSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startBroker, TlsContext, type Broker, type BrokerOptions, type LogFields, type Logger } from '../../src/broker/index.js';
import { Client, isSpoolError, type ClientTlsOptions } from '../../src/client/index.js';
import { principalFromSubject } from '../../src/security/tls.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/tls-certs.js';

const certs = makeTestCerts();
/** "Fast": well under the 10 s handshake timeout and the 30 s request timeout a hang would run into (the machine may be loaded). */
const FAST_MS = 4000;
afterAll(() => certs.cleanup());

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

interface LogLine {
  level: string;
  message: string;
  fields: LogFields | undefined;
}

function capturingLogger(lines: LogLine[]): Logger {
  const push = (level: string) => (message: string, fields?: LogFields) => lines.push({ level, message, fields });
  return { info: push('info'), warn: push('warn'), debug: push('debug'), error: (message) => lines.push({ level: 'error', message, fields: undefined }) };
}

async function broker(options: Partial<BrokerOptions> = {}): Promise<{ broker: Broker; lines: LogLine[] }> {
  const dataDir = tempDir();
  const lines: LogLine[] = [];
  const started = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: capturingLogger(lines), ...options });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return { broker: started, lines };
}

function tlsContext(clientAuth: 'none' | 'requested' | 'required' = 'none'): TlsContext {
  return TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key, caFile: clientAuth === 'none' ? undefined : certs.ca.cert, clientAuth });
}

function client(b: Broker, ssl: ClientTlsOptions | boolean | undefined): Client {
  const made = new Client({ brokers: [`127.0.0.1:${b.port}`], connectTimeoutMs: 3000, retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 100 }, ...(ssl !== undefined ? { ssl } : {}) });
  cleanups.push(() => made.close());
  return made;
}

const trusting = (): ClientTlsOptions => ({ ca: certs.read(certs.ca.cert) });
const withClientCert = (): ClientTlsOptions => ({ ...trusting(), cert: certs.read(certs.client.cert), key: certs.read(certs.client.key) });

async function roundTrip(c: Client, count = 100): Promise<string[]> {
  const topic = randomTopic('tls');
  await c.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = c.producer({ lingerMs: 1 });
  await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
  await producer.close();
  const consumer = c.consumer({ groupId: randomTopic('tls-group') });
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values: string[] = [];
  for await (const message of consumer) {
    values.push(message.value!.toString());
    if (values.length === count) break;
  }
  await consumer.close();
  return values;
}

async function failure(run: () => Promise<unknown>): Promise<{ error: unknown; elapsedMs: number }> {
  const startedMs = Date.now();
  try {
    await run();
  } catch (error) {
    return { error, elapsedMs: Date.now() - startedMs };
  }
  throw new Error('expected a failure');
}

describe('TLS on the native listener', () => {
  it('carries produce and consume for the SDK with ssl: { ca }', async () => {
    const { broker: b } = await broker({ tls: { native: tlsContext() } });
    const values = await roundTrip(client(b, trusting()));
    expect(values).toEqual(Array.from({ length: 100 }, (_, i) => `v${i}`));
  });

  it('with client auth required: no certificate fails fast and clearly; a certificate is served and names the principal', async () => {
    const { broker: b, lines } = await broker({ tls: { native: tlsContext('required') }, authorizer: 'none' }); // ACLs (on by default with mTLS): acl-matrix.test.ts
    const { error, elapsedMs } = await failure(() => client(b, trusting()).admin().listTopics());
    expect(isSpoolError(error) && error.code).toBe('TLS_HANDSHAKE_FAILED');
    expect((error as Error).message).toContain(`broker 127.0.0.1:${b.port}`);
    expect((error as Error).message).toMatch(/refused this client's certificate/);
    expect(elapsedMs).toBeLessThan(FAST_MS);
    expect(await roundTrip(client(b, withClientCert()), 10)).toHaveLength(10);
    const authenticated = lines.find((line) => line.level === 'debug' && line.message.includes('TLS client authenticated'));
    expect(authenticated?.fields?.['principal']).toBe(certs.clientPrincipal);
    expect(lines.some((line) => line.level === 'warn' && line.fields?.['reason'] === 'tls_handshake')).toBe(true);
  });

  it('with client auth requested: no certificate is served (anonymous); a certificate from another CA is refused', async () => {
    const { broker: b, lines } = await broker({ tls: { native: tlsContext('requested') } });
    expect(await roundTrip(client(b, trusting()), 5)).toHaveLength(5);
    expect(lines.some((line) => line.message.includes('TLS client authenticated'))).toBe(false);
    const strangers = makeStrangerCert();
    const { error } = await failure(() => client(b, { ...trusting(), cert: strangers.cert, key: strangers.key }).admin().listTopics());
    expect(isSpoolError(error)).toBe(true);
    await waitFor(() => lines.some((line) => line.fields?.['reason'] === 'tls_client_certificate'));
    expect(await roundTrip(client(b, withClientCert()), 5)).toHaveLength(5);
  });

  it('answers a plaintext client on the TLS port with a clear error within a second, logs one line, and keeps serving TLS clients', async () => {
    const { broker: b, lines } = await broker({ tls: { native: tlsContext() } });
    const tlsClient = client(b, trusting());
    await tlsClient.admin().listTopics();
    const { error, elapsedMs } = await failure(() => client(b, undefined).admin().listTopics());
    expect((error as Error).message).toMatch(/closed the connection without answering the first request \(a TLS port\?/);
    expect(elapsedMs).toBeLessThan(FAST_MS);
    const refusals = lines.filter((line) => line.fields?.['reason'] === 'tls_handshake');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.message).toContain('plaintext client?');
    // The broker is unaffected: the TLS client's connection and new ones work.
    expect(await roundTrip(tlsClient, 5)).toHaveLength(5);
    expect(b.connectionCount).toBeGreaterThan(0);
  });

  it('a client that trusts another CA gets TLS_HANDSHAKE_FAILED naming the broker and the reason', async () => {
    const { broker: b } = await broker({ tls: { native: tlsContext() } });
    const { error, elapsedMs } = await failure(() => client(b, { ca: certs.read(certs.otherCa.cert) }).admin().listTopics());
    expect(isSpoolError(error) && error.code).toBe('TLS_HANDSHAKE_FAILED');
    expect((error as Error).message).toMatch(new RegExp(`broker 127\\.0\\.0\\.1:${b.port} failed: its certificate is not trusted`));
    expect(elapsedMs).toBeLessThan(FAST_MS);
    // The half-made connection the client dropped does not linger until the handshake timeout.
    const closingMs = Date.now();
    await b.close();
    expect(Date.now() - closingMs).toBeLessThan(3000);
  });

  it('a TLS client on a plaintext port gets TLS_HANDSHAKE_FAILED saying it may be a plaintext port', async () => {
    const { broker: b } = await broker();
    const { error } = await failure(() => client(b, trusting()).admin().listTopics());
    expect(isSpoolError(error) && error.code).toBe('TLS_HANDSHAKE_FAILED');
    expect((error as Error).message).toMatch(/plaintext port/);
  });

  it('resets a TLS client that stalls mid-frame (the reaper) without taking the broker down', async () => {
    const { broker: b, lines } = await broker({ tls: { native: tlsContext() }, requestReadTimeoutMs: 200 });
    const stalled = tlsConnect({ host: '127.0.0.1', port: b.port, ca: certs.read(certs.ca.cert) });
    await new Promise<void>((resolve, reject) => stalled.once('secureConnect', resolve).once('error', reject));
    stalled.on('error', () => undefined); // the reset may surface as ECONNRESET: expected
    stalled.write(Buffer.from([0, 0, 1, 0, 0, 0])); // a 256-byte frame that never comes
    await new Promise<void>((resolve) => stalled.once('close', () => resolve()));
    expect(lines.some((line) => line.message.includes('was not completed within 200 ms'))).toBe(true);
    expect(await roundTrip(client(b, trusting()), 5)).toHaveLength(5);
  });

  it('refuses unknown ssl options by name', () => {
    expect(() => new Client({ brokers: ['127.0.0.1:1'], ssl: { cafile: 'x' } as unknown as ClientTlsOptions })).toThrow(/unknown ssl option cafile/);
  });
});

describe('TLS pieces', () => {
  it("names the principal as Kafka's DefaultKafkaPrincipalBuilder does: RFC 2253, most specific RDN first", () => {
    expect(principalFromSubject('C=US\nO=Ex\\, Inc\nOU=eng\nCN=alice')).toBe('User:CN=alice,OU=eng,O=Ex\\, Inc,C=US');
    expect(principalFromSubject('CN=bob')).toBe('User:CN=bob');
  });

  it('file errors name the file and the problem, never the key', () => {
    const load = (files: Partial<Parameters<typeof TlsContext.load>[0]>): string => {
      try {
        TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key, ...files });
      } catch (error) {
        return (error as Error).message;
      }
      return 'loaded';
    };
    expect(load({})).toBe('loaded');
    expect(load({ certFile: '/nonexistent/cert.pem' })).toBe('--tls-cert /nonexistent/cert.pem: cannot read it (ENOENT)');
    expect(load({ keyFile: certs.client.key })).toMatch(/do not make a valid TLS context: .*key values mismatch/);
    expect(load({ caFile: `${certs.dir}/server.ext` })).toMatch(/--tls-ca .*server.ext is not a PEM file/);
    expect(load({ clientAuth: 'required' })).toMatch(/--tls-client-auth required needs --tls-ca/);
    const key = certs.read(certs.client.key).toString();
    const keyBody = key.split('\n')[1]!;
    expect(load({ keyFile: certs.client.key })).not.toContain(keyBody);
  });
});

/** A key and a self-signed certificate no CA here signed. */
function makeStrangerCert(): { cert: Buffer; key: Buffer } {
  return { cert: certs.read(certs.otherCa.cert), key: certs.read(certs.otherCa.key) };
}
