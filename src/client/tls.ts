// TLS on the client side: the `ssl` option as kafkajs spells it (`ssl: true` trusts the
// system CAs; `ssl: { ca, cert, key, rejectUnauthorized, servername }` is handed to
// tls.connect), and the one place where a TLS failure becomes an error that says what went
// wrong and names the broker: an untrusted broker certificate, a client certificate the
// broker refused (or did not get), a TLS client on a plaintext port, a plaintext client on
// a TLS port. All are TLS_HANDSHAKE_FAILED, which is not retriable: trying again with the
// same certificates fails the same way.

import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { Errors, SpoolError } from '../util/errors.js';
import { isTlsAlertRecord, tlsFailureKind } from '../util/tls-failures.js';

/** What `ssl: { ... }` takes: node:tls connect options (the ones spool documents first). */
export type ClientTlsOptions = Pick<TlsConnectionOptions, 'ca' | 'cert' | 'key' | 'passphrase' | 'rejectUnauthorized' | 'servername' | 'minVersion' | 'checkServerIdentity' | 'pfx'>;

/** The `ssl` option of new Client(): false/undefined for plaintext. */
export type ClientSsl = boolean | ClientTlsOptions;

const KNOWN_SSL_OPTIONS = ['ca', 'cert', 'key', 'passphrase', 'rejectUnauthorized', 'servername', 'minVersion', 'checkServerIdentity', 'pfx'];

/** The tls.connect options for `ssl`, or null for plaintext; throws INVALID_REQUEST for a wrong shape. */
export function tlsOptionsOf(ssl: unknown): ClientTlsOptions | null {
  if (ssl === undefined || ssl === false) return null;
  if (ssl === true) return {};
  if (typeof ssl !== 'object' || ssl === null || Array.isArray(ssl)) throw new SpoolError(Errors.INVALID_REQUEST, `new Client(): ssl must be true or an object ({ ca, cert, key, rejectUnauthorized, servername }), got ${typeof ssl}`);
  const unknown = Object.keys(ssl).filter((name) => !KNOWN_SSL_OPTIONS.includes(name));
  if (unknown.length > 0) throw new SpoolError(Errors.INVALID_REQUEST, `new Client(): unknown ssl option${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (options: ${KNOWN_SSL_OPTIONS.join(', ')})`);
  return ssl as ClientTlsOptions;
}

/**
 * The TLS_HANDSHAKE_FAILED error for a socket error on a TLS connection, or null when the
 * error is not about TLS. `secured`: the handshake had completed (a TLS 1.3 server refuses
 * a client certificate after the client thinks it is done).
 */
export function tlsFailure(address: string, error: Error, secured: boolean): SpoolError | null {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const fail = (what: string): SpoolError => new SpoolError(Errors.TLS_HANDSHAKE_FAILED, `TLS handshake with broker ${address} failed: ${what}`, { cause: error });
  switch (tlsFailureKind(error, secured)) {
    case 'untrusted':
      return fail(`its certificate is not trusted (${code}: ${error.message}); give the CA that signed it (ssl.ca, --tls-ca)`);
    case 'client-certificate-refused':
      return fail(`the broker refused this client's certificate or its absence (${code}); give a certificate its --tls-ca trusts (ssl.cert and ssl.key, --tls-cert and --tls-key)`);
    case 'ssl':
      return fail(`${code}: ${error.message}`);
    case 'plaintext-server':
      return fail('the broker closed the connection before the handshake finished: is it a plaintext port (no --tls-cert)?');
    case null:
      return null;
  }
}

/** A TLS alert record (content type 21, version 3.x) where a spool frame was expected: a plaintext client on a TLS port. */
export function tlsAnswer(address: string, chunk: Buffer): SpoolError | null {
  if (!isTlsAlertRecord(chunk)) return null;
  return new SpoolError(Errors.TLS_HANDSHAKE_FAILED, `${address} answered with TLS: it is a TLS port; connect with ssl (SDK) or --tls / --tls-ca (CLI)`);
}
