// Who is on the other end of a connection, as security sees it: one Session per connection,
// made when the socket is accepted, read by every request through RequestScope.session.
// TLS sets `principal` from a client certificate's subject (mTLS); SASL sets it when an
// exchange succeeds; the authoriser and the quotas read it. Without TLS client auth or SASL
// every connection is User:ANONYMOUS (Kafka's name), and `authenticated` stays false.

export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

export class Session {
  /** Kafka's principal string: `User:<name>`. */
  principal = ANONYMOUS_PRINCIPAL;
  /** True once TLS client auth or a SASL exchange named the principal. */
  authenticated = false;
  /** The SASL mechanism that authenticated the connection ('SCRAM-SHA-256'...), or null. */
  mechanism: string | null = null;
  /**
   * Monotonic ms at which the SASL session ends unless the client re-authenticates (KIP-368,
   * `connectionsMaxReauthMs`), or null when it does not expire. Set by security/sasl.ts.
   */
  expiresAtMs: number | null = null;

  constructor(
    /** The client's address, without the port (ACL host matching, failed-login rate limits). */
    readonly host: string,
    /** True when the connection arrived over TLS. */
    readonly tls: boolean,
  ) {}

  /** Names the connection's principal (TLS subject or SASL user). */
  authenticate(principal: string, mechanism: string | null): void {
    this.principal = principal;
    this.authenticated = true;
    this.mechanism = mechanism;
  }
}
