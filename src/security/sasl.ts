// The SASL side of a connection, for both listeners: SaslHandshake picks a mechanism,
// SaslAuthenticate carries the mechanism's messages, and when the exchange succeeds the
// Session gets its principal (`User:<name>`). Per connection the state is
//
//   start --handshake(mechanism)--> exchanging --authenticate...--> authenticated
//                                              \--any failure--> failed (the connection closes)
//
// kept in a WeakMap by Session (security owns no field of the shared Session). A connection
// counts as SASL-authenticated when `session.mechanism` is set: a TLS client certificate
// (session.authenticated with mechanism null) does not replace SASL, and a successful exchange
// replaces the certificate's principal with the SASL user (Kafka's SASL_SSL). A second
// handshake, an authenticate before the handshake or after success: ILLEGAL_SASL_STATE,
// except for re-authentication (below).
//
// Re-authentication (KIP-368), with connectionsMaxReauthMs > 0: a successful exchange sets
// `session.expiresAtMs` (now + connectionsMaxReauthMs) and the answer tells the client the
// lifetime (sessionLifetimeMs). An authenticated connection may run the exchange again:
// SaslHandshake with the same mechanism, then SaslAuthenticate; success as the same principal
// renews the deadline, anything else (another mechanism or principal, a wrong password, a
// deleted user) fails and closes the connection. A connection whose session has expired may
// send only ApiVersions and the SASL APIs (broker/authentication.ts closes it otherwise, and
// the reaper closes an idle one); a re-authentication already under way when the session
// expires has REAUTHENTICATION_GRACE_MS more to finish (its answers may wait behind a parked
// fetch).
// A mechanism not enabled (or PLAIN without TLS): UNSUPPORTED_SASL_MECHANISM. A failed
// exchange: SASL_AUTHENTICATION_FAILED, answered after failedAuthenticationDelayMs (Kafka's
// connection.failed.authentication.delay.ms: a client that retries at once cannot spin the
// broker), logged at warn with the user name, host and reason, never the password.
//
// Failures are counted per source host: maxFailuresPerHost within failureWindowMs locks the
// host out for lockoutMs (every handshake from it fails at once, unlogged, counted in the
// lockout line). At most MAX_TRACKED_HOSTS hosts are remembered (oldest forgotten first).

import { randomBytes } from 'node:crypto';
import { Errors, SpoolError } from '../util/errors.js';
import { isScramMechanism, type ScramMechanism } from '../util/scram.js';
import type { CredentialStore, ScramCredential } from './credential-store.js';
import { verifyPlain } from './plain.js';
import { SaslFailure, ScramServer } from './scram.js';
import type { Session } from './session.js';

export const SaslMechanismNames = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'] as const;
export type SaslMechanism = (typeof SaslMechanismNames)[number];

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SaslMechanismNames as readonly string[]).includes(name);
}

export interface SaslOptions {
  /** Enabled mechanisms (at least one). */
  mechanisms: readonly SaslMechanism[];
  /** Delay before a failed exchange is answered. Default 100 ms (Kafka's default). */
  failedAuthenticationDelayMs?: number;
  /** Failures from one host within failureWindowMs that lock it out. Default 10. */
  maxFailuresPerHost?: number;
  /** Default 60000 ms. */
  failureWindowMs?: number;
  /** Default 60000 ms. */
  lockoutMs?: number;
  /** Session lifetime before the client must re-authenticate (Kafka's connections.max.reauth.ms); 0 (default): sessions do not expire. */
  connectionsMaxReauthMs?: number;
}

/** How long past its expiry a session may finish a re-authentication it started. */
export const REAUTHENTICATION_GRACE_MS = 10_000;

/** Told each outcome (the broker's metrics); `mechanism` is a SaslMechanism, 'HTTP Basic' or 'other'. */
export type SaslCount = (mechanism: string, result: 'success' | 'failure' | 'locked_out') => void;

export type SaslLog = (level: 'debug' | 'info' | 'warn', message: string, fields: Readonly<Record<string, string | number | boolean | null>>) => void;

export const MAX_TRACKED_HOSTS = 10_000;

type Exchange =
  | { kind: 'exchanging'; mechanism: SaslMechanism; scram: ScramServer | null }
  | { kind: 'failed' };

interface HostFailures {
  windowStartMs: number;
  failures: number;
  lockedUntilMs: number;
  refusedWhileLocked: number;
}

export class SaslAuthenticator {
  readonly mechanisms: readonly SaslMechanism[];
  private readonly delayMs: number;
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly lockoutMs: number;
  /** 0: sessions do not expire and an authenticated connection may not authenticate again. */
  readonly connectionsMaxReauthMs: number;
  private readonly exchanges = new WeakMap<Session, Exchange>();
  private readonly hosts = new Map<string, HostFailures>();
  private readonly fakeSaltSecret = randomBytes(32);

  constructor(
    options: SaslOptions,
    private readonly store: CredentialStore,
    private readonly log: SaslLog,
    private readonly nowMs: () => number,
    private readonly count: SaslCount = () => undefined,
  ) {
    if (options.mechanisms.length === 0) throw new RangeError('SASL needs at least one mechanism');
    for (const mechanism of options.mechanisms) if (!isSaslMechanism(mechanism)) throw new RangeError(`unknown SASL mechanism ${String(mechanism)}`);
    this.mechanisms = [...new Set(options.mechanisms)];
    this.delayMs = options.failedAuthenticationDelayMs ?? 100;
    this.maxFailures = options.maxFailuresPerHost ?? 10;
    this.windowMs = options.failureWindowMs ?? 60_000;
    this.lockoutMs = options.lockoutMs ?? 60_000;
    this.connectionsMaxReauthMs = options.connectionsMaxReauthMs ?? 0;
    if (!Number.isSafeInteger(this.connectionsMaxReauthMs) || this.connectionsMaxReauthMs < 0) throw new RangeError(`connectionsMaxReauthMs must be an integer >= 0, got ${this.connectionsMaxReauthMs}`);
  }

  /**
   * True when a failed SaslHandshake or SaslAuthenticate on this (authenticated) session is a
   * failed re-authentication, which closes the connection (as in Kafka).
   */
  reauthenticates(session: Session): boolean {
    return this.connectionsMaxReauthMs > 0 && session.mechanism !== null;
  }

  /**
   * The lifetime to answer a SaslAuthenticate with (Kafka's sessionLifetimeMs): what is left of
   * the session once an exchange has just succeeded, 0 while one is under way or when sessions
   * do not expire.
   */
  sessionLifetimeMs(session: Session): number {
    if (session.expiresAtMs === null || this.exchanges.has(session)) return 0;
    // Whole ms (the monotonic clock has fractions; the Kafka field is an int64).
    return Math.max(1, Math.floor(session.expiresAtMs - this.nowMs()));
  }

  /**
   * True when the session has expired without re-authenticating: past its deadline, or past
   * the deadline plus REAUTHENTICATION_GRACE_MS while a re-authentication is under way.
   */
  expired(session: Session): boolean {
    if (session.expiresAtMs === null) return false;
    const graceMs = this.exchanges.get(session)?.kind === 'exchanging' ? REAUTHENTICATION_GRACE_MS : 0;
    return this.nowMs() >= session.expiresAtMs + graceMs;
  }

  /**
   * True when the credential the session authenticated with is gone from the store (the user
   * deleted, or its credential of that SCRAM mechanism; PLAIN: every credential of the user).
   * A replaced credential does not revoke: re-authentication is what checks the new one.
   */
  revoked(session: Session): boolean {
    if (session.mechanism === null || !session.principal.startsWith('User:')) return false;
    const user = session.principal.slice('User:'.length);
    if (isScramMechanism(session.mechanism)) return this.store.get(user, session.mechanism) === undefined;
    return !this.store.has(user);
  }

  /** The mechanisms a connection may use: PLAIN only over TLS. */
  mechanismsFor(session: Session): SaslMechanism[] {
    return this.mechanisms.filter((mechanism) => mechanism !== 'PLAIN' || session.tls);
  }

  /** SaslHandshake: starts an exchange with `mechanism`, or throws (the connection then closes). */
  handshake(session: Session, mechanism: string): void {
    if ((session.mechanism !== null && this.connectionsMaxReauthMs === 0) || this.exchanges.has(session)) {
      this.exchanges.set(session, { kind: 'failed' });
      throw new SpoolError(Errors.ILLEGAL_SASL_STATE, 'SaslHandshake may come only once, first on a connection');
    }
    if (session.mechanism !== null && mechanism !== session.mechanism) {
      this.exchanges.set(session, { kind: 'failed' });
      throw new SpoolError(Errors.ILLEGAL_SASL_STATE, `re-authentication must use the connection's mechanism ${session.mechanism}, not ${printable(mechanism)}`);
    }
    const locked = this.lockedOut(session.host);
    if (locked !== null) {
      this.exchanges.set(session, { kind: 'failed' });
      this.count(isSaslMechanism(mechanism) ? mechanism : 'other', 'locked_out');
      throw locked;
    }
    if (!isSaslMechanism(mechanism) || !this.mechanismsFor(session).includes(mechanism)) {
      this.exchanges.set(session, { kind: 'failed' });
      const why = mechanism === 'PLAIN' && this.mechanisms.includes('PLAIN') ? ' (PLAIN is allowed only over TLS)' : '';
      throw new SpoolError(Errors.UNSUPPORTED_SASL_MECHANISM, `SASL mechanism ${printable(mechanism)} is not enabled${why}; enabled: ${this.mechanismsFor(session).join(', ')}`);
    }
    const scram = isScramMechanism(mechanism) ? new ScramServer(mechanism, (user) => this.store.get(user, mechanism), this.fakeSaltSecret) : null;
    this.exchanges.set(session, { kind: 'exchanging', mechanism, scram });
  }

  /**
   * SaslAuthenticate: the answer to one client message. A SCRAM step answers synchronously
   * (so requests pipelined behind the last step already see the principal); PLAIN salts the
   * password off the event loop. Failures reject after the failure delay.
   */
  authenticate(session: Session, message: Buffer): Buffer | Promise<Buffer> {
    const exchange = this.exchanges.get(session);
    if (exchange?.kind !== 'exchanging') {
      this.exchanges.set(session, { kind: 'failed' });
      return Promise.reject(new SpoolError(Errors.ILLEGAL_SASL_STATE, session.mechanism !== null && exchange === undefined ? 'the connection is already authenticated' : 'SaslAuthenticate before a SaslHandshake'));
    }
    if (exchange.scram === null) {
      // PLAIN: one message. Mark the exchange over first: a second message while it runs is out of order.
      this.exchanges.set(session, { kind: 'failed' });
      return verifyPlain(message, (user) => this.plainCredential(user)).then(
        (user) => this.succeeded(session, exchange.mechanism, user, Buffer.alloc(0)),
        (error: unknown) => this.failed(session, exchange.mechanism, error),
      );
    }
    try {
      const step = exchange.scram.step(message);
      if (step.user === null) return step.response;
      return this.succeeded(session, exchange.mechanism, step.user, step.response);
    } catch (error) {
      return this.failed(session, exchange.mechanism, error);
    }
  }

  /**
   * A user name and password from outside SASL (the admin HTTP port's Basic authentication),
   * checked like PLAIN: the same per-host lockout, failure delay and log line. Resolves to the
   * principal; rejects with SASL_AUTHENTICATION_FAILED. The caller allows it only over TLS.
   */
  async authenticatePassword(host: string, user: string, password: string, via: string): Promise<string> {
    const locked = this.lockedOut(host);
    if (locked !== null) {
      this.count(via, 'locked_out');
      throw locked;
    }
    try {
      await verifyPlain(Buffer.from(`\u0000${user}\u0000${password}`, 'utf8'), (name) => this.plainCredential(name));
    } catch (error) {
      if (!(error instanceof SaslFailure)) throw error;
      this.log('warn', `authentication failed for ${error.user === null ? 'an unnamed user' : `User:${error.user}`} with ${via} from ${host}: ${error.reason}`, {
        principal: error.user === null ? null : `User:${error.user}`,
        mechanism: via,
        host,
        reason: error.reason,
      });
      this.countFailure(host);
      this.count(via, 'failure');
      await new Promise((resolve) => setTimeout(resolve, this.delayMs).unref());
      throw new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, error.badCredentials ? 'invalid user name or password' : `Authentication failed: ${error.reason}`);
    }
    this.count(via, 'success');
    return `User:${user}`;
  }

  private plainCredential(user: string): { mechanism: ScramMechanism; credential: ScramCredential } | undefined {
    for (const mechanism of ['SCRAM-SHA-512', 'SCRAM-SHA-256'] as const) {
      const credential = this.store.get(user, mechanism);
      if (credential) return { mechanism, credential };
    }
    return undefined;
  }

  private succeeded(session: Session, mechanism: SaslMechanism, user: string, response: Buffer): Buffer | Promise<never> {
    const principal = `User:${user}`;
    const again = session.mechanism !== null;
    if (again && principal !== session.principal) {
      return this.failed(session, mechanism, new SaslFailure(`re-authentication as ${principal} on a connection of ${session.principal}`, user, false));
    }
    this.exchanges.delete(session);
    session.authenticate(principal, mechanism);
    session.expiresAtMs = this.connectionsMaxReauthMs > 0 ? this.nowMs() + this.connectionsMaxReauthMs : null;
    this.count(mechanism, 'success');
    this.log('debug', `${again ? 're-authenticated' : 'authenticated'} ${principal} with ${mechanism} from ${session.host}`, { principal, mechanism, host: session.host });
    return response;
  }

  private failed(session: Session, mechanism: SaslMechanism, error: unknown): Promise<never> {
    if (!(error instanceof SaslFailure)) throw error;
    this.exchanges.set(session, { kind: 'failed' });
    const principal = error.user === null ? null : `User:${error.user}`;
    this.log('warn', `authentication failed for ${principal ?? 'an unnamed user'} with ${mechanism} from ${session.host}: ${error.reason}`, {
      principal,
      mechanism,
      host: session.host,
      reason: error.reason,
    });
    this.countFailure(session.host);
    this.count(mechanism, 'failure');
    // Kafka's wording for bad credentials, whatever the cause (unknown user or wrong password).
    const message = error.badCredentials ? `Authentication failed during authentication due to invalid credentials with SASL mechanism ${mechanism}` : `Authentication failed: ${error.reason}`;
    const failure = new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, message);
    return new Promise((_, reject) => setTimeout(() => reject(failure), this.delayMs).unref());
  }

  private countFailure(host: string): void {
    const nowMs = this.nowMs();
    let entry = this.hosts.get(host);
    if (entry === undefined || nowMs - entry.windowStartMs >= this.windowMs) {
      entry = { windowStartMs: nowMs, failures: 0, lockedUntilMs: entry?.lockedUntilMs ?? 0, refusedWhileLocked: 0 };
    }
    entry.failures++;
    // Re-insert so the Map's order is least recently failed first.
    this.hosts.delete(host);
    this.hosts.set(host, entry);
    if (this.hosts.size > MAX_TRACKED_HOSTS) this.hosts.delete(this.hosts.keys().next().value!);
    if (entry.failures >= this.maxFailures && entry.lockedUntilMs <= nowMs) {
      entry.lockedUntilMs = nowMs + this.lockoutMs;
      this.log('warn', `${entry.failures} failed authentications from ${host} within ${this.windowMs} ms: refusing its SASL handshakes for ${this.lockoutMs} ms`, {
        host,
        failures: entry.failures,
        lockoutMs: this.lockoutMs,
      });
    }
  }

  /** The error for a host that is locked out, or null. */
  private lockedOut(host: string): SpoolError | null {
    const entry = this.hosts.get(host);
    const nowMs = this.nowMs();
    if (entry === undefined || entry.lockedUntilMs <= nowMs) return null;
    entry.refusedWhileLocked++;
    const seconds = Math.ceil((entry.lockedUntilMs - nowMs) / 1000);
    return new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, `too many failed authentications from ${host}; try again in ${seconds} s`);
  }
}

/** A client-chosen name in an error message: at most 64 printable characters. */
function printable(text: string): string {
  return JSON.stringify(text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64));
}
