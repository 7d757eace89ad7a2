// Proves that in cluster mode a user deleted through one broker loses its authenticated
// connections on the other brokers at once: a real etcd and three real `spool serve --cluster`
// processes (the built CLI, run `npm run build` first) with `--sasl scram-sha-256`; bob logs in
// over raw native connections to brokers 2 and 3, admin deletes bob through broker 1, and both
// connections are closed by their brokers (their etcd watch replaced the credentials), each
// logging the line that names User:bob; admin's own connection to broker 2 stays.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { RawClient } from '../helpers/raw-client.js';

const ADMIN = { mechanism: 'scram-sha-256' as const, username: 'admin', password: 'admin-secret' };
let etcd: TestEtcd;
const brokers: BrokerProcess[] = [];
const closers: Array<() => Promise<void> | void> = [];

async function rawLogin(broker: BrokerProcess, user: string, password: string): Promise<RawClient> {
  const raw = await RawClient.connect(Number(broker.address.split(':')[1]));
  closers.push(() => raw.close());
  expect((await raw.request(ApiKey.SaslHandshake, { mechanism: 'SCRAM-SHA-256' })).header['errorCode']).toBe(0);
  const scram = new ScramClient('SCRAM-SHA-256', user, password);
  const first = await raw.request<{ authBytes: Uint8Array }>(ApiKey.SaslAuthenticate, { authBytes: scram.first() });
  const final = await raw.request<{ errorCode: number }>(ApiKey.SaslAuthenticate, { authBytes: await scram.final(Buffer.from(first.header.authBytes)) });
  expect(final.header.errorCode).toBe(0);
  return raw;
}

beforeAll(async () => {
  etcd = await startEtcd();
  brokers.push(
    ...(await Promise.all(
      [1, 2, 3].map((nodeId) =>
        startBroker({
          args: ['--cluster', etcd.url, '--node-id', String(nodeId), '--cluster-lease-ttl-ms', '2000', '--http', 'off', '--sasl', 'scram-sha-256', '--super-users', 'User:admin', '--inter-broker-user', 'admin', '--inter-broker-mechanism', 'scram-sha-256'],
          env: { SPOOL_BOOTSTRAP_USER: `admin:${ADMIN.password}`, SPOOL_INTER_BROKER_PASSWORD: ADMIN.password },
        }),
      ),
    )),
  );
  await waitFor(() => brokers.every((broker) => /shared through etcd/.test(broker.stderr())), 15_000, 50);
}, 30_000);

afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await Promise.all(brokers.map((broker) => broker.kill()));
  for (const broker of brokers) broker.cleanup();
  await etcd?.destroy();
});

describe('a deleted user in a cluster', () => {
  it('loses its connections on every broker when deleted through one', async () => {
    const [one, two, three] = brokers as [BrokerProcess, BrokerProcess, BrokerProcess];
    const admin = new Client({ brokers: [one.address], retry: { retries: 0 }, sasl: ADMIN });
    closers.push(() => admin.close());
    await admin.admin().alterUserScramCredentials([{ kind: 'upsert', user: 'bob', mechanism: 'SCRAM-SHA-256', password: 'bob-secret' }]);
    // bob exists on 2 and 3 once their watch applied the version.
    let bobOnTwo: RawClient | null = null;
    let bobOnThree: RawClient | null = null;
    await waitFor(async () => {
      try {
        bobOnTwo ??= await rawLogin(two, 'bob', 'bob-secret');
        bobOnThree ??= await rawLogin(three, 'bob', 'bob-secret');
        return true;
      } catch {
        return false;
      }
    }, 10_000, 50);
    const adminOnTwo = await rawLogin(two, 'admin', ADMIN.password);

    await admin.admin().alterUserScramCredentials([{ kind: 'delete', user: 'bob', mechanism: 'SCRAM-SHA-256' }]);
    await Promise.all([bobOnTwo!.closed, bobOnThree!.closed]);
    // The broker's log line reaches its stderr pipe after the socket closed: wait for it, do not race it.
    const revoked = /closed 1 connection\(s\) authenticated as User:bob: its credential was deleted/;
    for (const broker of [two, three]) await waitFor(() => revoked.test(broker.stderr()), 5_000, 20);
    expect((await adminOnTwo.request(ApiKey.Metadata, {})).header['errorCode']).toBe(0);
  }, 30_000);
});
