// Proves validation without decoding: every kind of malformation the contract lists gives
// CORRUPT_MESSAGE (or MESSAGE_TOO_LARGE for size) with the CRC fixed up after each mutation,
// so each check is hit on its own; compressed batches are checked by header and CRC only
// (without { producer });
// validateBatches and validBatchPrefix handle sequences, torn tails and garbage.

import { describe, expect, it } from 'vitest';
import {
  BatchLayout,
  crc32c,
  CRC_START,
  decodeBatch,
  encodeBatch,
  forEachBatch,
  readBaseOffset,
  setBaseOffset,
  validateBatch,
  validateBatches,
  validBatchPrefix,
} from '../../src/records/index.js';
import { expectSpoolError } from './helpers.js';

function sampleBatch(count = 3, compression: 'none' | 'gzip' = 'none'): Buffer {
  const records = Array.from({ length: count }, (_, index) => ({
    key: `key-${index}`,
    value: `value-${index}`,
    timestamp: 1700000000000 + index,
  }));
  return encodeBatch(records, { compression });
}

/** Recomputes the CRC so a mutation is caught by its own check, not by the CRC. */
function fixCrc(batch: Buffer): Buffer {
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  return batch;
}

describe('validateBatch', () => {
  it('accepts a batch and returns its header', () => {
    const batch = sampleBatch();
    const header = validateBatch(batch, 0, 1024, { producer: true });
    expect(header).toMatchObject({ recordCount: 3, lastOffsetDelta: 2, totalBytes: batch.length, magic: 2 });
  });

  it('accepts a batch at a non-zero position', () => {
    const batch = sampleBatch();
    const buf = Buffer.concat([Buffer.alloc(5, 0xee), batch]);
    expect(validateBatch(buf, 5).totalBytes).toBe(batch.length);
  });

  it('rejects fewer than 61 header bytes', () => {
    const batch = sampleBatch();
    for (const length of [0, 1, 12, 60]) {
      expectSpoolError(() => validateBatch(batch.subarray(0, length), 0), 'CORRUPT_MESSAGE');
    }
    expectSpoolError(() => validateBatch(batch, batch.length - 10), 'CORRUPT_MESSAGE');
    expectSpoolError(() => validateBatch(batch, -1), 'CORRUPT_MESSAGE');
  });

  it('rejects a magic other than 2', () => {
    for (const magic of [0, 1, 3, -1]) {
      const batch = sampleBatch();
      batch.writeInt8(magic, BatchLayout.MAGIC);
      expectSpoolError(() => validateBatch(batch, 0), 'CORRUPT_MESSAGE');
    }
  });

  it('rejects a batchLength below the header size, negative, or past the bytes present', () => {
    for (const batchLength of [-1, 0, 48, -0x8000_0000]) {
      const batch = sampleBatch();
      batch.writeInt32BE(batchLength, BatchLayout.BATCH_LENGTH);
      expectSpoolError(() => validateBatch(batch, 0), 'CORRUPT_MESSAGE');
    }
    const batch = sampleBatch();
    batch.writeInt32BE(batch.length - 12 + 1, BatchLayout.BATCH_LENGTH);
    expectSpoolError(() => validateBatch(batch, 0), 'CORRUPT_MESSAGE');
    expectSpoolError(() => validateBatch(sampleBatch().subarray(0, 70), 0), 'CORRUPT_MESSAGE');
  });

  it('rejects a batch larger than maxBatchBytes with MESSAGE_TOO_LARGE', () => {
    const batch = sampleBatch();
    expect(validateBatch(batch, 0, batch.length).totalBytes).toBe(batch.length);
    expectSpoolError(() => validateBatch(batch, 0, batch.length - 1), 'MESSAGE_TOO_LARGE');
    // Size is judged from the header, even when the claimed bytes are not all present.
    const claimsHuge = Buffer.from(batch);
    claimsHuge.writeInt32BE(0x7fff_ffff, BatchLayout.BATCH_LENGTH);
    expectSpoolError(() => validateBatch(claimsHuge, 0, 1024 * 1024), 'MESSAGE_TOO_LARGE');
  });

  it('rejects a CRC mismatch anywhere in the covered bytes', () => {
    const clean = sampleBatch();
    for (let index = CRC_START; index < clean.length; index++) {
      const batch = Buffer.from(clean);
      batch[index] = batch[index]! ^ 0x01;
      expectSpoolError(() => validateBatch(batch, 0), 'CORRUPT_MESSAGE');
    }
    const badCrc = Buffer.from(clean);
    badCrc[BatchLayout.CRC] = badCrc[BatchLayout.CRC]! ^ 0x80;
    expectSpoolError(() => validateBatch(badCrc, 0), 'CORRUPT_MESSAGE');
  });

  it('does not cover baseOffset or partitionLeaderEpoch by the CRC', () => {
    const batch = sampleBatch();
    setBaseOffset(batch, 0, 2 ** 40 + 7);
    batch.writeInt32BE(17, BatchLayout.PARTITION_LEADER_EPOCH);
    expect(readBaseOffset(batch, 0)).toBe(2 ** 40 + 7);
    expect(validateBatch(batch, 0).partitionLeaderEpoch).toBe(17);
    setBaseOffset(batch, 0, -1);
    expect(readBaseOffset(batch, 0)).toBe(-1);
  });

  it('rejects a negative recordCount', () => {
    const batch = sampleBatch();
    batch.writeInt32BE(-1, BatchLayout.RECORD_COUNT);
    expectSpoolError(() => validateBatch(fixCrc(batch), 0), 'CORRUPT_MESSAGE');
  });

  it('rejects a recordCount that cannot fit in the records bytes', () => {
    const batch = sampleBatch();
    batch.writeInt32BE(1_000_000, BatchLayout.RECORD_COUNT);
    batch.writeInt32BE(999_999, BatchLayout.LAST_OFFSET_DELTA);
    expectSpoolError(() => validateBatch(fixCrc(batch), 0), 'CORRUPT_MESSAGE');
  });

  it('rejects lastOffsetDelta < recordCount - 1, and != recordCount - 1 for producer batches', () => {
    const short = sampleBatch(3);
    short.writeInt32BE(1, BatchLayout.LAST_OFFSET_DELTA);
    expectSpoolError(() => validateBatch(fixCrc(short), 0), 'CORRUPT_MESSAGE');
    const negative = sampleBatch(1);
    negative.writeInt32BE(-1, BatchLayout.LAST_OFFSET_DELTA);
    expectSpoolError(() => validateBatch(fixCrc(negative), 0), 'CORRUPT_MESSAGE');
    // A compacted batch keeps its original lastOffsetDelta: legal, but not from a producer.
    const compacted = sampleBatch(3);
    compacted.writeInt32BE(9, BatchLayout.LAST_OFFSET_DELTA);
    fixCrc(compacted);
    expect(validateBatch(compacted, 0).lastOffsetDelta).toBe(9);
    expectSpoolError(() => validateBatch(compacted, 0, undefined, { producer: true }), 'CORRUPT_MESSAGE');
  });

  it('rejects the undefined compression codes 5-7', () => {
    for (const codec of [5, 6, 7]) {
      const batch = sampleBatch();
      batch.writeInt16BE(codec, BatchLayout.ATTRIBUTES);
      expectSpoolError(() => validateBatch(fixCrc(batch), 0), 'CORRUPT_MESSAGE');
      expectSpoolError(() => decodeBatch(batch, 0), 'UNSUPPORTED_COMPRESSION');
    }
  });

  it('checks a compressed batch by header and CRC only (without { producer })', () => {
    const gzip = sampleBatch(3, 'gzip');
    expect(validateBatch(gzip, 0).compression).toBe(1);
    for (const codec of [2, 3, 4]) {
      // A gzip block labelled snappy, lz4 or zstd: the header check passes, the codec does not.
      const batch = Buffer.from(gzip);
      batch.writeInt16BE(codec, BatchLayout.ATTRIBUTES);
      fixCrc(batch);
      expect(validateBatch(batch, 0).compression).toBe(codec);
      expectSpoolError(() => decodeBatch(batch, 0), 'CORRUPT_MESSAGE');
      expectSpoolError(() => validateBatch(batch, 0, undefined, { producer: true }), 'CORRUPT_MESSAGE');
    }
    // Garbage in place of the gzip block passes validation (CRC fixed) but not decoding.
    const garbage = Buffer.from(gzip);
    garbage.fill(0x42, 61);
    fixCrc(garbage);
    expect(validateBatch(garbage, 0).recordCount).toBe(3);
    expectSpoolError(() => decodeBatch(garbage, 0), 'CORRUPT_MESSAGE');
  });

  it('decodeBatch checks the CRC only when asked', () => {
    const batch = sampleBatch();
    batch[BatchLayout.CRC] = batch[BatchLayout.CRC]! ^ 0xff;
    expect(decodeBatch(batch, 0).records).toHaveLength(3);
    expectSpoolError(() => decodeBatch(batch, 0, { verifyCrc: true }), 'CORRUPT_MESSAGE');
  });
});

describe('decodeBatch on malformed records (CRC fixed up)', () => {
  it.each([
    ['a record length past the end', (batch: Buffer) => (batch[61] = 0x7e)],
    ['a record length too short for its fields', (batch: Buffer) => (batch[61] = 0x02)],
    ['a key length past the record', (batch: Buffer) => (batch[65] = 0x7e)],
    ['a key length below -1', (batch: Buffer) => (batch[65] = 0x05)],
    ['one record too many', (batch: Buffer) => batch.writeInt32BE(4, BatchLayout.RECORD_COUNT)],
    ['bytes left after the records', (batch: Buffer) => batch.writeInt32BE(2, BatchLayout.RECORD_COUNT)],
  ])('rejects %s', (_name, mutate) => {
    const batch = sampleBatch(3);
    mutate(batch);
    fixCrc(batch);
    expectSpoolError(() => decodeBatch(batch, 0), 'CORRUPT_MESSAGE');
  });
});

describe('validateBatches', () => {
  it('sums a sequence of batches', () => {
    const first = sampleBatch(3);
    const second = encodeBatch([{ value: 'x', timestamp: 1800000000000 }]);
    const summary = validateBatches(Buffer.concat([first, second]));
    expect(summary).toEqual({ batchCount: 2, recordCount: 4, lastOffsetDeltaSum: 2, maxTimestamp: 1800000000000 });
  });

  it('rejects an empty buffer, a torn tail, trailing garbage and a corrupt batch', () => {
    const batch = sampleBatch();
    expectSpoolError(() => validateBatches(Buffer.alloc(0)), 'CORRUPT_MESSAGE');
    expectSpoolError(() => validateBatches(Buffer.concat([batch, batch.subarray(0, 30)])), 'CORRUPT_MESSAGE');
    expectSpoolError(() => validateBatches(Buffer.concat([batch, Buffer.alloc(3)])), 'CORRUPT_MESSAGE');
    const bad = Buffer.from(batch);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expectSpoolError(() => validateBatches(Buffer.concat([batch, bad])), 'CORRUPT_MESSAGE');
  });

  it('applies maxBatchBytes per batch', () => {
    const batch = sampleBatch();
    expect(validateBatches(Buffer.concat([batch, batch]), batch.length).batchCount).toBe(2);
    expectSpoolError(() => validateBatches(batch, batch.length - 1), 'MESSAGE_TOO_LARGE');
  });
});

describe('validBatchPrefix', () => {
  const batch = sampleBatch();
  const log = Buffer.concat([batch, batch, batch]);

  it('covers a whole log', () => {
    expect(validBatchPrefix(log)).toEqual({ validBytes: log.length, batches: 3 });
    expect(validBatchPrefix(Buffer.alloc(0))).toEqual({ validBytes: 0, batches: 0 });
  });

  it('stops at a torn batch at every truncation point', () => {
    for (let length = 0; length <= log.length; length++) {
      const expected = Math.floor(length / batch.length);
      expect(validBatchPrefix(log.subarray(0, length))).toEqual({
        validBytes: expected * batch.length,
        batches: expected,
      });
    }
  });

  it('stops at appended zeros or garbage and at a corrupt middle batch', () => {
    expect(validBatchPrefix(Buffer.concat([log, Buffer.alloc(4096)]))).toEqual({ validBytes: log.length, batches: 3 });
    expect(validBatchPrefix(Buffer.concat([log, Buffer.alloc(100, 0xff)])).validBytes).toBe(log.length);
    const damaged = Buffer.from(log);
    damaged[batch.length + 70] = damaged[batch.length + 70]! ^ 0x10;
    expect(validBatchPrefix(damaged)).toEqual({ validBytes: batch.length, batches: 1 });
  });
});

describe('forEachBatch', () => {
  it('walks whole batches and ignores a trailing partial one', () => {
    const batch = sampleBatch();
    const buf = Buffer.concat([batch, batch, batch.subarray(0, 20)]);
    const positions: number[] = [];
    const consumed = forEachBatch(buf, (header, position) => {
      expect(header.totalBytes).toBe(batch.length);
      positions.push(position);
    });
    expect(positions).toEqual([0, batch.length]);
    expect(consumed).toBe(2 * batch.length);
    expect(forEachBatch(Buffer.alloc(100), () => expect.fail('zeros are not a batch'))).toBe(0);
  });
});
