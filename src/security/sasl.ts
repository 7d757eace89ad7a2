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
// handshake, an authenticate before the handshake or after success: ILLEGAL_SASL_STATE.
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
}

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
  }

  /** The mechanisms a connection may use: PLAIN only over TLS. */
  mechanismsFor(session: Session): SaslMechanism[] {
    return this.mechanisms.filter((mechanism) => mechanism !== 'PLAIN' || session.tls);
  }

  /** SaslHandshake: starts an exchange with `mechanism`, or throws (the connection then closes). */
  handshake(session: Session, mechanism: string): void {
    if (session.mechanism !== null || this.exchanges.has(session)) {
      this.exchanges.set(session, { kind: 'failed' });
      throw new SpoolError(Errors.ILLEGAL_SASL_STATE, 'SaslHandshake may come only once, first on a connection');
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
    if (session.mechanism !== null || exchange?.kind !== 'exchanging') {
      this.exchanges.set(session, { kind: 'failed' });
      return Promise.reject(new SpoolError(Errors.ILLEGAL_SASL_STATE, session.mechanism !== null ? 'the connection is already authenticated' : 'SaslAuthenticate before a SaslHandshake'));
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

  private succeeded(session: Session, mechanism: SaslMechanism, user: string, response: Buffer): Buffer {
    this.exchanges.delete(session);
    session.authenticate(`User:${user}`, mechanism);
    this.count(mechanism, 'success');
    this.log('debug', `authenticated User:${user} with ${mechanism} from ${session.host}`, { principal: `User:${user}`, mechanism, host: session.host });
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
