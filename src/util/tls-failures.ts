// What a failed TLS connection means, from node's socket error: the one place that knows
// OpenSSL's verify codes and alert names, shared by the SDK (client/tls.ts, which words it
// for users: ssl.ca, --tls-ca) and the broker's own connections to its peers
// (broker/peer-connection.ts, which words it for operators: the broker's --tls-* flags).

/** OpenSSL's verify codes for a server certificate the client does not trust. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Alerts a server sends when it refuses the client's certificate or its absence. */
const CLIENT_CERT_REFUSED = /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE|ACCESS_DENIED|CERTIFICATE_EXPIRED|UNSUPPORTED_CERTIFICATE)/;

/**
 * - `untrusted`: the server's certificate does not verify (CA, expiry, name);
 * - `client-certificate-refused`: the server refused this client's certificate or its absence;
 * - `ssl`: another OpenSSL failure;
 * - `plaintext-server`: the server closed the connection during the handshake (a plaintext port);
 * - null: not about TLS.
 * `secured`: the handshake had completed (a TLS 1.3 server refuses a client certificate after
 * the client thinks it is done).
 */
export type TlsFailureKind = 'untrusted' | 'client-certificate-refused' | 'ssl' | 'plaintext-server';

export function tlsFailureKind(error: Error, secured: boolean): TlsFailureKind | null {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  if (UNTRUSTED.has(code)) return 'untrusted';
  if (CLIENT_CERT_REFUSED.test(code)) return 'client-certificate-refused';
  if (code.startsWith('ERR_SSL_')) return 'ssl';
  if (!secured && (code === 'ECONNRESET' || code === 'EPIPE')) return 'plaintext-server';
  return null;
}

/** A TLS alert record (content type 21, version 3.x) where a spool frame was expected: a plaintext client on a TLS port. */
export function isTlsAlertRecord(chunk: Buffer): boolean {
  return chunk.length >= 3 && chunk[0] === 0x15 && chunk[1] === 0x03 && chunk[2]! <= 0x04;
}
