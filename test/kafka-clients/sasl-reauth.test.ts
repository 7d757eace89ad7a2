// Proves what a librdkafka that does not re-authenticate (kcat on Debian's librdkafka 2.0.2;
// KIP-368 support came in librdkafka 2.2) meets on `spool serve --sasl scram-sha-512
// --connections-max-reauth-ms 2000`: the broker closes its connection when the 2 s session ends,
// without an answer (as Kafka's broker), and logs why; kcat, whose only broker is then down,
// stops after ~2000 ms in state UP; a new kcat logs in and reads, and the SDK, which
// re-authenticates in place, produced on its first connection meanwhile. kafkajs and the SDK
// re-authenticating are test/security/sasl-revoke-reauth.test.ts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '../../src/client/index.js';
import { randomTopic, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { run } from './helpers.js';

const ADMIN = { mechanism: 'scram-sha-512' as const, username: 'admin', password: 'admin-secret' };

describe('--connections-max-reauth-ms with librdkafka 2.0.2 (kcat)', () => {
  let broker: BrokerProcess;
  let client: Client;

  beforeAll(async () => {
    broker = await startBroker({
      args: ['--kafka-listener', '127.0.0.1:0', '--sasl', 'scram-sha-512', '--authorizer', 'none', '--connections-max-reauth-ms', '2000'],
      env: { SPOOL_BOOTSTRAP_USER: `admin:${ADMIN.password}` },
    });
    client = new Client({ brokers: [broker.address], sasl: ADMIN });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.stop();
    broker?.cleanup();
  });

  it('closes the connection of a librdkafka that does not re-authenticate; a new login works', async () => {
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    await client.producer().send({ topic, messages: [{ value: 'before' }] });
    const kcat = (extra: string[]) =>
      run('kcat', ['-b', broker.kafkaAddress!, '-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=SCRAM-SHA-512', '-X', 'sasl.username=admin', '-X', `sasl.password=${ADMIN.password}`, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-f', '%s\n', ...extra], { timeoutMs: 20_000 });
    // A consumer that waits for a second record: its connection is closed ~2 s after the login
    // (librdkafka 2.0.2 ignores session_lifetime_ms), and kcat, with its only broker down, stops.
    const waiting = await kcat(['-c', '2']);
    expect(waiting.stdout).toBe('before\n');
    // Closed at the session's expiry (2 s after the login), not before; how much later depends on the machine's load.
    const upMs = Number(/Disconnected \(after (\d+)ms in state UP\)/.exec(waiting.stderr)?.[1]);
    expect(upMs).toBeGreaterThanOrEqual(1_900);
    await waitFor(() => /SASL session of User:admin from 127\.0\.0\.1 expired without re-authentication; closing the connection/.test(broker.stderr()), 5_000, 20);
    // The user is still valid: a new connection logs in and reads (the SDK's own connection was re-authenticated in place meanwhile).
    await client.producer().send({ topic, messages: [{ value: 'after' }] });
    const again = await kcat(['-e']);
    expect(again.stdout).toBe('before\nafter\n');
  }, 30_000);
});
