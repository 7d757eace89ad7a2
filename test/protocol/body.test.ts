// Proves the body codec rejects every malformed body with INVALID_REQUEST (never another
// exception, never a hang): header length past the end, zero header length, malformed or
// trailing msgpack, non-map headers; and that payload splitting checks its sizes.
// Random bodies (fast-check) either decode or fail with INVALID_REQUEST.

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBody, encodeBody, splitPayload, packHeader } from '../../src/protocol/body.js';
import { errorFields, errorFromFields } from '../../src/protocol/errors.js';
import { Errors, SpoolError, isSpoolError } from '../../src/util/errors.js';

function body(headerBytes: Buffer, payload = Buffer.alloc(0), headerLength = headerBytes.length): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(headerLength);
  return Buffer.concat([length, headerBytes, payload]);
}

function expectInvalid(fn: () => unknown): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(isSpoolError(error, Errors.INVALID_REQUEST)).toBe(true);
}

describe('decodeBody', () => {
  it('round-trips a header and payload', () => {
    const encoded = Buffer.concat(encodeBody({ a: 1, b: 'x' }, Buffer.from('payload')));
    const decoded = decodeBody(encoded);
    expect(decoded.header).toEqual({ a: 1, b: 'x' });
    expect(decoded.payload.toString()).toBe('payload');
  });

  it('keeps int64-range numbers as numbers', () => {
    const decoded = decodeBody(Buffer.concat(encodeBody({ offset: 2 ** 40 + 3, ts: 1_700_000_000_123 })));
    expect(decoded.header).toEqual({ offset: 2 ** 40 + 3, ts: 1_700_000_000_123 });
  });

  it('rejects malformed bodies with INVALID_REQUEST', () => {
    expectInvalid(() => decodeBody(Buffer.alloc(3)));
    expectInvalid(() => decodeBody(body(Buffer.alloc(0))));
    expectInvalid(() => decodeBody(body(packHeader({ a: 1 }), undefined, 100)));
    expectInvalid(() => decodeBody(body(Buffer.from([0x85, 0xa1]))));
    expectInvalid(() => decodeBody(body(Buffer.from([0xc1]))));
    expectInvalid(() => decodeBody(body(packHeader([1, 2]))));
    expectInvalid(() => decodeBody(body(packHeader('text'))));
    expectInvalid(() => decodeBody(body(packHeader(null))));
    expectInvalid(() => decodeBody(body(Buffer.concat([packHeader({ a: 1 }), Buffer.from([0x01])]))));
  });

  it('never throws anything but INVALID_REQUEST on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeBody(body(Buffer.from(bytes)));
        } catch (error) {
          expect(isSpoolError(error, Errors.INVALID_REQUEST)).toBe(true);
        }
      }),
    );
  });
});

describe('splitPayload', () => {
  it('splits by sizes as subarrays', () => {
    const payload = Buffer.from('aabbbc');
    const parts = splitPayload(payload, [2, 3, 1]);
    expect(parts.map(String)).toEqual(['aa', 'bbb', 'c']);
    expect(parts[0]!.buffer).toBe(payload.buffer);
  });

  it('rejects sizes that do not add up', () => {
    expectInvalid(() => splitPayload(Buffer.from('abc'), [1, 1]));
    expectInvalid(() => splitPayload(Buffer.from('abc'), [2, 2]));
    expectInvalid(() => splitPayload(Buffer.from('abc'), [-1, 4]));
    expectInvalid(() => splitPayload(Buffer.from('abc'), [1.5, 1.5]));
  });
});

describe('error fields', () => {
  it('carry a SpoolError code and message both ways', () => {
    const fields = errorFields(new SpoolError(Errors.UNKNOWN_TOPIC, 'no topic x'));
    expect(fields).toEqual({ errorCode: 4, errorMessage: 'no topic x' });
    const error = errorFromFields(fields);
    expect(error?.code).toBe('UNKNOWN_TOPIC');
    expect(error?.message).toBe('no topic x');
    expect(errorFromFields({ errorCode: 0 })).toBeNull();
  });

  it('hide non-SpoolErrors behind UNKNOWN', () => {
    expect(errorFields(new TypeError('x is undefined')).errorCode).toBe(Errors.UNKNOWN.code);
  });
});
