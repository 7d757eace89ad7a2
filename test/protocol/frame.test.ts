// Proves the frame and body codecs are byte-exact and stream-safe: every golden frame in
// test/fixtures/protocol/frames.json (one request and response per API) encodes to its
// pinned bytes and decodes back, fed whole, one byte at a time, and split at every
// point; fast-check round-trips random headers, payloads and chunkings; oversized and
// undersized frames fail before allocating; limits changed mid-stream (setLimits) apply from
// the next size field. UPDATE_FIXTURES=1 rewrites the fixtures.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FrameDecoder,
  RequestFrameDecoder,
  ResponseFrameDecoder,
  encodeRequestFrame,
  encodeResponseFrame,
  type RequestFrame,
  type ResponseFrame,
} from '../../src/protocol/frame.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { decodeBody } from '../../src/protocol/body.js';
import { isSpoolError, Errors } from '../../src/util/errors.js';
import { examples, type FrameExample } from './examples.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/protocol/frames.json');

interface Fixture extends FrameExample {
  hex: string;
}

function encodeExample(example: FrameExample): Buffer {
  const payload = Buffer.from(example.payloadHex, 'hex');
  const parts =
    example.kind === 'request'
      ? encodeRequestFrame(example.correlationId, example.apiKey, example.apiVersion, example.header, payload)
      : encodeResponseFrame(example.correlationId, example.header, payload);
  return Buffer.concat(parts);
}

if (process.env['UPDATE_FIXTURES'] === '1' || !existsSync(FIXTURES)) {
  const fixtures: Fixture[] = examples.map((example) => ({ ...example, hex: encodeExample(example).toString('hex') }));
  writeFileSync(FIXTURES, JSON.stringify(fixtures, null, 2) + '\n');
}
// Byte fields (SASL messages, salts) are stored as JSON's form of a Buffer: revive them.
const fixtures = JSON.parse(readFileSync(FIXTURES, 'utf8'), (_key, value: unknown) =>
  value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)
    ? Buffer.from((value as { data: number[] }).data)
    : value,
) as Fixture[];

type AnyFrame = RequestFrame | ResponseFrame;

function decodeAll(kind: 'request' | 'response', chunks: Buffer[]): AnyFrame[] {
  const decoder = kind === 'request' ? new RequestFrameDecoder() : new ResponseFrameDecoder();
  const frames: AnyFrame[] = [];
  for (const chunk of chunks) frames.push(...decoder.push(chunk));
  expect(decoder.idle).toBe(true);
  return frames;
}

function checkFrame(fixture: Fixture, frame: AnyFrame | undefined): void {
  expect(frame).toBeDefined();
  expect(frame!.correlationId).toBe(fixture.correlationId);
  if (fixture.kind === 'request') {
    expect((frame as RequestFrame).apiKey).toBe(fixture.apiKey);
    expect((frame as RequestFrame).apiVersion).toBe(fixture.apiVersion);
  }
  const body = decodeBody(frame!.body);
  expect(body.header).toEqual(fixture.header);
  expect(body.payload.toString('hex')).toBe(fixture.payloadHex);
}

describe('golden frames', () => {
  it('covers a request and a response of every API', () => {
    expect(fixtures.length).toBe(examples.length);
    expect(fixtures.filter((f) => f.kind === 'request').length).toBe(Object.keys(ApiKey).length);
  });

  for (const fixture of fixtures) {
    describe(fixture.name, () => {
      const bytes = Buffer.from(fixture.hex, 'hex');

      it('encodes to the pinned bytes', () => {
        expect(encodeExample(fixture).toString('hex')).toBe(fixture.hex);
      });

      it('decodes whole, as a subarray of the chunk', () => {
        const frames = decodeAll(fixture.kind, [bytes]);
        expect(frames.length).toBe(1);
        checkFrame(fixture, frames[0]);
        expect(frames[0]!.body.buffer).toBe(bytes.buffer);
      });

      it('decodes fed one byte at a time', () => {
        const chunks = [...bytes].map((byte) => Buffer.from([byte]));
        const frames = decodeAll(fixture.kind, chunks);
        expect(frames.length).toBe(1);
        checkFrame(fixture, frames[0]);
      });

      it('decodes split at every point, between copies of itself', () => {
        const stream = Buffer.concat([bytes, bytes, bytes]);
        for (let split = 0; split <= stream.length; split++) {
          const frames = decodeAll(fixture.kind, [stream.subarray(0, split), stream.subarray(split)]);
          expect(frames.length).toBe(3);
          for (const frame of frames) checkFrame(fixture, frame);
        }
      });
    });
  }
});

describe('FrameDecoder limits', () => {
  it('rejects a frame larger than maxFrameBytes from its size field alone', () => {
    const decoder = new RequestFrameDecoder({ maxFrameBytes: 1024 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    let error: unknown;
    try {
      decoder.push(header);
    } catch (e) {
      error = e;
    }
    expect(isSpoolError(error, Errors.RECORD_LIST_TOO_LARGE)).toBe(true);
    expect(decoder.bufferedBytes).toBe(0);
    // Failed for good: the stream cannot be trusted.
    expect(() => decoder.push(Buffer.alloc(1))).toThrow(/larger than the limit/);
  });

  it('rejects 0xffffffff without allocating', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(Buffer.from('ffffffff', 'hex'))).toThrow(/larger/);
  });

  it('rejects a request frame shorter than its fixed fields', () => {
    const decoder = new RequestFrameDecoder();
    expect(() => decoder.push(Buffer.from('0000000300000001', 'hex'))).toThrow(/shorter/);
  });

  it('setLimits applies from the next size field; a frame already announced keeps its check', () => {
    const decoder = new FrameDecoder({ maxFrameBytes: 100, minFrameBytes: 10 });
    // A 20-byte frame announced, 5 bytes of it read; then the limit drops to 8.
    expect(decoder.push(Buffer.concat([Buffer.from('00000014', 'hex'), Buffer.alloc(5)]))).toEqual([]);
    decoder.setLimits(0, 8);
    expect(decoder.push(Buffer.alloc(15)).map((frame) => frame.length)).toEqual([20]);
    // Below the old minimum is fine now, above the new maximum is not (and allocates nothing).
    expect(decoder.push(Buffer.from('0000000361626300000000', 'hex')).map((frame) => frame.toString())).toEqual(['abc', '']);
    expect(() => decoder.push(Buffer.from('00000009', 'hex'))).toThrow(/frame of 9 bytes is larger than the limit of 8 bytes/);
    expect(decoder.bufferedBytes).toBe(0);
    expect(() => new FrameDecoder().setLimits(5, 4)).toThrow();
  });

  it('reports a partial frame as buffered', () => {
    const decoder = new ResponseFrameDecoder();
    const bytes = Buffer.concat(encodeResponseFrame(7, { errorCode: 0 }, Buffer.alloc(100)));
    expect(decoder.push(bytes.subarray(0, 2))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(2);
    expect(decoder.push(bytes.subarray(2, 50))).toEqual([]);
    expect(decoder.idle).toBe(false);
    expect(decoder.push(bytes.subarray(50)).length).toBe(1);
    expect(decoder.idle).toBe(true);
  });

  it('does not copy payload buffers when encoding', () => {
    const payload = [Buffer.alloc(10, 1), Buffer.alloc(20, 2)];
    const parts = encodeRequestFrame(1, 5, 0, { partitions: [] }, payload);
    expect(parts[1]).toBe(payload[0]);
    expect(parts[2]).toBe(payload[1]);
  });

  it('rejects out-of-range frame header fields', () => {
    expect(() => encodeRequestFrame(-1, 0, 0, {})).toThrow(RangeError);
    expect(() => encodeRequestFrame(1, 70000, 0, {})).toThrow(RangeError);
  });
});

const headerArb = fc.dictionary(
  fc.string({ maxLength: 12 }).filter((key) => key !== '__proto__'),
  fc.oneof(
    fc.integer(),
    fc.maxSafeInteger(),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.integer(), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 5 }).filter((key) => key !== '__proto__'), fc.integer(), { maxKeys: 3 }),
  ),
  { maxKeys: 6 },
);

const frameArb = fc.record({
  correlationId: fc.integer({ min: 0, max: 0xffffffff }),
  apiKey: fc.integer({ min: 0, max: 0xffff }),
  apiVersion: fc.integer({ min: 0, max: 0xffff }),
  header: headerArb,
  payload: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 3 }),
});

describe('round trips (fast-check)', () => {
  it('request frames survive any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), (frames, cuts) => {
        const stream = Buffer.concat(
          frames.flatMap((f) => encodeRequestFrame(f.correlationId, f.apiKey, f.apiVersion, f.header, f.payload.map((p) => Buffer.from(p)))),
        );
        const chunks: Buffer[] = [];
        let position = 0;
        for (let i = 0; position < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          chunks.push(stream.subarray(position, position + size));
          position += size;
        }
        const decoded = decodeAll('request', chunks) as RequestFrame[];
        expect(decoded.length).toBe(frames.length);
        decoded.forEach((frame, i) => {
          const f = frames[i]!;
          expect(frame.correlationId).toBe(f.correlationId);
          expect(frame.apiKey).toBe(f.apiKey);
          expect(frame.apiVersion).toBe(f.apiVersion);
          const body = decodeBody(frame.body);
          expect(body.header).toEqual(f.header);
          expect(body.payload).toEqual(Buffer.concat(f.payload.map((p) => Buffer.from(p))));
        });
      }),
    );
  });

  it('response frames survive any chunking', () => {
    fc.assert(
      fc.property(frameArb, fc.integer({ min: 1, max: 7 }), (f, chunkSize) => {
        const stream = Buffer.concat(encodeResponseFrame(f.correlationId, f.header, f.payload.map((p) => Buffer.from(p))));
        const chunks: Buffer[] = [];
        for (let position = 0; position < stream.length; position += chunkSize) chunks.push(stream.subarray(position, position + chunkSize));
        const [frame] = decodeAll('response', chunks);
        expect(frame!.correlationId).toBe(f.correlationId);
        expect(decodeBody(frame!.body).header).toEqual(f.header);
      }),
    );
  });
});
