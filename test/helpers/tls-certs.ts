// Certificates for the TLS tests, made with Debian's openssl (/usr/bin/openssl) in a temp
// directory: a CA, a server certificate for 127.0.0.1 (subjectAltName IP:127.0.0.1) and
// client certificates, all signed by the CA, plus a second CA the broker does not trust.
// RSA 2048 and EC P-256 both take milliseconds; EC keys keep the files small.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertPair {
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The CA that signs everything below. */
  ca: CertPair;
  /** Server certificate for IP 127.0.0.1. */
  server: CertPair;
  /** Client certificate, subject /C=US/O=Spool Test/OU=eng/CN=alice. */
  client: CertPair;
  /** The principal Kafka gives `client`. */
  clientPrincipal: string;
  /** A CA that signed nothing here (a client trusting it rejects the server). */
  otherCa: CertPair;
  /** A new server certificate for 127.0.0.1 from the same CA (reload tests). */
  issueServer(name: string, commonName: string): CertPair;
  /** A broker's certificate for 127.0.0.1 from the same CA that also serves as a client certificate (extendedKeyUsage serverAuth, clientAuth): what a broker presents to peers that require client certificates. */
  issuePeer(name: string, commonName: string): CertPair;
  read(path: string): Buffer;
  cleanup(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string, commonName: string): CertPair {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${commonName}`]);
  return { cert, key };
}

function issue(dir: string, ca: CertPair, name: string, subject: string, extensions: string): CertPair {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', subject]);
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { cert, key };
}

const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
const CLIENT_EXTENSIONS = 'extendedKeyUsage=clientAuth\n';
const PEER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n';

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'spool-tls-'));
  const ca = makeCa(dir, 'ca', 'spool-test-ca');
  const otherCa = makeCa(dir, 'other-ca', 'some-other-ca');
  const server = issue(dir, ca, 'server', '/CN=127.0.0.1', SERVER_EXTENSIONS);
  const client = issue(dir, ca, 'client', '/C=US/O=Spool Test/OU=eng/CN=alice', CLIENT_EXTENSIONS);
  return {
    dir,
    ca,
    server,
    client,
    clientPrincipal: 'User:CN=alice,OU=eng,O=Spool Test,C=US',
    otherCa,
    issueServer: (name, commonName) => issue(dir, ca, name, `/CN=${commonName}`, SERVER_EXTENSIONS),
    issuePeer: (name, commonName) => issue(dir, ca, name, `/CN=${commonName}`, PEER_EXTENSIONS),
    read: (path) => readFileSync(path),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
