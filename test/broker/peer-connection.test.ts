// Proves PeerConnection (src/broker/peer-connection.ts), a broker's own connection to another
// broker, against one real broker in this process (startBroker, port 0, a temp dir) and, for
// the failure paths, a bare TCP server: plaintext requests are answered by correlation id;
// a dropped connection fails every request in flight and the next request connects again;
// close() fails what is in flight and every later request. Over TLS (test/helpers/tls-certs.ts)
// it verifies the broker against the CA and presents its own certificate to a listener that
// requires one, and says what is wrong for an untrusted CA, a certificate without clientAuth,
// and plaintext/TLS on the wrong port. With SASL it logs in with SCRAM as the inter-broker
// user (also over TLS), and logs in again in place before a session lifetime runs out
// (--connections-max-reauth-ms); a wrong password is a SASL_AUTHENTICATION_FAILED that names
// what to check, and the shared PeerLoginBackoff keeps five connections that fail together to one
// failed login at the broker. PeerLoginBackoff's pacing is checked on a fake clock.

import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, TlsContext, type Broker, type BrokerOptions } from '../../src/broker/index.js';
import { PeerConnection, plaintextPeerSecurity, type PeerLogin, type PeerSecurity } from '../../src/broker/peer-connection.js';
import { PeerLoginBackoff } from '../../src/broker/peer-login-backoff.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { Errors, SpoolError, isSpoolError } from '../../src/util/errors.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { makeTestCerts, type TestCerts } from '../helpers/tls-certs.js';

const LOGIN: PeerLogin = { mechanism: 'SCRAM-SHA-512', username: 'broker', password: 'broker-secret' };
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

let certs: TestCerts;
beforeAll(() => {
  certs = makeTestCerts();
});
afterAll(() => certs.cleanup());

async function broker(options: Partial<BrokerOptions> = {}): Promise<Broker> {
  const dataDir = tempDir();
  const started = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, ...options });
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  cleanups.push(() => started.close());
  return started;
}

const SASL: Partial<BrokerOptions> = {
  sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], failedAuthenticationDelayMs: 1 },
  bootstrapUser: { name: LOGIN.username, password: LOGIN.password },
  superUsers: [`User:${LOGIN.username}`],
};

function peer(port: number, security?: PeerSecurity): PeerConnection {
  const made = new PeerConnection({ host: '127.0.0.1', port, ...(security ? { security } : {}), connectTimeoutMs: 5_000 });
  cleanups.push(() => made.close());
  return made;
}

function security(options: { tls?: TlsContext; login?: PeerLogin; loginBackoff?: PeerLoginBackoff }): PeerSecurity {
  const tls = options.tls;
  return { tls: tls ? () => tls.peerConnectOptions() : null, login: options.login ?? null, loginBackoff: options.loginBackoff ?? new PeerLoginBackoff() };
}

async function metadata(connection: PeerConnection): Promise<M.MetadataResponse> {
  const { header } = await connection.request(ApiKey.Metadata, { topics: null } satisfies M.MetadataRequest);
  return header as unknown as M.MetadataResponse;
}

async function failure(promise: Promise<unknown>): Promise<SpoolError> {
  try {
    await promise;
  } catch (error) {
    if (isSpoolError(error)) return error;
    throw error;
  }
  throw new Error('expected a failure');
}

async function saslFailures(b: Broker): Promise<number> {
  const text = await b.context.metrics.registry.metrics();
  return Number(text.match(/spool_sasl_authentications_total\{mechanism="SCRAM-SHA-512",result="failure"\} (\d+)/)?.[1] ?? '0');
}

/** A TCP server that counts connections and drops each one when its first request arrives. */
async function droppingServer(): Promise<{ server: Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = createServer((socket: Socket) => {
    connections++;
    socket.once('data', () => socket.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections };
}

describe('PeerConnection, plaintext', () => {
  it('answers requests by correlation id, many in flight', async () => {
    const b = await broker();
    const connection = peer(b.port);
    const answers = await Promise.all([metadata(connection), metadata(connection), metadata(connection)]);
    for (const answer of answers) expect(answer.errorCode).toBe(0);
    expect(connection.connected).toBe(true);
  });

  it('a dropped connection fails every request in flight; the next request connects again', async () => {
    const fake = await droppingServer();
    const connection = peer(fake.port);
    const failures = await Promise.all([failure(metadata(connection)), failure(metadata(connection))]);
    for (const error of failures) {
      expect(error.code).toBe('NETWORK_ERROR');
      expect(error.message).toContain(`broker 127.0.0.1:${fake.port}`);
    }
    expect(fake.connections()).toBe(1);
    expect((await failure(metadata(connection))).code).toBe('NETWORK_ERROR');
    expect(fake.connections()).toBe(2);
  });

  it('close() fails a parked request and every later one with SHUTTING_DOWN', async () => {
    const b = await broker();
    const connection = peer(b.port);
    await b.context.logs.createTopic('parked', 1);
    // A fetch at the log end parks on the broker for maxWaitMs.
    const parked = connection.request(ApiKey.Fetch, { maxWaitMs: 10_000, minBytes: 1, maxBytes: 1024, partitions: [{ topic: 'parked', partition: 0, offset: 0, maxBytes: 1024 }] });
    await waitFor(() => connection.connected);
    connection.close();
    expect((await failure(parked)).code).toBe('SHUTTING_DOWN');
    expect((await failure(metadata(connection))).code).toBe('SHUTTING_DOWN');
  });

  it('a request with timeoutMs fails with REQUEST_TIMED_OUT; the connection stays', async () => {
    const b = await broker();
    const connection = peer(b.port);
    await b.context.logs.createTopic('slow', 1);
    const parked = connection.request(ApiKey.Fetch, { maxWaitMs: 2_000, minBytes: 1, maxBytes: 1024, partitions: [{ topic: 'slow', partition: 0, offset: 0, maxBytes: 1024 }] }, { timeoutMs: 50 });
    expect((await failure(parked)).code).toBe('REQUEST_TIMED_OUT');
    expect(connection.connected).toBe(true);
  });
});

describe('PeerConnection, TLS', () => {
  it('verifies the broker with the CA and presents its own certificate to a listener that requires one', async () => {
    const brokerCert = certs.issuePeer('peer-a', '127.0.0.1');
    const ownCert = certs.issuePeer('peer-b', '127.0.0.1');
    const listener = TlsContext.load({ certFile: brokerCert.cert, keyFile: brokerCert.key, caFile: certs.ca.cert, clientAuth: 'required' });
    const b = await broker({ tls: { native: listener } });
    const own = TlsContext.load({ certFile: ownCert.cert, keyFile: ownCert.key, caFile: certs.ca.cert, clientAuth: 'required' });
    expect((await metadata(peer(b.port, security({ tls: own })))).errorCode).toBe(0);
  });

  it('says what is wrong: an untrusted CA, a certificate without clientAuth, TLS to a plaintext port, plaintext to a TLS port', async () => {
    const brokerCert = certs.issuePeer('peer-c', '127.0.0.1');
    const listener = TlsContext.load({ certFile: brokerCert.cert, keyFile: brokerCert.key, caFile: certs.ca.cert, clientAuth: 'required' });
    const tlsBroker = await broker({ tls: { native: listener } });

    const otherCa = certs.issuePeer('peer-d', '127.0.0.1');
    const untrusting = TlsContext.load({ certFile: otherCa.cert, keyFile: otherCa.key, caFile: certs.otherCa.cert });
    const untrusted = await failure(metadata(peer(tlsBroker.port, security({ tls: untrusting }))));
    expect(untrusted.code).toBe('TLS_HANDSHAKE_FAILED');
    expect(untrusted.message).toMatch(/certificate is not trusted .*--tls-ca/);

    // certs.server has extendedKeyUsage serverAuth only: not usable as a client certificate.
    const serverOnly = TlsContext.load({ certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca.cert });
    const refused = await failure(metadata(peer(tlsBroker.port, security({ tls: serverOnly }))));
    expect(refused.code).toBe('TLS_HANDSHAKE_FAILED');
    expect(refused.message).toMatch(/refused this broker's certificate.*extendedKeyUsage clientAuth/);

    const plainBroker = await broker();
    const tlsToPlain = await failure(metadata(peer(plainBroker.port, security({ tls: serverOnly }))));
    expect(tlsToPlain.code).toBe('TLS_HANDSHAKE_FAILED');
    expect(tlsToPlain.message).toContain('is its native listener plaintext?');

    const plainToTls = await failure(metadata(peer(tlsBroker.port)));
    // The TLS listener closes without a word: retriable (a peer may also just have gone), with the hint.
    expect(plainToTls.code).toBe('NETWORK_ERROR');
    expect(plainToTls.message).toContain('is its native listener TLS?');
  });
});

describe('PeerConnection, SASL', () => {
  it('logs in with SCRAM as the inter-broker user before its first request (plaintext and TLS)', async () => {
    const b = await broker(SASL);
    // Without a login the broker's pre-authentication gate refuses the request.
    expect((await metadata(peer(b.port))).errorCode).toBe(Errors.SASL_AUTHENTICATION_FAILED.code);
    expect((await metadata(peer(b.port, security({ login: LOGIN })))).errorCode).toBe(0);

    const cert = certs.issuePeer('peer-e', '127.0.0.1');
    const context = TlsContext.load({ certFile: cert.cert, keyFile: cert.key, caFile: certs.ca.cert });
    const overTls = await broker({ ...SASL, tls: { native: context } });
    expect((await metadata(peer(overTls.port, security({ tls: context, login: { ...LOGIN, mechanism: 'SCRAM-SHA-256' } })))).errorCode).toBe(0);
  });

  it('re-authenticates in place when the broker gives the session a lifetime (--connections-max-reauth-ms)', async () => {
    const b = await broker({ ...SASL, sasl: { mechanisms: ['SCRAM-SHA-512'], failedAuthenticationDelayMs: 1, connectionsMaxReauthMs: 500 } });
    const connection = peer(b.port, security({ login: LOGIN }));
    const startedMs = Date.now();
    // Past three lifetimes on one connection: the broker would close it at the first expiry otherwise.
    while (Date.now() - startedMs < 1600) {
      expect((await metadata(connection)).errorCode).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const text = await b.context.metrics.registry.metrics();
    expect(text).toMatch(/spool_connections_accepted_total\{listener="native"\} 1\b/);
    expect(Number(text.match(/spool_sasl_authentications_total\{mechanism="SCRAM-SHA-512",result="success"\} (\d+)/)?.[1])).toBeGreaterThanOrEqual(3);
  });

  it('a wrong password fails with a message naming what to check; five connections sharing the backoff cost the broker one failed login', async () => {
    const b = await broker(SASL);
    const shared = security({ login: { ...LOGIN, password: 'wrong' } });
    const connections = [1, 2, 3, 4, 5].map(() => peer(b.port, shared));
    const failures = await Promise.all(connections.map((connection) => failure(metadata(connection))));
    for (const error of failures) {
      expect(error.code).toBe('SASL_AUTHENTICATION_FAILED');
      expect(error.message).toContain(`inter-broker login to broker 127.0.0.1:${b.port} as User:broker with SCRAM-SHA-512 failed`);
      expect(error.message).toContain('SPOOL_INTER_BROKER_PASSWORD');
    }
    expect(await saslFailures(b)).toBe(1);
    // Within the backoff a new try fails at once, without a login at the broker.
    expect((await failure(metadata(connections[0]!))).code).toBe('SASL_AUTHENTICATION_FAILED');
    expect(await saslFailures(b)).toBe(1);
  });

  it('a mechanism the broker does not offer is refused with the mechanisms it offers', async () => {
    const b = await broker({ ...SASL, sasl: { mechanisms: ['SCRAM-SHA-256'], failedAuthenticationDelayMs: 1 } });
    const error = await failure(metadata(peer(b.port, security({ login: LOGIN }))));
    expect(error.code).toBe('UNSUPPORTED_SASL_MECHANISM');
    expect(error.message).toContain('it offers SCRAM-SHA-256');
  });
});

describe('PeerLoginBackoff', () => {
  const loginFailure = (): SpoolError => new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, 'wrong password');

  it('after a failure rejects at once until the backoff passed (1 s, doubling to the cap); a success resets it', async () => {
    let nowMs = 0;
    const backoff = new PeerLoginBackoff(() => nowMs, 1_000, 4_000);
    let attempts = 0;
    const failing = async (): Promise<void> => {
      attempts++;
      throw loginFailure();
    };
    await expect(backoff.login('p:1', failing)).rejects.toThrow('wrong password');
    await expect(backoff.login('p:1', failing)).rejects.toThrow('wrong password');
    expect(attempts).toBe(1);
    const expectedWaits = [1_000, 2_000, 4_000, 4_000];
    for (const waitMs of expectedWaits) {
      nowMs += waitMs - 1;
      await expect(backoff.login('p:1', failing)).rejects.toThrow();
      const before = attempts;
      nowMs += 1;
      await expect(backoff.login('p:1', failing)).rejects.toThrow();
      expect(attempts).toBe(before + 1);
    }
    // Another peer is not held back.
    await backoff.login('p:2', async () => undefined);
    nowMs += 4_000;
    await backoff.login('p:1', async () => undefined);
    await backoff.login('p:1', failing).catch(() => undefined);
    nowMs += 999;
    const held = attempts;
    await expect(backoff.login('p:1', failing)).rejects.toThrow();
    expect(attempts).toBe(held);
  });

  it('logs in one at a time until a login succeeded, then in parallel; a network failure does not back off', async () => {
    const backoff = new PeerLoginBackoff(() => 0);
    const events: string[] = [];
    let running = 0;
    let most = 0;
    const attempt = (name: string) => async (): Promise<void> => {
      events.push(`start ${name}`);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running--;
      events.push(`end ${name}`);
    };
    // The first login runs alone; the ones that waited for it then go together.
    await Promise.all(['a', 'b', 'c'].map((name) => backoff.login('p:1', attempt(name))));
    expect(events.slice(0, 2)).toEqual(['start a', 'end a']);
    most = 0;
    await Promise.all(['d', 'e', 'f'].map((name) => backoff.login('p:1', attempt(name))));
    expect(most).toBe(3);

    let networkAttempts = 0;
    const unreachable = async (): Promise<void> => {
      networkAttempts++;
      throw new SpoolError(Errors.NETWORK_ERROR, 'refused');
    };
    await expect(backoff.login('p:3', unreachable)).rejects.toThrow('refused');
    await expect(backoff.login('p:3', unreachable)).rejects.toThrow('refused');
    expect(networkAttempts).toBe(2);
  });
});

describe('plaintextPeerSecurity', () => {
  it('is plaintext without a login', () => {
    const plain = plaintextPeerSecurity();
    expect(plain.tls).toBeNull();
    expect(plain.login).toBeNull();
  });
});
