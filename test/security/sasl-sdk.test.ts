// Proves SASL/SCRAM authentication end to end on the native listener with the SDK, with the
// broker in this process (startBroker, port 0, a temp dir): users made with bootstrapUser
// log in with SCRAM-SHA-256 and -512 and produce/consume; a wrong password and an unknown
// user get SASL_AUTHENTICATION_FAILED with the same text; a request before authentication
// gets SASL_AUTHENTICATION_FAILED and the connection closes, while the broker keeps serving;
// PLAIN is refused on a plaintext connection; the failure delay and the per-host lockout hold;
// spool_sasl_authentications_total counts successes, failures and lockouts; a connection the
// broker expires (connections.max.idle.ms) is replaced by the SDK, which logs in again on it.

import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { Client, isSpoolError } from '../../src/client/index.js';
import { startBroker, silentLogger, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { ScramClient } from '../../src/client/sasl.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function broker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
  const dataDir = tempDir();
  const started = await startBroker({
    dataDir,
    port: 0,
    fsync: { kind: 'never' },
    logger: silentLogger,
    sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'], failedAuthenticationDelayMs: 1 },
    bootstrapUser: { name: 'alice', password: 'alice-secret' },
    // Authentication only: ACLs (on by default with SASL) are acl-matrix.test.ts's.
    authorizer: 'none',
    ...options,
  });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return started;
}

function client(b: Broker, sasl: ConstructorParameters<typeof Client>[0]['sasl']): Client {
  const made = new Client({ brokers: [`127.0.0.1:${b.port}`], retry: { retries: 0 }, ...(sasl ? { sasl } : {}) });
  cleanups.push(() => made.close());
  return made;
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isSpoolError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a failure');
}

describe('SASL on the native listener', () => {
  it.each(['scram-sha-256', 'scram-sha-512'] as const)('%s: produces and consumes as an authenticated user', async (mechanism) => {
    const b = await broker();
    const c = client(b, { mechanism, username: 'alice', password: 'alice-secret' });
    const topic = randomTopic();
    await c.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = c.producer();
    await producer.send({ topic, messages: [{ value: 'hello' }] });
    const consumer = c.consumer();
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);
    const iterator = consumer[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect((first.value as { value: Buffer | null }).value?.toString()).toBe('hello');
  });

  it('logs in again on a new connection after the broker expires an idle authenticated one', async () => {
    const b = await broker({ connectionsMaxIdleMs: 300 });
    const c = new Client({ brokers: [`127.0.0.1:${b.port}`], sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' } });
    cleanups.push(() => c.close());
    const successes = async (): Promise<string> => (await b.context.metrics.registry.metrics()).match(/spool_sasl_authentications_total\{mechanism="SCRAM-SHA-256",result="success"\} (\d+)/)?.[1] ?? '0';
    await c.admin().listTopics();
    expect(await successes()).toBe('1');
    // The broker closes the idle connection (what must survive: the client, and the broker for others).
    await waitFor(async () => /spool_connections_open\{listener="native"\} 0/.test(await b.context.metrics.registry.metrics()));
    const topic = randomTopic();
    await c.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    expect(await c.admin().listTopics()).toContain(topic);
    expect(await successes()).toBe('2');
  });

  it('refuses a wrong password and an unknown user with the same answer', async () => {
    const b = await broker();
    const wrong = await failure(client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'nope' }).admin().listTopics());
    const unknown = await failure(client(b, { mechanism: 'scram-sha-256', username: 'mallory', password: 'nope' }).admin().listTopics());
    expect(wrong.code).toBe('SASL_AUTHENTICATION_FAILED');
    expect(unknown).toEqual(wrong);
    // The broker is unaffected: the right password still works.
    await client(b, { mechanism: 'scram-sha-512', username: 'alice', password: 'alice-secret' }).admin().listTopics();
    expect(await b.context.metrics.registry.metrics()).toContain('spool_sasl_authentications_total{mechanism="SCRAM-SHA-512",result="success"} 1');
  });

  it('answers a request before authentication with SASL_AUTHENTICATION_FAILED and closes the connection', async () => {
    const b = await broker();
    const raw = await RawClient.connect(b.port);
    const versions = await raw.request(ApiKey.ApiVersions, {});
    expect(versions.header['errorCode']).toBe(0);
    const refused = await raw.request(ApiKey.Metadata, {});
    expect(refused.header['errorCode']).toBe(64);
    await raw.closed;
    const unauthenticated = await failure(client(b, undefined).admin().listTopics());
    expect(unauthenticated.code).toMatch(/SASL_AUTHENTICATION_FAILED|NETWORK_ERROR/);
    await client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }).admin().listTopics();
  });

  it('refuses PLAIN without TLS', async () => {
    const b = await broker();
    const plain = await failure(client(b, { mechanism: 'plain', username: 'alice', password: 'alice-secret' }).admin().listTopics());
    expect(plain.code).toBe('UNSUPPORTED_SASL_MECHANISM');
    expect(plain.message).toMatch(/only over TLS/);
  });

  it('locks a host out after too many failures', async () => {
    const b = await broker({ sasl: { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 3, lockoutMs: 60_000 } });
    for (let i = 0; i < 3; i++) await failure(client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' }).admin().listTopics());
    const locked = await failure(client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }).admin().listTopics());
    expect(locked.code).toBe('SASL_AUTHENTICATION_FAILED');
    expect(locked.message).toMatch(/too many failed authentications/);
    const metrics = await b.context.metrics.registry.metrics();
    expect(metrics).toContain('spool_sasl_authentications_total{mechanism="SCRAM-SHA-256",result="failure"} 3');
    expect(metrics).toContain('spool_sasl_authentications_total{mechanism="SCRAM-SHA-256",result="locked_out"} 1');
  });

  it('answers a failed exchange only after the failure delay', async () => {
    const b = await broker({ sasl: { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 300 } });
    const started = performance.now();
    await failure(client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'wrong' }).admin().listTopics());
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('answers a second handshake after authentication ILLEGAL_SASL_STATE and keeps the connection', async () => {
    const b = await broker();
    const raw = await RawClient.connect(b.port);
    expect((await raw.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' })).header['errorCode']).toBe(0);
    const scram = new ScramClient('SCRAM-SHA-256', 'alice', 'alice-secret');
    const first = await raw.request<{ authBytes: Uint8Array }>(ApiKey.SaslAuthenticate, { authBytes: scram.first() });
    const final = await raw.request<{ errorCode: number; authBytes: Uint8Array }>(ApiKey.SaslAuthenticate, { authBytes: await scram.final(Buffer.from(first.header.authBytes)) });
    expect(final.header.errorCode).toBe(0);
    scram.verify(Buffer.from(final.header.authBytes));
    expect((await raw.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' })).header['errorCode']).toBe(66);
    expect((await raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    await raw.close();
  });

  it('without --sasl answers a handshake UNSUPPORTED_SASL_MECHANISM and serves the connection as before', async () => {
    // undefined overrides the helper's default sasl option: authentication off.
    const b = await broker({ sasl: undefined as never });
    const raw = await RawClient.connect(b.port);
    const handshake = await raw.request<{ errorCode: number; mechanisms: string[] }>(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' });
    expect(handshake.header).toMatchObject({ errorCode: 65, mechanisms: [] });
    expect((await raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    await raw.close();
    const sdk = await failure(client(b, { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }).admin().listTopics());
    expect(sdk.code).toBe('UNSUPPORTED_SASL_MECHANISM');
  });
});
