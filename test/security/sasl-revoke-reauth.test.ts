// Proves that authenticated connections do not outlive their credential, with the broker in
// this process (startBroker, port 0, a temp dir, both listeners, SCRAM-SHA-256):
// - deleting a user closes at once every connection authenticated as it, on the native and the
//   Kafka listener (raw native connections, the SDK, kafkajs 2.2.4), with one log line naming
//   the user and the count; the user cannot log in again; another user's connections stay;
// - replacing a user's password closes nothing (without re-authentication);
// - with connectionsMaxReauthMs (KIP-368) the SDK and kafkajs re-authenticate on the same
//   connection and keep working past the lifetime; a raw connection that does not re-authenticate
//   is closed after the lifetime; a re-authentication with a changed password, as another
//   user or with another mechanism fails and closes the connection. Times are short (lifetimes of 600-2000 ms), waitFor only.

import { Kafka, logLevel } from 'kafkajs';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, type Broker, type BrokerOptions, type Logger } from '../../src/broker/index.js';
import { Client, isSpoolError } from '../../src/client/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const ALICE = { mechanism: 'scram-sha-256' as const, username: 'alice', password: 'alice-secret' };
/** spool's code, as the native wire carries it. */
const SASL_AUTHENTICATION_FAILED = 64;
const ILLEGAL_SASL_STATE = 66;
const BOB = { mechanism: 'scram-sha-256' as const, username: 'bob', password: 'bob-secret' };

interface Started {
  broker: Broker;
  lines: string[];
}

async function broker(connectionsMaxReauthMs = 0): Promise<Started> {
  const dataDir = tempDir();
  const lines: string[] = [];
  const capture = (message: string): void => {
    lines.push(message);
  };
  const logger: Logger = { info: capture, warn: capture, error: capture, debug: () => undefined };
  const started = await startBroker({
    dataDir,
    port: 0,
    fsync: { kind: 'never' },
    logger,
    kafkaListener: { host: '127.0.0.1', port: 0 },
    sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 1000, connectionsMaxReauthMs },
    bootstrapUser: { name: 'admin', password: 'admin-secret' },
    authorizer: 'none',
  } satisfies BrokerOptions);
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  const admin = client(started, { mechanism: 'scram-sha-256', username: 'admin', password: 'admin-secret' });
  await admin.admin().alterUserScramCredentials([
    { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', password: ALICE.password },
    { kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: BOB.password },
  ]);
  return { broker: started, lines };
}

function client(b: Broker, sasl: typeof ALICE): Client {
  const made = new Client({ brokers: [`127.0.0.1:${b.port}`], retry: { retries: 0 }, sasl });
  cleanups.push(() => made.close());
  return made;
}

function kafkajs(b: Broker, user: typeof ALICE, extra: { reauthenticationThreshold?: number } = {}): Kafka {
  return new Kafka({ brokers: [`127.0.0.1:${b.kafka!.port}`], clientId: 'reauth-test', logLevel: logLevel.NOTHING, retry: { retries: 0 }, sasl: user, ...extra });
}

/** A raw native connection logged in with SCRAM-SHA-256; returns it and the session lifetime answered. */
async function rawLogin(b: Broker, user: typeof ALICE): Promise<{ raw: RawClient; sessionLifetimeMs: unknown }> {
  const raw = await RawClient.connect(b.port);
  cleanups.push(() => raw.close());
  const { sessionLifetimeMs } = await rawAuthenticate(raw, user);
  return { raw, sessionLifetimeMs };
}

async function rawAuthenticate(raw: RawClient, user: typeof ALICE): Promise<{ errorCode: number; sessionLifetimeMs: unknown }> {
  expect((await raw.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' })).header['errorCode']).toBe(0);
  const scram = new ScramClient('SCRAM-SHA-256', user.username, user.password);
  const first = await raw.request<{ errorCode: number; authBytes: Uint8Array }>(ApiKey.SaslAuthenticate, { authBytes: scram.first() });
  if (first.header.errorCode !== 0) return { errorCode: first.header.errorCode, sessionLifetimeMs: undefined };
  const final = await raw.request<{ errorCode: number; authBytes: Uint8Array; sessionLifetimeMs?: number }>(ApiKey.SaslAuthenticate, {
    authBytes: await scram.final(Buffer.from(first.header.authBytes)),
  });
  return { errorCode: final.header.errorCode, sessionLifetimeMs: final.header.sessionLifetimeMs };
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

async function metric(b: Broker, pattern: RegExp): Promise<number> {
  return Number((await b.context.metrics.registry.metrics()).match(pattern)?.[1] ?? '0');
}

describe('deleting a user closes its connections', () => {
  it('closes the native and Kafka connections of the deleted user at once, and only those', async () => {
    const { broker: b, lines } = await broker();
    const alice1 = await rawLogin(b, ALICE);
    const alice2 = await rawLogin(b, ALICE);
    const bob = await rawLogin(b, BOB);
    expect(alice1.sessionLifetimeMs).toBeUndefined(); // no lifetime without --connections-max-reauth-ms
    const aliceSdk = client(b, ALICE);
    await aliceSdk.admin().listTopics();
    const aliceKafka = kafkajs(b, ALICE).admin();
    await aliceKafka.connect();
    cleanups.push(() => aliceKafka.disconnect());
    await aliceKafka.listTopics();
    const bobKafka = kafkajs(b, BOB).admin();
    await bobKafka.connect();
    cleanups.push(() => bobKafka.disconnect());

    // A new password for alice closes nothing (re-authentication is what would check it).
    await client(b, { ...ALICE, username: 'admin', password: 'admin-secret' }).admin().alterUserScramCredentials([
      { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-new' },
    ]);
    expect((await alice1.raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    expect(lines.filter((line) => line.includes('credential was deleted'))).toEqual([]);

    const kafkaOpen = await metric(b, /spool_connections_open\{listener="kafka"\} (\d+)/);
    await client(b, { ...ALICE, username: 'admin', password: 'admin-secret' }).admin().alterUserScramCredentials([{ kind: 'delete', user: 'alice', mechanism: 'SCRAM-SHA-256' }]);
    // Closed by the broker, not on the next request: the raw connections see their end.
    await Promise.all([alice1.raw.closed, alice2.raw.closed]);
    // Three native (two raw, the SDK's) and one Kafka (kafkajs admin; its other connections are alice's too if any).
    const line = lines.find((text) => text.includes('authenticated as User:alice'));
    expect(line).toMatch(/closed (\d+) connection\(s\) authenticated as User:alice: its credential was deleted/);
    expect(Number(/closed (\d+)/.exec(line!)![1])).toBeGreaterThanOrEqual(4);
    expect(await metric(b, /spool_connections_open\{listener="kafka"\} (\d+)/)).toBeLessThan(kafkaOpen);

    // Alice cannot come back on either listener; bob goes on, on his same connections.
    expect(await failureCode(aliceSdk.admin().listTopics())).toMatch(/SASL_AUTHENTICATION_FAILED|NETWORK_ERROR/);
    expect(await failureCode(client(b, ALICE).admin().listTopics())).toBe('SASL_AUTHENTICATION_FAILED');
    await expect(kafkajs(b, { ...ALICE, password: 'alice-new' }).admin().connect()).rejects.toThrow(/SASL|authentication/i);
    expect((await bob.raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    await bobKafka.listTopics();
  }, 20_000);
});

describe('re-authentication (connectionsMaxReauthMs, KIP-368)', () => {
  it('the SDK and kafkajs keep working past the lifetime on the same connections', async () => {
    const { broker: b, lines } = await broker(1000);
    const topic = randomTopic();
    const sdk = client(b, ALICE);
    await sdk.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = sdk.producer();
    const kafka = kafkajs(b, BOB, { reauthenticationThreshold: 300 });
    const kafkaProducer = kafka.producer();
    await kafkaProducer.connect();
    cleanups.push(() => kafkaProducer.disconnect());
    const accepted = async (): Promise<number> => (await metric(b, /spool_connections_accepted_total\{listener="native"\} (\d+)/)) + (await metric(b, /spool_connections_accepted_total\{listener="kafka"\} (\d+)/));
    await producer.send({ topic, messages: [{ value: 'first' }] });
    await kafkaProducer.send({ topic, messages: [{ value: 'first' }] });
    const acceptedBefore = await accepted();
    const successesBefore = await metric(b, /spool_sasl_authentications_total\{mechanism="SCRAM-SHA-256",result="success"\} (\d+)/);
    const startedMs = Date.now();
    let sent = 0;
    // 2.5 lifetimes of steady traffic from both.
    while (Date.now() - startedMs < 2500) {
      await producer.send({ topic, messages: [{ value: `sdk-${sent}` }] });
      await kafkaProducer.send({ topic, messages: [{ value: `kafkajs-${sent}` }] });
      sent++;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every send worked, no connection was opened again, and both logged in again in place.
    expect(await accepted()).toBe(acceptedBefore);
    expect(await metric(b, /spool_sasl_authentications_total\{mechanism="SCRAM-SHA-256",result="success"\} (\d+)/)).toBeGreaterThanOrEqual(successesBefore + 4);
    expect(lines.filter((line) => line.includes('expired without re-authentication'))).toEqual([]);
  }, 20_000);

  it('closes a connection that does not re-authenticate in time, and one that re-authenticates with a changed password or as another user', async () => {
    const { broker: b, lines } = await broker(600);
    const late = await rawLogin(b, ALICE);
    expect(late.sessionLifetimeMs).toBeGreaterThan(500);
    expect(late.sessionLifetimeMs).toBeLessThanOrEqual(600);
    await late.raw.closed;
    expect(lines.some((line) => /SASL session of User:alice expired without re-authentication/.test(line))).toBe(true);

    // Re-authenticating in time renews the session; as another user it fails and closes.
    const other = await rawLogin(b, ALICE);
    const renewed = await rawAuthenticate(other.raw, ALICE);
    expect(renewed.errorCode).toBe(0);
    expect((await other.raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    expect((await rawAuthenticate(other.raw, BOB)).errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    await other.raw.closed;

    // Re-authenticating with another mechanism is refused, and closes too.
    const switching = await rawLogin(b, ALICE);
    expect((await switching.raw.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-512' })).header['errorCode']).toBe(ILLEGAL_SASL_STATE);
    await switching.raw.closed;

    // A new password: the connection keeps working until it re-authenticates with the old one.
    const changed = await rawLogin(b, ALICE);
    await client(b, { ...ALICE, username: 'admin', password: 'admin-secret' }).admin().alterUserScramCredentials([
      { kind: 'upsert', user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-new' },
    ]);
    expect((await changed.raw.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
    expect((await rawAuthenticate(changed.raw, ALICE)).errorCode).toBe(SASL_AUTHENTICATION_FAILED);
    await changed.raw.closed;
  }, 20_000);
});
