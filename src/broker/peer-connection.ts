// One native-protocol connection from this broker to another broker (Kafka's inter-broker
// NetworkClient with security.inter.broker.protocol and sasl.mechanism.inter.broker.protocol):
// the replica fetchers' channel to their leader (replica-channel.ts) and any other
// broker-to-broker RPC.
//
// Connecting: TCP; TLS when this broker's native listener is TLS (a cluster's brokers use
// one setting, as Kafka's security.inter.broker.protocol: PeerSecurity.tls), verifying the
// peer's certificate against --tls-ca and its address, presenting this broker's own
// certificate when the peer asks (--tls-client-auth); then, with SASL on, SaslHandshake and
// SaslAuthenticate (SCRAM, util/scram-client.ts) as the inter-broker user, paced by the
// broker-wide PeerLoginBackoff (peer-login-backoff.ts). Requests made meanwhile wait for the
// connection to be ready. The whole of it must finish within connectTimeoutMs. When the peer
// answers a session lifetime (--connections-max-reauth-ms), the link logs in again in place
// before it ends (KIP-368).
//
// Then request(apiKey, header) sends a frame and resolves with the answer of the same
// correlation id. The broker answers a connection's requests in order, so a long-poll request
// delays the answers behind it: use one PeerConnection per stream of long-polls.
// When the connection drops, every request in flight fails (NETWORK_ERROR, or what broke it:
// TLS_HANDSHAKE_FAILED, SASL_AUTHENTICATION_FAILED) and the next request connects again.
// close() fails what is in flight (SHUTTING_DOWN) and every later request.

import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { ApiKey } from '../protocol/apis.js';
import { decodeBody, type Payload } from '../protocol/body.js';
import { errorFromFields } from '../protocol/errors.js';
import { ResponseFrameDecoder, encodeRequestFrame } from '../protocol/frame.js';
import type * as M from '../protocol/messages.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import { ScramClient } from '../util/scram-client.js';
import type { ScramMechanism } from '../util/scram.js';
import { isTlsAlertRecord, tlsFailureKind } from '../util/tls-failures.js';
import { PeerLoginBackoff } from './peer-login-backoff.js';

/** TCP connect, TLS handshake and SASL login together, at most this long. */
export const DEFAULT_PEER_CONNECT_TIMEOUT_MS = 10_000;

/** The inter-broker user (`spool serve --inter-broker-user`, SPOOL_INTER_BROKER_PASSWORD). */
export interface PeerLogin {
  readonly mechanism: ScramMechanism;
  readonly username: string;
  readonly password: string;
}

/** How this broker connects to its peers; one per broker, shared by its PeerConnections. */
export interface PeerSecurity {
  /** tls.connect options, read at each connect (TlsContext.peerConnectOptions follows SIGHUP); null: plaintext. */
  readonly tls: (() => TlsConnectionOptions) | null;
  /** SCRAM login after connecting; null: none. */
  readonly login: PeerLogin | null;
  /** Pacing of logins per peer (peer-login-backoff.ts). */
  readonly loginBackoff: PeerLoginBackoff;
}

/** Plaintext, no login: a cluster without TLS on the native listener and without SASL. */
export function plaintextPeerSecurity(): PeerSecurity {
  return { tls: null, login: null, loginBackoff: new PeerLoginBackoff() };
}

export interface PeerConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Default plaintextPeerSecurity(). */
  readonly security?: PeerSecurity;
  /** Default DEFAULT_PEER_CONNECT_TIMEOUT_MS. */
  readonly connectTimeoutMs?: number;
  /** What the peer is to this connection, for error messages: `leader` gives `leader 127.0.0.1:9401: ...`. Default `broker`. */
  readonly role?: string;
}

export interface PeerRequestOptions {
  /** Raw bytes after the msgpack header (record batches). */
  readonly payload?: Payload;
  /** Default 0. */
  readonly apiVersion?: number;
  /** Fails the request with REQUEST_TIMED_OUT after this long (the connection stays, unless dropOnTimeout). Default: no limit. */
  readonly timeoutMs?: number;
  /**
   * A timeout drops the connection too, failing what else is in flight (the next request
   * reconnects): a peer that answers in order and went silent holds everything behind it.
   */
  readonly dropOnTimeout?: boolean;
}

export interface PeerResponse {
  header: Record<string, unknown>;
  /**
   * The bytes after the header. A view of the decoder's frame buffer, which may be reused
   * once the turn that resolved this ends: copy what is kept past the caller's next await.
   */
  payload: Buffer;
}

/** Our code for a TLS connection closed after its handshake before any answer (see Link). */
const CLOSED_AFTER_HANDSHAKE = 'SPOOL_CLOSED_AFTER_HANDSHAKE';
/** Our code for a plaintext connection closed before any answer. */
const CLOSED_BEFORE_ANSWER = 'SPOOL_CLOSED_BEFORE_ANSWER';

interface Pending {
  resolve: (response: PeerResponse) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout | null;
}

/** One socket and its requests in flight. */
class Link {
  private readonly decoder = new ResponseFrameDecoder();
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private sawData = false;
  secured = false;
  failure: SpoolError | null = null;

  constructor(
    readonly socket: Socket,
    private readonly describe: (error: Error, secured: boolean) => SpoolError,
    private readonly tlsOnOurSide: boolean,
  ) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(isSpoolError(error) ? error : this.describe(error, this.secured)));
    socket.on('close', () => {
      // A TLS server that refuses the client's certificate after the handshake (node does, for
      // one that does not verify) closes without an alert: the client sees a quiet close.
      // A TLS listener closes a plaintext client's connection without a word as well.
      const quiet = this.secured && !this.sawData;
      const code = quiet ? (this.tlsOnOurSide ? CLOSED_AFTER_HANDSHAKE : CLOSED_BEFORE_ANSWER) : undefined;
      this.fail(this.describe(Object.assign(new Error('closed the connection'), code ? { code } : {}), this.secured));
    });
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  send(apiKey: number, header: object, options: PeerRequestOptions = {}): Promise<PeerResponse> {
    if (this.failure) return Promise.reject(this.failure);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) >>> 0 || 1;
    let parts: Buffer[];
    try {
      parts = encodeRequestFrame(correlationId, apiKey, options.apiVersion ?? 0, header, options.payload);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise((resolve, reject) => {
      const timeoutMs = options.timeoutMs;
      const timer =
        timeoutMs === undefined
          ? null
          : setTimeout(() => {
              this.pending.delete(correlationId);
              const error = new SpoolError(Errors.REQUEST_TIMED_OUT, `no answer to api ${apiKey} in ${timeoutMs} ms`);
              reject(error);
              if (options.dropOnTimeout === true) this.destroy(error);
            }, timeoutMs);
      this.pending.set(correlationId, { resolve, reject, timer });
      for (const part of parts) this.socket.write(part);
    });
  }

  destroy(error: SpoolError): void {
    this.fail(error);
    this.socket.destroy();
  }

  /** The first failure wins: it is the cause, the close that follows it is not. */
  private fail(error: SpoolError): void {
    if (this.failure === null) this.failure = error;
    for (const waiter of this.pending.values()) {
      if (waiter.timer) clearTimeout(waiter.timer);
      waiter.reject(this.failure);
    }
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    if (!this.sawData && !this.tlsOnOurSide && isTlsAlertRecord(chunk)) {
      this.destroy(this.describe(Object.assign(new Error('answered with a TLS alert'), { code: 'SPOOL_TLS_ANSWER' }), false));
      return;
    }
    this.sawData = true;
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.destroy(this.describe(new Error(`sent a bad frame: ${error instanceof Error ? error.message : String(error)}`), this.secured));
      return;
    }
    for (const frame of frames) {
      const waiter = this.pending.get(frame.correlationId);
      if (!waiter) continue; // timed out earlier: nobody waits for it
      this.pending.delete(frame.correlationId);
      if (waiter.timer) clearTimeout(waiter.timer);
      try {
        const { header, payload } = decodeBody(frame.body);
        waiter.resolve({ header, payload });
      } catch (error) {
        waiter.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
  }
}

export class PeerConnection {
  private readonly security: PeerSecurity;
  private readonly connectTimeoutMs: number;
  private link: Link | null = null;
  private ready: Promise<Link> | null = null;
  private closed = false;

  constructor(private readonly options: PeerConnectionOptions) {
    this.security = options.security ?? plaintextPeerSecurity();
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_PEER_CONNECT_TIMEOUT_MS;
  }

  /** `host:port` of the peer. */
  get address(): string {
    return `${this.options.host}:${this.options.port}`;
  }

  /** True while a connection is up and logged in. */
  get connected(): boolean {
    return this.link !== null && !this.link.closed && this.ready === null;
  }

  /** Sends one request (connecting first if needed) and resolves with its answer; see the file comment for failures. */
  async request(apiKey: number, header: object, options: PeerRequestOptions = {}): Promise<PeerResponse> {
    const link = await this.connection();
    return link.send(apiKey, header, options);
  }

  /** Fails what is in flight with SHUTTING_DOWN and every later request; idempotent. */
  close(): void {
    this.closed = true;
    this.ready = null;
    const link = this.link;
    this.link = null;
    link?.destroy(new SpoolError(Errors.SHUTTING_DOWN, `the connection to ${this.role} ${this.address} is closed`));
  }

  private get role(): string {
    return this.options.role ?? 'broker';
  }

  private connection(): Promise<Link> {
    if (this.closed) return Promise.reject(new SpoolError(Errors.SHUTTING_DOWN, `the connection to ${this.role} ${this.address} is closed`));
    if (this.ready) return this.ready;
    if (this.link && !this.link.closed) return Promise.resolve(this.link);
    const opening = this.open();
    this.ready = opening;
    const settled = (): void => {
      if (this.ready === opening) this.ready = null;
    };
    opening.then(settled, settled);
    return opening;
  }

  private async open(): Promise<Link> {
    const { host, port } = this.options;
    const tlsOptions = this.security.tls?.() ?? null;
    const socket = tlsOptions ? tlsConnect({ ...tlsOptions, host, port }) : netConnect({ host, port });
    socket.setNoDelay(true);
    const link = new Link(socket, (error, secured) => this.describe(error, tlsOptions !== null, secured), tlsOptions !== null);
    this.link = link;
    const login = this.security.login;
    const timer = setTimeout(() => {
      const what = `${tlsOptions ? 'connected over TLS' : 'connected'}${login ? ' and logged in' : ''}`;
      link.destroy(new SpoolError(Errors.NETWORK_ERROR, `${this.role} ${this.address}: not ${what} within ${this.connectTimeoutMs} ms`));
    }, this.connectTimeoutMs);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once(tlsOptions ? 'secureConnect' : 'connect', () => {
          link.secured = true;
          resolve();
        });
        socket.once('close', () => reject(link.failure ?? new SpoolError(Errors.NETWORK_ERROR, `${this.role} ${this.address} closed the connection`)));
      });
      let sessionLifetimeMs = 0;
      if (login) {
        await this.security.loginBackoff.login(this.address, async () => {
          sessionLifetimeMs = await this.authenticate(link, login);
        });
      }
      if (link.closed) throw link.failure!;
      if (login) this.scheduleReauthentication(link, login, sessionLifetimeMs);
    } catch (error) {
      link.destroy(isSpoolError(error) ? error : new SpoolError(Errors.NETWORK_ERROR, `${this.role} ${this.address}: ${String(error)}`));
      if (this.link === link) this.link = null;
      throw error;
    } finally {
      clearTimeout(timer);
    }
    if (this.closed) {
      link.destroy(new SpoolError(Errors.SHUTTING_DOWN, `the connection to ${this.role} ${this.address} is closed`));
      throw link.failure!;
    }
    return link;
  }

  /**
   * KIP-368 for the broker's own logins: when the peer gave the session a lifetime
   * (--connections-max-reauth-ms), log in again on the same link at 75-90% of it, pipelined with
   * the replica fetches (like the SDK, client/connection.ts); a failure ends the link, and its
   * requests fail with it (the next request connects and logs in again).
   */
  private scheduleReauthentication(link: Link, login: PeerLogin, sessionLifetimeMs: number): void {
    if (sessionLifetimeMs <= 0) return;
    const timer = setTimeout(() => {
      if (link.closed || this.link !== link || this.closed) return;
      this.authenticate(link, login).then(
        (next) => this.scheduleReauthentication(link, login, next),
        (error: unknown) => link.destroy(isSpoolError(error) ? error : new SpoolError(Errors.NETWORK_ERROR, `re-authentication with ${this.role} ${this.address} failed: ${String(error)}`)),
      );
    }, Math.floor(sessionLifetimeMs * (0.75 + Math.random() * 0.15)));
    // It never keeps the process alive; a closed link makes it a no-op.
    timer.unref();
    link.socket.once('close', () => clearTimeout(timer));
  }

  /**
   * SaslHandshake, then SCRAM's two SaslAuthenticate round trips; throws a login failure that
   * says what to check. Resolves to the session lifetime the peer answered (0: no expiry).
   */
  private async authenticate(link: Link, login: PeerLogin): Promise<number> {
    let sessionLifetimeMs = 0;
    const refused = (error: SpoolError): SpoolError =>
      new SpoolError(
        error.kind,
        `inter-broker login to ${this.role} ${this.address} as User:${login.username} with ${login.mechanism} failed: ${error.message} ` +
          `(check --inter-broker-user, SPOOL_INTER_BROKER_PASSWORD, and that the user has a ${login.mechanism} credential in the cluster: spool user create)`,
      );
    const handshake = await link.send(ApiKey.SaslHandshake, { mechanism: login.mechanism } satisfies M.SaslHandshakeRequest);
    const handshakeFailure = errorFromFields(handshake.header);
    if (handshakeFailure) {
      const offered = Array.isArray(handshake.header['mechanisms']) ? (handshake.header['mechanisms'] as unknown[]).join(', ') : '';
      throw new SpoolError(
        handshakeFailure.kind,
        `inter-broker login to ${this.role} ${this.address}: ${handshakeFailure.message} (it offers ${offered || 'no mechanism'}; --inter-broker-mechanism must be one of the peers' --sasl mechanisms)`,
      );
    }
    const step = async (message: Buffer): Promise<Buffer> => {
      const response = await link.send(ApiKey.SaslAuthenticate, { authBytes: message } satisfies M.SaslAuthenticateRequest);
      const failure = errorFromFields(response.header);
      if (failure) throw refused(failure);
      const lifetime = response.header['sessionLifetimeMs'];
      sessionLifetimeMs = typeof lifetime === 'number' && Number.isSafeInteger(lifetime) && lifetime > 0 ? lifetime : 0;
      const bytes = response.header['authBytes'];
      return bytes instanceof Uint8Array ? Buffer.from(bytes) : Buffer.alloc(0);
    };
    const scram = new ScramClient(login.mechanism, login.username, login.password);
    try {
      const serverFirst = await step(scram.first());
      scram.verify(await step(await scram.final(serverFirst)));
    } catch (error) {
      // The server's signature did not match or its message was malformed (ScramClient's checks).
      if (isSpoolError(error, Errors.SASL_AUTHENTICATION_FAILED) && !error.message.startsWith('inter-broker login')) throw refused(error);
      throw error;
    }
    return sessionLifetimeMs;
  }

  /** The error for a socket failure, worded for an operator of this broker. */
  private describe(error: Error, tls: boolean, secured: boolean): SpoolError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = `${this.role} ${this.address}`;
    if (code === 'SPOOL_TLS_ANSWER') {
      return new SpoolError(Errors.TLS_HANDSHAKE_FAILED, `${where} answered with TLS: its native listener is TLS and this broker's is not (every broker of a cluster needs the same --tls-listeners native setting)`);
    }
    if (tls) {
      if (code === CLOSED_AFTER_HANDSHAKE) {
        return new SpoolError(
          Errors.TLS_HANDSHAKE_FAILED,
          `${where} closed the connection right after the TLS handshake without answering: it probably refused this broker's certificate (its --tls-ca must trust this broker's --tls-cert, which needs extendedKeyUsage clientAuth as well as serverAuth to be presented as a client certificate)`,
        );
      }
      const failed = (what: string): SpoolError => new SpoolError(Errors.TLS_HANDSHAKE_FAILED, `TLS handshake with ${where} failed: ${what}`, { cause: error });
      switch (tlsFailureKind(error, secured)) {
        case 'untrusted':
          return failed(`its certificate is not trusted (${code}: ${error.message}); --tls-ca must hold the CA that signed the peers' --tls-cert, which must name the address they advertise`);
        case 'client-certificate-refused':
          return failed(`it refused this broker's certificate (${code}); its --tls-ca must trust this broker's --tls-cert, which needs extendedKeyUsage clientAuth (as well as serverAuth) to be presented as a client certificate`);
        case 'ssl':
          return failed(`${code}: ${error.message}`);
        case 'plaintext-server':
          return failed('it closed the connection before the handshake finished: is its native listener plaintext? (every broker of a cluster needs the same --tls-listeners native setting)');
        case null:
          if (!secured) return failed('it closed the connection before the handshake finished: is its native listener plaintext? (every broker of a cluster needs the same --tls-listeners native setting)');
      }
    }
    if (code === CLOSED_BEFORE_ANSWER) {
      return new SpoolError(Errors.NETWORK_ERROR, `${where} closed the connection without answering (is its native listener TLS? every broker of a cluster needs the same --tls-listeners native setting)`);
    }
    return new SpoolError(Errors.NETWORK_ERROR, `${where}: ${error.message}`, { cause: error });
  }
}
