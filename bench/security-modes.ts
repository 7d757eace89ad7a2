// How a benchmark's own broker and its clients are secured, shared by bench/sdk-e2e.ts
// (--tls, --sasl) and bench/security.ts (its modes). TLS: certificates made with openssl in
// a temp dir as the tests make them (test/helpers/tls-certs.ts); the broker gets
// --tls-cert/--tls-key, the client ssl: { ca }. SASL: the broker gets `--sasl <mechanism>`,
// a bootstrap user (SPOOL_BOOTSTRAP_USER, a random password made here) and
// `--super-users User:<it>`, so the ACLs that --sasl turns on let the bench do anything
// without an ACL setup step (a super user skips the ACL lookup, as Kafka's does); the client
// gets sasl: { mechanism, username, password }.

import { randomBytes } from 'node:crypto';
import { makeTestCerts } from '../test/helpers/tls-certs.js';

export const SASL_MECHANISMS = ['scram-sha-256', 'scram-sha-512'] as const;
export type BenchSaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface BenchSecurity {
  /** Extra `spool serve` flags. */
  brokerArgs: string[];
  /** Extra environment of the broker process. */
  brokerEnv: Record<string, string>;
  /** Extra Client options (ssl, sasl). */
  clientConfig: { ssl?: { ca: Buffer }; sasl?: { mechanism: BenchSaslMechanism; username: string; password: string } };
  /** A short label for output lines: 'plaintext', 'TLS', 'SCRAM-SHA-512', 'SCRAM-SHA-512+TLS'. */
  label: string;
  /** Deletes the certificates' temp dir (if any). */
  cleanup(): void;
}

export const BENCH_SASL_USER = 'bench';

export function parseSaslMechanism(text: string | undefined): BenchSaslMechanism {
  if (!SASL_MECHANISMS.includes(text as BenchSaslMechanism)) throw new Error(`--sasl wants one of ${SASL_MECHANISMS.join(', ')}, got ${text}`);
  return text as BenchSaslMechanism;
}

export function benchSecurity(options: { tls: boolean; sasl?: BenchSaslMechanism }): BenchSecurity {
  const certs = options.tls ? makeTestCerts() : null;
  const brokerArgs: string[] = [];
  const brokerEnv: Record<string, string> = {};
  const clientConfig: BenchSecurity['clientConfig'] = {};
  if (certs) {
    brokerArgs.push('--tls-cert', certs.server.cert, '--tls-key', certs.server.key);
    clientConfig.ssl = { ca: certs.read(certs.ca.cert) };
  }
  if (options.sasl) {
    const password = randomBytes(12).toString('hex');
    brokerArgs.push('--sasl', options.sasl, '--super-users', `User:${BENCH_SASL_USER}`);
    brokerEnv['SPOOL_BOOTSTRAP_USER'] = `${BENCH_SASL_USER}:${password}`;
    clientConfig.sasl = { mechanism: options.sasl, username: BENCH_SASL_USER, password };
  }
  const parts = [options.sasl?.toUpperCase(), certs ? 'TLS' : undefined].filter((part) => part !== undefined);
  return { brokerArgs, brokerEnv, clientConfig, label: parts.length > 0 ? parts.join('+') : 'plaintext', cleanup: () => certs?.cleanup() };
}
