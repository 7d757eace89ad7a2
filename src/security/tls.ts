// TLS on the broker's listeners: the server options built from PEM files, reloaded on
// demand (SIGHUP in `spool serve`), and the principal a verified client certificate names.
//
// Files. `certFile` (the server's chain, PEM), `keyFile` (its private key, PEM, unencrypted)
// and optionally `caFile` (the CAs a client certificate must chain to). Each is read whole,
// at most MAX_TLS_FILE_BYTES, and checked by building a secure context before it is used,
// so a bad file fails `spool serve` at start and a bad file at reload keeps the old context.
// Errors name the file and OpenSSL's reason, never its contents: key material never
// reaches a log line or an error message.
//
// Reload. `reload()` reads the files again and hands the new context to every attached
// server (server.setSecureContext): handshakes from then on use it; connections already
// established keep the keys they negotiated and are not touched.
//
// Client authentication, Kafka's ssl.client.auth: `none` (no certificate asked for),
// `requested` (asked for; a client without one is User:ANONYMOUS, a client with one that
// does not verify is closed, as a JSSE server with wantClientAuth does), `required` (a
// client without a certificate chaining to caFile fails the handshake).
//
// Principal. Kafka's DefaultKafkaPrincipalBuilder with the default ssl.principal.mapping.rules
// (DEFAULT) names an SSL client `User:` + X500Principal.getName(): the subject DN in RFC 2253
// form, most specific RDN first (`User:CN=alice,OU=eng,O=Example,C=US`), the form
// `openssl x509 -noout -subject -nameopt RFC2253` prints. Node gives the subject one RDN per
// line in certificate order, already escaped per RFC 2253; reversing the lines and joining
// them with commas is that form. (Java writes attribute types it has no RFC 2253 keyword for
// as an OID with a hex value, `1.2.840.113549.1.9.1=#16...`; OpenSSL writes `emailAddress=...`:
// ACLs for subjects with such attributes are written in spool's form.)

import { readFileSync } from 'node:fs';
import { createSecureContext, type ConnectionOptions, type SecureContextOptions, type Server as TlsServer, type TLSSocket, type TlsOptions } from 'node:tls';
import { Errors, SpoolError } from '../util/errors.js';
import { Session } from './session.js';

export const TlsClientAuths = ['none', 'requested', 'required'] as const;
export type TlsClientAuth = (typeof TlsClientAuths)[number];

/** A PEM file is a few KiB; a CA bundle a few hundred KiB (Mozilla's is ~220 KiB). */
export const MAX_TLS_FILE_BYTES = 4 * 1024 * 1024;
/**
 * A connection that has not finished its TLS handshake this long after connecting is closed
 * (node's default is 120 s: a plaintext client that waits for the server to speak first,
 * or a stalled one, would hold a socket that long).
 */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** CAs a client certificate must chain to; needed unless clientAuth is 'none'. */
  caFile?: string | undefined;
  /** Default 'none' (Kafka's default). */
  clientAuth?: TlsClientAuth | undefined;
}

/** The server's certificates and trust, read from files; attached servers follow reload(). */
export class TlsContext {
  readonly clientAuth: TlsClientAuth;
  private secure: SecureContextOptions;
  private readonly servers = new Set<TlsServer>();

  private constructor(readonly files: Readonly<TlsFiles>) {
    this.clientAuth = files.clientAuth ?? 'none';
    if (this.clientAuth !== 'none' && files.caFile === undefined) {
      throw new SpoolError(Errors.TLS_CONFIG_INVALID, `--tls-client-auth ${this.clientAuth} needs --tls-ca: the CAs client certificates must chain to`);
    }
    this.secure = readSecureContextOptions(files);
  }

  /** Reads and checks the files; throws TLS_CONFIG_INVALID naming the file at fault. */
  static load(files: TlsFiles): TlsContext {
    return new TlsContext(files);
  }

  /** Options for tls.createServer / https.createServer. */
  serverOptions(): TlsOptions {
    return {
      ...this.secure,
      requestCert: this.clientAuth !== 'none',
      rejectUnauthorized: this.clientAuth === 'required',
      handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      minVersion: 'TLSv1.2',
    };
  }

  /**
   * tls.connect options for this broker's own connections to its peers (Kafka's
   * security.inter.broker.protocol SSL; broker/peer-connection.ts): the peer's certificate
   * must chain to caFile (node's default CAs when there is none) and name the peer's address;
   * this broker's certificate and key are presented when the peer asks for one (mTLS), so the
   * certificate needs extendedKeyUsage clientAuth too if it has an extendedKeyUsage at all.
   * Read at each connect, so a reload() reaches new peer connections too.
   */
  peerConnectOptions(): ConnectionOptions {
    return {
      cert: this.secure.cert,
      key: this.secure.key,
      ...(this.secure.ca !== undefined ? { ca: this.secure.ca } : {}),
      minVersion: 'TLSv1.2',
    };
  }

  /** Makes `server` follow reload(); detach it when it closes. */
  attach(server: TlsServer): void {
    this.servers.add(server);
  }

  detach(server: TlsServer): void {
    this.servers.delete(server);
  }

  /**
   * Reads the files again and, if they make a valid context, gives it to every attached
   * server. On any error nothing changes and the error (naming the file) is thrown.
   */
  reload(): void {
    const secure = readSecureContextOptions(this.files);
    this.secure = secure;
    for (const server of this.servers) server.setSecureContext(secure);
  }

  /**
   * Why an accepted TLS socket must be closed, or null. With 'requested' a client that
   * presented a certificate that does not verify is refused (with 'required' node already
   * failed its handshake).
   */
  refusal(socket: TLSSocket): string | null {
    if (this.clientAuth !== 'requested' || socket.authorized) return null;
    if (socket.getPeerX509Certificate() === undefined) return null;
    return `client certificate rejected: ${String(socket.authorizationError)}`;
  }
}

function readSecureContextOptions(files: Readonly<TlsFiles>): SecureContextOptions {
  const options: SecureContextOptions = {
    cert: readTlsFile(files.certFile, '--tls-cert'),
    key: readTlsFile(files.keyFile, '--tls-key'),
    ...(files.caFile !== undefined ? { ca: readTlsFile(files.caFile, '--tls-ca') } : {}),
  };
  try {
    createSecureContext(options);
  } catch (error) {
    // OpenSSL's reason ("key values mismatch", "no start line") names no key bytes.
    throw new SpoolError(Errors.TLS_CONFIG_INVALID, `TLS files ${files.certFile}, ${files.keyFile}${files.caFile ? `, ${files.caFile}` : ''} do not make a valid TLS context: ${reason(error)}`);
  }
  return options;
}

function readTlsFile(path: string, flag: string): Buffer {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new SpoolError(Errors.TLS_CONFIG_INVALID, `${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? reason(error)})`);
  }
  if (bytes.length > MAX_TLS_FILE_BYTES) throw new SpoolError(Errors.TLS_CONFIG_INVALID, `${flag} ${path} is larger than ${MAX_TLS_FILE_BYTES} bytes`);
  if (!bytes.includes('-----BEGIN ')) throw new SpoolError(Errors.TLS_CONFIG_INVALID, `${flag} ${path} is not a PEM file (no -----BEGIN line)`);
  return bytes;
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Kafka's principal for a subject DN as node prints it (one RDN per line, certificate order). */
export function principalFromSubject(subject: string): string {
  return `User:${subject.split('\n').filter((line) => line !== '').reverse().join(',')}`;
}

/**
 * The Session of a new connection: over TLS with a client certificate that verified, the
 * principal is the certificate's subject (mTLS); otherwise User:ANONYMOUS.
 */
export function sessionFor(socket: { remoteAddress?: string | undefined }): Session {
  const host = socket.remoteAddress ?? '?';
  if (!('encrypted' in socket)) return new Session(host, false);
  const session = new Session(host, true);
  const tlsSocket = socket as TLSSocket;
  if (tlsSocket.authorized) {
    const certificate = tlsSocket.getPeerX509Certificate();
    if (certificate !== undefined) session.authenticate(principalFromSubject(certificate.subject), null);
  }
  return session;
}
