// Proves Kafka's legacy SASL exchange on the Kafka listener byte for byte, over a raw socket
// against an in-process broker with SASL on: after a SaslHandshake v0 the SCRAM messages go
// as raw `size:int32 token` frames both ways (no request header, no correlation id), for
// SCRAM-SHA-256 and -512, and Kafka requests follow once the exchange succeeded; the
// handshake and the first token in one write, and fed one byte at a time, work the same. A
// size field over the token limit (4096) closes the connection at once with a log line naming
// it, while another connection (already authenticated) and a new login are unaffected. A wrong
// proof closes without an answer; a request pipelined behind the v0 handshake is read as a
// token and never runs; a v0 handshake that fails (PLAIN without TLS) closes; after the
// exchange a second v0 handshake is only an error (no raw mode).

import { startSaslBroker } from '../helpers/sasl-broker.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { streamLogger, type Broker } from '../../src/broker/index.js';
import { ScramClient } from '../../src/client/sasl.js';
import { ApiKeys, decodeResponse, KafkaErrors } from '../../src/kafka/index.js';
import { ScramLimits, type ScramMechanism } from '../../src/util/scram.js';
import { tempDir, waitFor } from '../helpers/broker.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';

let broker: Broker;
let dataDir: string;
const logLines: string[] = [];
const MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];

beforeAll(async () => {
  dataDir = tempDir();
  broker = await startSaslBroker(dataDir, {
    logger: streamLogger((line) => logLines.push(line), 'info'),
    sasl: { mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'], failedAuthenticationDelayMs: 1, maxFailuresPerHost: 1000 },
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

/** size:int32 token: how a raw SASL token travels after SaslHandshake v0. */
function rawToken(token: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(token.length, 0);
  return Buffer.concat([size, token]);
}

const connect = (): Promise<KafkaWire> => KafkaWire.connect(`127.0.0.1:${broker.kafka!.port}`);
const metadata = (wire: KafkaWire) => wire.request(ApiKeys.Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });

/** The v0 handshake's frame (size prefix included). */
function handshakeV0(wire: KafkaWire, mechanism: string): { bytes: Buffer; correlationId: number } {
  return wire.frame(ApiKeys.SaslHandshake, 0, { mechanism });
}

function expectHandshakeAnswer(frame: Buffer | null, correlationId: number): void {
  expect(frame).not.toBeNull();
  expect(decodeResponse(ApiKeys.SaslHandshake, 0, frame!)).toEqual({ correlationId, body: { errorCode: 0, mechanisms: MECHANISMS } });
}

/** Logs in the legacy way: v0 handshake answered, then the raw client-first and client-final. */
async function rawLogin(mechanism: ScramMechanism, password = 'admin-pw'): Promise<{ wire: KafkaWire; scram: ScramClient; serverFirst: Buffer }> {
  const wire = await connect();
  const { bytes, correlationId } = handshakeV0(wire, mechanism);
  wire.write(bytes);
  expectHandshakeAnswer(await wire.next(), correlationId);
  const scram = new ScramClient(mechanism, 'admin', password);
  wire.write(rawToken(scram.first()));
  const serverFirst = (await wire.next())!;
  return { wire, scram, serverFirst };
}

describe('raw SASL tokens after SaslHandshake v0 (Kafka listener)', () => {
  for (const mechanism of MECHANISMS as ScramMechanism[]) {
    it(`logs in with ${mechanism} as raw tokens, then serves Kafka requests`, async () => {
      const { wire, scram, serverFirst } = await rawLogin(mechanism);
      // The answer is the bare server-first message: no correlation id in front.
      expect(serverFirst.toString('utf8')).toMatch(/^r=[^,]+,s=[^,]+,i=4096$/);
      const clientFinal = await scram.final(serverFirst);
      wire.write(rawToken(clientFinal));
      const serverFinal = (await wire.next())!;
      expect(serverFinal.toString('utf8')).toMatch(/^v=/);
      // The sizes of the README's example (a 32-character client nonce, a 32-byte salt).
      const hashBase64 = mechanism === 'SCRAM-SHA-256' ? 44 : 88;
      expect([scram.first().length, serverFirst.length, clientFinal.length, serverFinal.length]).toEqual([45, 120, 9 + 64 + 3 + hashBase64, 2 + hashBase64]);
      scram.verify(serverFinal);
      expect((await metadata(wire)).brokers).toHaveLength(1);
      await wire.close();
    });
  }

  it('takes the handshake and the first token in one write, and fed one byte at a time', async () => {
    for (const byteByByte of [false, true]) {
      const wire = await connect();
      const scram = new ScramClient('SCRAM-SHA-512', 'admin', 'admin-pw');
      const { bytes, correlationId } = handshakeV0(wire, 'SCRAM-SHA-512');
      const both = Buffer.concat([bytes, rawToken(scram.first())]);
      if (byteByByte) for (let i = 0; i < both.length; i++) wire.write(both.subarray(i, i + 1));
      else wire.write(both);
      expectHandshakeAnswer(await wire.next(), correlationId);
      const serverFirst = (await wire.next())!;
      const final = rawToken(await scram.final(serverFirst));
      if (byteByByte) for (let i = 0; i < final.length; i++) wire.write(final.subarray(i, i + 1));
      else wire.write(final);
      scram.verify((await wire.next())!);
      expect((await metadata(wire)).brokers).toHaveLength(1);
      await wire.close();
    }
  });

  it('a size field over the token limit closes that connection at once; nothing else is affected', async () => {
    const { wire: other, scram, serverFirst } = await rawLogin('SCRAM-SHA-256');
    other.write(rawToken(await scram.final(serverFirst)));
    scram.verify((await other.next())!);
    for (const lie of [ScramLimits.maxMessageBytes + 1, 0x7fff_ffff]) {
      const wire = await connect();
      const { bytes, correlationId } = handshakeV0(wire, 'SCRAM-SHA-512');
      wire.write(bytes);
      expectHandshakeAnswer(await wire.next(), correlationId);
      const size = Buffer.alloc(4);
      size.writeInt32BE(lie, 0);
      // The size and a few bytes of a token that would never come whole.
      wire.write(Buffer.concat([size, Buffer.from('n,,n=admin,r=')]));
      await wire.closed;
      expect(wire.frames).toHaveLength(1);
      await waitFor(() => logLines.some((line) => line.includes(`raw SASL token after SaslHandshake v0: frame of ${lie} bytes is larger than the limit of ${ScramLimits.maxMessageBytes} bytes`)), 5_000);
    }
    // The authenticated connection and a new raw login still work.
    expect((await metadata(other)).brokers).toHaveLength(1);
    const again = await rawLogin('SCRAM-SHA-512');
    again.wire.write(rawToken(await again.scram.final(again.serverFirst)));
    again.scram.verify((await again.wire.next())!);
    await Promise.all([other.close(), again.wire.close()]);
  });

  it('a wrong proof closes the connection without an answer', async () => {
    const { wire, scram, serverFirst } = await rawLogin('SCRAM-SHA-512', 'wrong-pw');
    wire.write(rawToken(await scram.final(serverFirst)));
    await wire.closed;
    expect(wire.frames).toHaveLength(2); // the handshake's answer and server-first, nothing after
    expect(logLines.some((line) => /authentication failed for User:admin with SCRAM-SHA-512 from 127\.0\.0\.1: wrong password/.test(line))).toBe(true);
  });

  it('a request pipelined behind the v0 handshake is read as a token and never runs', async () => {
    const wire = await connect();
    const handshake = handshakeV0(wire, 'SCRAM-SHA-256');
    const request = wire.frame(ApiKeys.Metadata, 9, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    wire.write(Buffer.concat([handshake.bytes, request.bytes]));
    await wire.closed;
    expect(wire.frames).toHaveLength(1);
    expectHandshakeAnswer(wire.frames[0]!, handshake.correlationId);
  });

  it('a v0 handshake for PLAIN without TLS is refused in its answer and closes; no raw mode', async () => {
    const wire = await connect();
    expect(await wire.request(ApiKeys.SaslHandshake, 0, { mechanism: 'PLAIN' })).toEqual({ errorCode: KafkaErrors.UNSUPPORTED_SASL_MECHANISM, mechanisms: MECHANISMS });
    await wire.closed;
  });

  it('after the exchange, a second v0 handshake is ILLEGAL_SASL_STATE and requests stay requests', async () => {
    const { wire, scram, serverFirst } = await rawLogin('SCRAM-SHA-256');
    wire.write(rawToken(await scram.final(serverFirst)));
    scram.verify((await wire.next())!);
    expect(await wire.request(ApiKeys.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' })).toEqual({ errorCode: KafkaErrors.ILLEGAL_SASL_STATE, mechanisms: MECHANISMS });
    expect((await metadata(wire)).brokers).toHaveLength(1);
    await wire.close();
  });
});
