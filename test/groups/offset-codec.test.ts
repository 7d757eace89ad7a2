// Proves the __consumer_offsets record format: golden bytes for one key and one value
// (the byte-by-byte layout documented in src/groups/README.md), round trips for random
// keys and values including large offsets and UTF-8, and that unknown key versions are
// skipped (null) while damaged values are reported as CORRUPT_MESSAGE.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeOffsetKey,
  decodeOffsetValue,
  encodeOffsetKey,
  encodeOffsetValue,
  OffsetValueLayout,
} from '../../src/groups/offset-codec.js';
import { isSpoolError } from '../../src/util/errors.js';

describe('offset record codec', () => {
  it('encodes the documented key bytes', () => {
    const key = encodeOffsetKey({ groupId: 'g1', topic: 'ab', partition: 3 });
    expect(key.toString('hex')).toBe(['01', '0002', '6731', '0002', '6162', '00000003'].join(''));
  });

  it('encodes the documented value bytes', () => {
    const value = encodeOffsetValue({ offset: 2 ** 32 + 5, commitTimestampMs: 1_700_000_000_000, metadata: 'x' });
    expect(value.toString('hex')).toBe(
      ['01', '0000000100000005', '0000018bcfe56800', '0001', '78'].join(''),
    );
    expect(OffsetValueLayout.METADATA).toBe(1 + 8 + 8 + 2);
  });

  it('round-trips keys and values', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.maxSafeNat(),
        fc.maxSafeNat(),
        fc.string({ maxLength: 100 }),
        (groupId, topic, partition, offset, commitTimestampMs, metadata) => {
          expect(decodeOffsetKey(encodeOffsetKey({ groupId, topic, partition }))).toEqual({ groupId, topic, partition });
          const value = { offset, commitTimestampMs, metadata };
          expect(decodeOffsetValue(encodeOffsetValue(value))).toEqual(value);
        },
      ),
    );
  });

  it('skips unknown key versions and rejects damaged values', () => {
    const key = encodeOffsetKey({ groupId: 'g', topic: 't', partition: 0 });
    key[0] = 2;
    expect(decodeOffsetKey(key)).toBeNull();
    const value = encodeOffsetValue({ offset: 1, commitTimestampMs: 2, metadata: 'abc' });
    let caught: unknown;
    try {
      decodeOffsetValue(value.subarray(0, value.length - 1));
    } catch (error) {
      caught = error;
    }
    expect(isSpoolError(caught) && caught.code).toBe('CORRUPT_MESSAGE');
  });
});
