// Proves `spool serve`'s TLS flags on a child broker process, with certificates made by
// openssl in a temp dir: SIGHUP reloads the certificate files (a new connection sees the new
// certificate's subject while an SDK connection made before keeps working on the same
// socket; a broken file at reload keeps the old certificate, says so, and prints no key
// bytes); the admin HTTP port serves HTTPS with the same certificate, or stays plain with
// --tls-listeners native,kafka; the CLI's --tls-ca/--tls reach a TLS broker and a missing
// --tls-ca is a one-line error naming the broker; inconsistent serve flags are refused.

import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpsGet, request as httpsRequest } from 'node:https';
import { get as httpGet } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { sh, SPOOL } from '../cli/run.js';
import { randomTopic, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { makeTestCerts } from '../helpers/tls-certs.js';

const certs = makeTestCerts();
const liveCert = join(certs.dir, 'live.pem');
const liveKey = join(certs.dir, 'live.key');
copyFileSync(certs.server.cert, liveCert);
copyFileSync(certs.server.key, liveKey);

const brokers: BrokerProcess[] = [];
const clients: Client[] = [];
afterAll(async () => {
  for (const client of clients) await client.close();
  for (const broker of brokers) {
    await broker.stop();
    broker.cleanup();
  }
  certs.cleanup();
});

async function serve(args: string[]): Promise<BrokerProcess> {
  const broker = await startBroker({ args });
  brokers.push(broker);
  return broker;
}

/** The common name of the certificate a new TLS connection to `port` is shown. */
function servedCommonName(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(certs.ca.cert) }, () => {
      const name = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(name));
    });
    socket.once('error', reject);
  });
}

function httpStatus(get: typeof httpsGet | typeof httpGet, url: string, options: { ca?: Buffer } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = get(url, options, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.once('error', reject);
  });
}

/** POST /api/topics over HTTPS with this Origin header; the status. */
function consolePost(address: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      `https://${address}/api/topics`,
      { method: 'POST', ca: readFileSync(certs.ca.cert), headers: { origin, 'content-type': 'application/json' } },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    request.once('error', reject);
    request.end(JSON.stringify({ name: randomTopic('https'), partitions: 1 }));
  });
}

describe('spool serve with TLS', () => {
  it('SIGHUP: new connections get the new certificate, an open connection keeps working, a bad file keeps the old one', async () => {
    const broker = await serve(['--tls-cert', liveCert, '--tls-key', liveKey]);
    const client = new Client({ brokers: [broker.address], ssl: { ca: readFileSync(certs.ca.cert) } });
    clients.push(client);
    let connects = 0;
    client.on('connect', () => connects++);
    const topic = randomTopic('reload');
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'before' }] });
    expect(await servedCommonName(broker.port)).toBe('127.0.0.1');
    const connectsBefore = connects;

    const renewed = certs.issueServer('renewed', 'renewed-server');
    copyFileSync(renewed.cert, liveCert);
    copyFileSync(renewed.key, liveKey);
    broker.child.kill('SIGHUP');
    await waitFor(() => broker.stderr().includes('SIGHUP: reloaded TLS certificates'));
    expect(await servedCommonName(broker.port)).toBe('renewed-server');
    // The connection made before the reload carries on: same socket, no reconnect.
    await producer.send({ topic, messages: [{ value: 'after' }] });
    expect(connects).toBe(connectsBefore);

    // A key that does not match (a half-finished renewal): the reload is refused, the renewed certificate stays.
    copyFileSync(certs.client.key, liveKey);
    broker.child.kill('SIGHUP');
    await waitFor(() => broker.stderr().includes('TLS reload failed, keeping the certificates in use'));
    expect(await servedCommonName(broker.port)).toBe('renewed-server');
    expect(broker.stderr()).not.toContain(readFileSync(certs.client.key, 'utf8').split('\n')[1]!);
    await producer.send({ topic, messages: [{ value: 'still' }] });
    await producer.close();
    expect(broker.child.exitCode).toBeNull();
  });

  it('serves HTTPS on the admin port with the same certificate, or plain HTTP with --tls-listeners native,kafka', async () => {
    const both = await serve(['--tls-cert', certs.server.cert, '--tls-key', certs.server.key]);
    expect(await httpStatus(httpsGet, `https://${both.httpAddress!}/healthz`, { ca: readFileSync(certs.ca.cert) })).toBe(200);
    // The console's same-origin check knows its origin is https:// now.
    expect(await consolePost(both.httpAddress!, `https://${both.httpAddress!}`)).toBe(201);
    expect(await consolePost(both.httpAddress!, `http://${both.httpAddress!}`)).toBe(403);
    const plainHttp = await serve(['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-listeners', 'native,kafka']);
    expect(await httpStatus(httpGet, `http://${plainHttp.httpAddress!}/healthz`)).toBe(200);
    // The native port of that broker is still TLS only.
    expect(await servedCommonName(plainHttp.port)).toBe('127.0.0.1');
  });

  it('CLI: --tls-ca reaches a TLS broker; without it, one line naming the broker; inconsistent serve flags are refused', async () => {
    const broker = await serve(['--tls-cert', certs.server.cert, '--tls-key', certs.server.key, '--tls-ca', certs.ca.cert, '--tls-client-auth', 'required', '--authorizer', 'none']); // ACLs (on by default with mTLS) are acl-matrix.test.ts's
    const topic = randomTopic('cli-tls');
    const mtls = `--tls-ca '${certs.ca.cert}' --tls-cert '${certs.client.cert}' --tls-key '${certs.client.key}'`;
    const created = await sh(`${SPOOL} -b ${broker.address} topic create ${topic} ${mtls}`);
    expect(created.code, created.stderr).toBe(0);
    const produced = await sh(`printf 'a\\nb\\n' | ${SPOOL} -b ${broker.address} produce ${topic} ${mtls}`);
    expect(produced.code, produced.stderr).toBe(0);
    const consumed = await sh(`${SPOOL} -b ${broker.address} consume ${topic} --from-beginning --max-messages 2 ${mtls}`);
    expect(consumed.stdout).toBe('a\nb\n');
    const noCert = await sh(`${SPOOL} -b ${broker.address} topic list --tls-ca '${certs.ca.cert}'`);
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toMatch(new RegExp(`^spool: TLS handshake with broker ${broker.address} failed: the broker refused this client's certificate`));
    const systemCas = await sh(`${SPOOL} -b ${broker.address} topic list --tls`);
    expect(systemCas.stderr).toMatch(/its certificate is not trusted .*\(TLS_HANDSHAKE_FAILED\)\n$/);
    const plaintext = await sh(`${SPOOL} -b ${broker.address} topic list`);
    expect(plaintext.stderr).toMatch(/a TLS port\? connect with ssl \/ --tls-ca/);
    expect(plaintext.elapsedMs).toBeLessThan(5000);

    const bad = await sh(`${SPOOL} serve --data-dir ${certs.dir}/d --port 0 --http off --tls-cert '${certs.server.cert}'`);
    expect(bad.stderr).toBe('spool: --tls-cert and --tls-key go together\n');
    const noCa = await sh(`${SPOOL} serve --data-dir ${certs.dir}/d --port 0 --http off --tls-cert '${certs.server.cert}' --tls-key '${certs.server.key}' --tls-client-auth required`);
    expect(noCa.stderr).toBe('spool: --tls-client-auth required needs --tls-ca: the CAs client certificates must chain to (TLS_CONFIG_INVALID)\n');
    writeFileSync(join(certs.dir, 'empty.pem'), '');
    const empty = await sh(`${SPOOL} serve --data-dir ${certs.dir}/d --port 0 --http off --tls-cert '${certs.dir}/empty.pem' --tls-key '${certs.server.key}'`);
    expect(empty.stderr).toMatch(/--tls-cert .*empty.pem is not a PEM file/);
  });
});
