// Fuzzes the SASL exchange over real TCP on both listeners of an in-process broker with
// SASL on: seeded random sequences of handshakes (valid, unknown, PLAIN without TLS,
// repeated), client-first and client-final messages (valid, built with a wrong password,
// wrong nonce, changed binding, random proof, truncated, bit-flipped, huge, not UTF-8, empty),
// authenticates out of order, raw tokens (the framing after SaslHandshake v0, some with a
// size field that lies), and gated requests pipelined behind them. Checks: the broker
// never crashes and never answers a gated request (Metadata) with success or a final SCRAM
// step with `v=` on a connection that never sent a correct proof; every fuzz connection is
// closed by the broker in the end; afterwards a real client still authenticates and works.
// The seed is printed on failure (SASL_FUZZ_SEED=<n> replays it).

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { Broker } from '../../src/broker/index.js';
import { Client } from '../../src/client/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKeys } from '../../src/kafka/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { ScramLimits } from '../../src/util/scram.js';
import { Prng } from '../helpers/fuzz-corpus.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { bareError, KafkaWire } from '../kafka-clients/raw-kafka.js';

const SEED = Number(process.env['SASL_FUZZ_SEED'] ?? Date.now() % 1_000_000);
const CONNECTIONS = 150;

let broker: Broker;
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir, {
    sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'], failedAuthenticationDelayMs: 0, maxFailuresPerHost: 1_000_000 },
    // Authentication only: ACLs (on by default with SASL) are acl-matrix.test.ts's.
    authorizer: 'none',
    bootstrapUser: { name: 'alice', password: 'right' },
    superUsers: [],
  });
});

afterAll(async () => {
  await broker?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** A SASL message to send: valid, or broken one of many ways. */
async function message(prng: Prng, kind: 'first' | 'final', scram: ScramClient, serverFirst: Buffer | null): Promise<Buffer> {
  const valid = kind === 'first' || serverFirst === null ? scram.first() : await scram.final(serverFirst).catch(() => scram.first());
  switch (prng.int(12)) {
    case 0:
    case 1:
    case 2:
      return valid;
    case 3: {
      const bytes = Buffer.from(valid);
      for (let i = 0, flips = prng.range(1, 4); i < flips; i++) { const at = prng.int(bytes.length); bytes[at] = bytes[at]! ^ (1 << prng.int(8)); }
      return bytes;
    }
    case 4:
      return valid.subarray(0, prng.int(valid.length));
    case 5:
      return Buffer.concat([valid, Buffer.from(prng.pick([',x=1', ',m=1', ',tokenauth=true', ',,', '\u0000', ',p=AAAA']))]);
    case 6:
      return Buffer.alloc(prng.pick([ScramLimits.maxMessageBytes + 1, 60_000]), prng.pick([0x61, 0x2c, 0x3d, 0x00]));
    case 7:
      return Buffer.from([0xff, 0xfe, 0xc3, 0x28]);
    case 8:
      return Buffer.alloc(0);
    case 9:
      return Buffer.from(valid.toString().replace(/r=([^,]+)/, (_m, nonce: string) => `r=${prng.pick([nonce.slice(0, -1), `${nonce}x`, 'abcdefghijkl', nonce.toUpperCase()])}`));
    case 10:
      return Buffer.from(valid.toString().replace(/^c=[^,]*/, prng.pick(['c=', 'c=eSws', 'c=biws==', 'c=cCx0bHM='])));
    default:
      return Buffer.from(valid.toString().replace(/p=.*/, `p=${Buffer.from(Array.from({ length: prng.pick([32, 64, 3]) }, () => prng.int(256))).toString('base64')}`));
  }
}

describe('SASL fuzz', () => {
  it(`no crash and no bypass over ${CONNECTIONS} random native exchanges (seed ${SEED})`, async () => {
    const prng = new Prng(SEED);
    let reachedFinal = 0;
    for (let connection = 0; connection < CONNECTIONS; connection++) {
      const raw = await RawClient.connect(broker.port);
      const mechanism = prng.pick(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const);
      // Never the right password: no exchange here may succeed.
      const scram = new ScramClient(mechanism, prng.pick(['alice', 'mallory', 'al=2Cice']), prng.pick(['wrong', 'right ', 'RIGHT']));
      const gated: Array<Promise<unknown>> = [];
      const finals: Array<Promise<unknown>> = [];
      let serverFirst: Buffer | null = null;
      // RawClient forgets a request sent after the close: race each one with the close.
      const closed = raw.closed.then(() => Promise.reject(new Error('closed')));
      closed.catch(() => undefined); // Safe: each race below reports the close.
      const request = <H>(apiKey: number, header: unknown) => {
        const answer = raw.request<H>(apiKey, header);
        answer.catch(() => undefined); // Safe: the race reports the close.
        return Promise.race([answer, closed]);
      };
      // Mostly the exchange's own order (handshake, first, final), with random extra steps.
      const plan: number[] = [];
      if (prng.int(5) > 0) plan.push(0);
      plan.push(1, 1);
      for (let extra = prng.int(4); extra > 0; extra--) plan.splice(prng.int(plan.length + 1), 0, prng.int(6));
      for (const action of plan) {
        if (raw.isClosed) break;
        const pipelined = prng.int(3) === 0;
        if (action === 0) {
          const answer = request(ApiKey.SaslHandshake, { mechanism: prng.int(3) > 0 ? mechanism : prng.pick(['PLAIN', 'SCRAM-SHA-1', 'GSSAPI', '', 'x'.repeat(1000)]) }).catch(() => undefined);
          if (!pipelined) await answer;
        } else if (action <= 2) {
          const kind = serverFirst === null ? 'first' : 'final';
          const answer = request<{ errorCode: number; authBytes?: Uint8Array }>(ApiKey.SaslAuthenticate, { authBytes: await message(prng, kind, scram, serverFirst) });
          const checked = answer.then(
            (response) => {
              const text = Buffer.from(response.header.authBytes ?? []).toString();
              if (response.header.errorCode === 0 && text.startsWith('r=')) {
                serverFirst = Buffer.from(text);
                reachedFinal++;
              }
              return text;
            },
            () => '',
          );
          finals.push(checked);
          if (!pipelined) await checked;
        } else if (action === 3) {
          gated.push(request<{ errorCode: number }>(ApiKey.Metadata, {}).then((response) => response.header.errorCode, () => 'closed'));
        } else if (action === 4) {
          // A frame with a malformed body for a SASL api: answered INVALID_REQUEST or the connection closes.
          raw.writeRaw(Buffer.from([0, 0, 0, 12, 0, 0, 0x7f, 0, 0, ApiKey.SaslAuthenticate, 0, 0, 0, 0, 0, 1]));
        } else {
          gated.push(request<{ errorCode: number }>(prng.pick([ApiKey.CreateTopics, ApiKey.DescribeUserScramCredentials, ApiKey.DeleteTopics]), { topics: [], names: [] }).then((r) => r.header.errorCode, () => 'closed'));
        }
      }
      // A gated request at the end: it must be refused (or find the connection closed).
      gated.push(request<{ errorCode: number }>(ApiKey.Metadata, {}).then((response) => response.header.errorCode, () => 'closed'));
      for (const result of await Promise.all(gated)) expect([64, 'closed'], `seed ${SEED} connection ${connection}`).toContain(result);
      for (const text of await Promise.all(finals)) expect(String(text).startsWith('v='), `seed ${SEED} connection ${connection}`).toBe(false);
      await raw.closed;
    }
    // The generator gets past the first message often enough for the final step to be fuzzed.
    expect(reachedFinal, `seed ${SEED}`).toBeGreaterThan(15);
  });

  it(`no bypass on the Kafka listener either (seed ${SEED})`, async () => {
    const prng = new Prng(SEED + 1);
    for (let connection = 0; connection < 40; connection++) {
      const wire = await KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
      const scram = new ScramClient('SCRAM-SHA-512', 'alice', 'wrong');
      const metadataIds: number[] = [];
      for (let step = 0, steps = prng.range(1, 5); step < steps; step++) {
        const action = prng.int(5);
        if (action === 0) wire.write(wire.frame(ApiKeys.SaslHandshake, prng.pick([0, 1, 1]), { mechanism: prng.pick(['SCRAM-SHA-512', 'PLAIN', 'NOPE']) }).bytes);
        else if (action === 1) wire.write(wire.frame(ApiKeys.SaslAuthenticate, prng.range(0, 2), { authBytes: await message(prng, 'first', scram, null) }).bytes);
        else if (action === 2) {
          // A raw token (the framing after SaslHandshake v0), sometimes with a size over every limit
          // (one that lies under the request limit only stalls the stream until the read timeout).
          const token = await message(prng, 'first', scram, null);
          const size = Buffer.alloc(4);
          size.writeInt32BE(prng.int(4) === 0 ? 0x7fff_ffff : token.length, 0);
          wire.write(Buffer.concat([size, token]));
        } else {
          const { bytes, correlationId } = wire.frame(ApiKeys.Metadata, 4, { topics: null, allowAutoTopicCreation: false });
          metadataIds.push(correlationId);
          wire.write(bytes);
        }
      }
      const { bytes, correlationId } = wire.frame(ApiKeys.Metadata, 4, { topics: null, allowAutoTopicCreation: false });
      metadataIds.push(correlationId);
      wire.write(bytes);
      await wire.closed;
      for (const frame of wire.frames) {
        // A raw server-final (`v=...`) would mean a wrong password passed.
        expect(frame.toString('latin1').startsWith('v='), `seed ${SEED}`).toBe(false);
        if (frame.length < 4) continue;
        const id = frame.readInt32BE(0);
        if (metadataIds.includes(id)) expect(bareError(frame).errorCode, `seed ${SEED}`).toBe(58);
      }
    }
  });

  it('leaves the broker serving: a real client authenticates and works, fuzz connections are gone', async () => {
    await waitFor(() => broker.connectionCount === 0, 10_000);
    const client = new Client({ brokers: [`127.0.0.1:${broker.port}`], sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'right' } });
    try {
      await client.admin().createTopics({ topics: [{ topic: 'after-fuzz', numPartitions: 1 }] });
      expect(await client.admin().listTopics()).toContain('after-fuzz');
    } finally {
      await client.close();
    }
  });
});
