// Proves decoding is total: any byte string either decodes or throws KafkaDecodeError, never
// another exception (RangeError, TypeError, AssertionError) and never a hang. Inputs: random
// bytes; a valid header of every served (api, version) followed by random bytes; valid frames
// with bytes flipped, cut short or spliced. It also checks that nothing allocated grows past
// the input: every decoded array has at most as many elements, and every string and buffer at
// most as many bytes, as the frame (lengths are checked against what is left before use), and
// that lengths claiming gigabytes fail at once. Seeded (fast-check); a failure prints its seed.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_SCHEMAS, type ApiKey, decodeRequest, decodeResponse, encodeRequest, encodeResponse, frameBytes, KafkaDecodeError } from '../../src/kafka/index.js';
import { messageArbitrary } from './arbitrary.js';
import { hex } from './hex.js';

const SEED = 4242;

/**
 * Total array elements + string lengths + bytes of buffers read from `input`, reachable from a
 * decoded value. Defaults of absent fields (the shared zero uuid, "") are not read from the input.
 */
function weight(value: unknown, input: Buffer): number {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return 0;
  // UTF-16 units: never more than the bytes read (invalid UTF-8 becomes one U+FFFD per byte).
  if (typeof value === 'string') return value.length;
  if (Buffer.isBuffer(value)) return value.buffer === input.buffer ? value.length : 0;
  if (Array.isArray(value)) return value.length + value.reduce((sum: number, item) => sum + weight(item, input), 0);
  return Object.values(value as Record<string, unknown>).reduce((sum: number, item) => sum + weight(item, input), 0);
}

/** Decodes; the only exception allowed is KafkaDecodeError. Returns the decoded weight or -1. */
function decodeTotal(input: Buffer, decode: (input: Buffer) => unknown): number {
  try {
    return weight(decode(input), input);
  } catch (error) {
    if (!(error instanceof KafkaDecodeError)) throw error;
    return -1;
  }
}

function header(apiKey: number, apiVersion: number, flexible: boolean): Buffer {
  const bytes = Buffer.alloc(flexible ? 11 : 10);
  bytes.writeInt16BE(apiKey, 0);
  bytes.writeInt16BE(apiVersion, 2);
  bytes.writeInt32BE(7, 4);
  bytes.writeInt16BE(-1, 8);
  return bytes;
}

const versions = API_SCHEMAS.flatMap((api) =>
  Array.from({ length: api.maxVersion - api.minVersion + 1 }, (_, index) => ({ api, version: api.minVersion + index })),
);
const servedVersion = fc.constantFrom(...versions);

/** A valid request or response frame body for some served (api, version). */
const validFrame = servedVersion.chain(({ api, version }) =>
  fc.tuple(fc.constant({ api, version }), fc.boolean(), messageArbitrary(api.request, version), messageArbitrary(api.response, version)).map(
    ([target, isRequest, request, response]) => ({
      ...target,
      isRequest,
      frame: frameBytes(
        isRequest ? encodeRequest(api.apiKey, version, 1, 'c', request as never) : encodeResponse(api.apiKey, version, 1, response as never),
      ).subarray(4),
    }),
  ),
);

type Mutation = { kind: 'flip'; at: number; value: number } | { kind: 'cut'; at: number } | { kind: 'splice'; at: number; bytes: Uint8Array };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
);

function mutate(frame: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(frame);
  for (const change of mutations) {
    if (out.length === 0) break;
    const at = change.at % out.length;
    if (change.kind === 'flip') out[at] = change.value;
    else if (change.kind === 'cut') out = out.subarray(0, at);
    else out = Buffer.concat([out.subarray(0, at), change.bytes, out.subarray(at)]);
  }
  return out;
}

describe('decoding is total', () => {
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        const frame = Buffer.from(bytes);
        expect(decodeTotal(frame, decodeRequest)).toBeLessThanOrEqual(frame.length);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('a valid header of every served version, then random bytes', () => {
    fc.assert(
      fc.property(servedVersion, fc.uint8Array({ maxLength: 128 }), ({ api, version }, bytes) => {
        const flexible = api.kafkaFlexibleFrom !== null && version >= api.kafkaFlexibleFrom;
        const frame = Buffer.concat([header(api.apiKey, version, flexible), bytes]);
        expect(decodeTotal(frame, decodeRequest)).toBeLessThanOrEqual(frame.length);
        const body = Buffer.from(bytes);
        expect(decodeTotal(body, (input) => decodeResponse(api.apiKey as ApiKey, version, input))).toBeLessThanOrEqual(bytes.length);
      }),
      { seed: SEED, numRuns: 4000 },
    );
  });

  it('valid frames with bytes flipped, cut or spliced', () => {
    fc.assert(
      fc.property(validFrame, fc.array(mutation, { minLength: 1, maxLength: 4 }), ({ api, version, isRequest, frame }, mutations) => {
        const damaged = mutate(frame, mutations);
        const decode = isRequest ? decodeRequest : (input: Buffer) => decodeResponse(api.apiKey as ApiKey, version, input);
        expect(decodeTotal(damaged, decode)).toBeLessThanOrEqual(damaged.length);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('lengths and counts claiming more than the frame holds fail before allocating', () => {
    const cases = [
      hex(`00 03 00 01 00 00 00 01 ff ff  7f ff ff ff`), // Metadata v1: topics count 2^31 - 1
      hex(`00 03 00 09 00 00 00 01 ff ff 00  ff ff ff ff 0f`), // Metadata v9: compact count 2^32 - 2
      hex(`00 03 00 01 00 00 00 01 7f ff`), // clientId of 32767 bytes in a 10-byte frame
      hex(`00 12 00 03 00 00 00 01 ff ff 00  06 61`), // compact string of 5 bytes, 1 present
      hex(`00 12 00 03 00 00 00 01 ff ff 00  01 01  01 05 ff ff ff ff 0f`), // a tagged field of 4 GiB
      hex(`00 12 00 03 00 00 00 01 ff ff 00  01 01  ff ff ff ff 0f`), // 4 billion tagged fields
      hex(`00 12 00 03 00 00 00 01 ff ff 00  01 01  01 80 80 80 80 80 01`), // a tag varint longer than 5 bytes
      hex(`00 00 00 03 00 00 00 01 ff ff  ff ff ff ff 00 00 00 00 00 00 00 01 00 01 74 00 00 00 01 00 00 00 00 7f ff ff ff`), // Produce records of 2 GiB
      hex(`00 00 00 03 00 00 00 01 ff ff  ff ff ff ff 00 00 00 00 ff ff ff fe`), // Produce: topicData count -2
    ];
    for (const frame of cases) {
      const started = performance.now();
      expect(() => decodeRequest(frame)).toThrow(KafkaDecodeError);
      expect(performance.now() - started).toBeLessThan(50);
    }
  });

  it('unknown tagged fields are skipped, known ones read', () => {
    // ApiVersions v3 request with tags 5 (unknown, 2 bytes) in the header and 9 (unknown) in the body.
    const frame = hex(`00 12 00 03 00 00 00 01 ff ff  01 05 02 aa bb   02 61 02 62  01 09 01 cc`);
    expect(decodeRequest(frame)).toMatchObject({ clientId: null, body: { clientSoftwareName: 'a', clientSoftwareVersion: 'b' } });
  });
});
