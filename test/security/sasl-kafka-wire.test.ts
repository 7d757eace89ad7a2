// Proves the Kafka wire's SASL and SCRAM-user APIs byte for byte through the codec, with the
// broker in this process: SaslHandshake v1 + SaslAuthenticate v2 (flexible) with a SCRAM-SHA-256
// client, then AlterUserScramCredentials v0 (salt and SaltedPassword, as Kafka's AdminClient
// sends them) creates a user who then logs in with SCRAM-SHA-512, DescribeUserScramCredentials
// v0 lists mechanisms (1, 2) and iterations, an unknown user is RESOURCE_NOT_FOUND, a duplicate
// DUPLICATE_RESOURCE (SaslHandshake v0 and raw tokens: sasl-kafka-raw-tokens.test.ts);
// more than maxUsersPerRequest entries are refused whole (bare INVALID_REQUEST, close).

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Broker } from '../../src/broker/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { saltedPasswordSync, type ScramMechanism } from '../../src/util/scram.js';
import { tempDir } from '../helpers/broker.js';
import { bareError, KafkaWire } from '../kafka-clients/raw-kafka.js';

let broker: Broker;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir, {
    sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], failedAuthenticationDelayMs: 1 },
    // Authentication only: ACLs (on by default with SASL) are acl-matrix.test.ts's.
    authorizer: 'none',
    bootstrapUser: { name: 'admin', password: 'admin-pw' },
    superUsers: [],
  });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function login(mechanism: ScramMechanism, user: string, password: string): Promise<KafkaWire> {
  const wire = await KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
  const handshake = await wire.request(ApiKeys.SaslHandshake, 1, { mechanism });
  expect(handshake).toEqual({ errorCode: 0, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] });
  const scram = new ScramClient(mechanism, user, password);
  const first = await wire.request(ApiKeys.SaslAuthenticate, 2, { authBytes: scram.first() });
  expect(first.errorCode).toBe(0);
  const final = await wire.request(ApiKeys.SaslAuthenticate, 2, { authBytes: await scram.final(first.authBytes) });
  expect(final.errorCode, final.errorMessage ?? '').toBe(0);
  scram.verify(final.authBytes);
  return wire;
}

describe('SASL and SCRAM users on the Kafka wire', () => {
  it('creates a user with AlterUserScramCredentials, who logs in; Describe lists mechanisms', async () => {
    const admin = await login('SCRAM-SHA-256', 'admin', 'admin-pw');
    const salt = randomBytes(16);
    const altered = await admin.request(ApiKeys.AlterUserScramCredentials, 0, {
      deletions: [{ name: 'nobody', mechanism: 1 }],
      upsertions: [{ name: 'bob', mechanism: 2, iterations: 8192, salt, saltedPassword: saltedPasswordSync('SCRAM-SHA-512', 'bob-pw', salt, 8192) }],
    });
    expect(altered.results).toEqual([
      { user: 'nobody', errorCode: KafkaErrors.RESOURCE_NOT_FOUND, errorMessage: expect.stringContaining('nobody') },
      { user: 'bob', errorCode: 0, errorMessage: null },
    ]);
    const described = await admin.request(ApiKeys.DescribeUserScramCredentials, 0, { users: [{ name: 'bob' }, { name: 'ghost' }, { name: 'admin' }, { name: 'admin' }] });
    expect(described.errorCode).toBe(0);
    expect(described.results.map((r) => [r.user, r.errorCode, r.credentialInfos])).toEqual([
      ['bob', 0, [{ mechanism: 2, iterations: 8192 }]],
      ['ghost', KafkaErrors.RESOURCE_NOT_FOUND, []],
      ['admin', KafkaErrors.DUPLICATE_RESOURCE, []],
    ]);
    await admin.close();
    const bob = await login('SCRAM-SHA-512', 'bob', 'bob-pw');
    const metadata = await bob.request(ApiKeys.Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    expect(metadata.brokers).toHaveLength(1);
    await bob.close();
  });

  it('refuses more than maxUsersPerRequest entries before any work', async () => {
    const admin = await login('SCRAM-SHA-256', 'admin', 'admin-pw');
    const { bytes, correlationId } = admin.frame(ApiKeys.DescribeUserScramCredentials, 0, { users: Array.from({ length: 1001 }, (_, i) => ({ name: `u${i}` })) });
    admin.write(bytes);
    expect(bareError((await admin.next())!)).toEqual({ correlationId, errorCode: KafkaErrors.INVALID_REQUEST });
    await admin.closed;
  });
});
