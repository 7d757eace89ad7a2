// Proves the RecordBatch field offsets derived from the grammar in layout.ts match the
// Kafka protocol guide (and the contract), and that a built batch puts each field there.

import { describe, expect, it } from 'vitest';
import {
  BATCH_HEADER_BYTES,
  BatchLayout,
  Compression,
  CRC_START,
  LOG_OVERHEAD,
  MIN_BATCH_LENGTH,
  encodeBatch,
  readBatchHeader,
} from '../../src/records/index.js';

describe('BatchLayout', () => {
  it('derives the offsets of the Kafka RecordBatch v2 header', () => {
    expect(BatchLayout).toEqual({
      BASE_OFFSET: 0,
      BATCH_LENGTH: 8,
      PARTITION_LEADER_EPOCH: 12,
      MAGIC: 16,
      CRC: 17,
      ATTRIBUTES: 21,
      LAST_OFFSET_DELTA: 23,
      BASE_TIMESTAMP: 27,
      MAX_TIMESTAMP: 35,
      PRODUCER_ID: 43,
      PRODUCER_EPOCH: 51,
      BASE_SEQUENCE: 53,
      RECORD_COUNT: 57,
      RECORDS: 61,
    });
    expect(BATCH_HEADER_BYTES).toBe(61);
    expect(LOG_OVERHEAD).toBe(12);
    expect(MIN_BATCH_LENGTH).toBe(49);
    expect(CRC_START).toBe(21);
    expect(Compression).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 });
  });

  it('matches where the encoder writes each field', () => {
    const batch = encodeBatch([{ value: 'a', timestamp: 7 }, { value: 'b', timestamp: 9 }], { baseOffset: 42 });
    expect(batch.readBigInt64BE(BatchLayout.BASE_OFFSET)).toBe(42n);
    expect(batch.readInt32BE(BatchLayout.BATCH_LENGTH)).toBe(batch.length - LOG_OVERHEAD);
    expect(batch.readInt8(BatchLayout.MAGIC)).toBe(2);
    expect(batch.readInt32BE(BatchLayout.LAST_OFFSET_DELTA)).toBe(1);
    expect(batch.readBigInt64BE(BatchLayout.BASE_TIMESTAMP)).toBe(7n);
    expect(batch.readBigInt64BE(BatchLayout.MAX_TIMESTAMP)).toBe(9n);
    expect(batch.readBigInt64BE(BatchLayout.PRODUCER_ID)).toBe(-1n);
    expect(batch.readInt16BE(BatchLayout.PRODUCER_EPOCH)).toBe(-1);
    expect(batch.readInt32BE(BatchLayout.BASE_SEQUENCE)).toBe(-1);
    expect(batch.readInt32BE(BatchLayout.RECORD_COUNT)).toBe(2);
    const header = readBatchHeader(batch, 0);
    expect(header.totalBytes).toBe(batch.length);
    expect(header.partitionLeaderEpoch).toBe(-1);
  });
});
