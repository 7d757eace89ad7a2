// Proves records' filterBatch (the log cleaner's per-batch filter, Kafka's filterTo): a batch
// whose records all stay comes back byte for byte; one with some records removed keeps its
// header fields (baseOffset, lastOffsetDelta, partitionLeaderEpoch, producer id, epoch,
// base sequence, baseTimestamp, attribute bits and codec), holds exactly the kept records at
// their offsets with their headers and timestamps, gets the kept records' largest timestamp
// and a valid CRC; one with none kept is dropped, or (retainEmpty) becomes a valid batch
// with no records, no compression, baseTimestamp -1 and its offset range and maxTimestamp.

import { describe, expect, it } from 'vitest';
import { Attributes, BatchLayout, CRC_START, crc32c, decodeBatch, encodeBatch, filterBatch, readBatchHeader, setProducerFields, validateBatch } from '../../src/records/index.js';

const T0 = 1_700_000_000_000;

function sample(compression: 'none' | 'gzip'): Buffer {
  const batch = Buffer.from(
    encodeBatch(
      [
        { key: 'a', value: 'a1', timestamp: T0 + 5 },
        { key: 'b', value: 'b1', headers: { h: 'x' }, timestamp: T0 + 9 },
        { key: null, value: 'n', timestamp: T0 + 1 },
        { key: 'a', value: null, timestamp: T0 + 3 },
      ],
      { compression, baseOffset: 100 },
    ),
  );
  batch.writeInt32BE(7, BatchLayout.PARTITION_LEADER_EPOCH);
  batch.writeInt16BE(batch.readInt16BE(BatchLayout.ATTRIBUTES) | Attributes.TRANSACTIONAL, BatchLayout.ATTRIBUTES);
  batch.writeUInt32BE(crc32c(batch, CRC_START, batch.length), BatchLayout.CRC);
  setProducerFields(batch, 0, 5, 2, 40);
  return batch;
}

const options = { retainEmpty: false, maxUncompressedBytes: 1 << 20 };

describe('filterBatch', () => {
  it('returns the batch untouched when every record stays', () => {
    const batch = sample('gzip');
    const result = filterBatch(batch, () => true, options);
    expect(result).toMatchObject({ recordsKept: 4, recordsRemoved: 0 });
    expect(Buffer.compare(result.batch!, batch)).toBe(0);
  });

  for (const compression of ['none', 'gzip'] as const) {
    it(`keeps the header and the kept records (${compression})`, () => {
      const batch = sample(compression);
      const seen: Array<[number, string | null, boolean]> = [];
      const result = filterBatch(
        batch,
        (offset, key, hasValue) => {
          seen.push([offset, key?.toString() ?? null, hasValue]);
          return offset === 100 || offset === 102;
        },
        options,
      );
      expect(seen).toEqual([
        [100, 'a', true],
        [101, 'b', true],
        [102, null, true],
        [103, 'a', false],
      ]);
      expect(result).toMatchObject({ recordsKept: 2, recordsRemoved: 2 });
      const out = result.batch!;
      const header = validateBatch(out, 0);
      const original = readBatchHeader(batch, 0);
      expect({ ...header, batchLength: 0, totalBytes: 0, crc: 0, recordCount: 0, maxTimestamp: 0 }).toEqual({
        ...original,
        batchLength: 0,
        totalBytes: 0,
        crc: 0,
        recordCount: 0,
        maxTimestamp: 0,
      });
      expect(header.recordCount).toBe(2);
      expect(header.maxTimestamp).toBe(T0 + 5);
      const records = decodeBatch(out, 0).records.map((r) => ({ offset: r.offset, key: r.key?.toString() ?? null, value: r.value?.toString() ?? null, timestamp: r.timestamp }));
      expect(records).toEqual([
        { offset: 100, key: 'a', value: 'a1', timestamp: T0 + 5 },
        { offset: 102, key: null, value: 'n', timestamp: T0 + 1 },
      ]);
    });
  }

  it('keeps record headers byte for byte', () => {
    const result = filterBatch(sample('none'), (offset) => offset === 101, options);
    const [record] = decodeBatch(result.batch!, 0).records;
    expect(record!.headers.map(([name, value]) => [name, value.toString()])).toEqual([['h', 'x']]);
  });

  it('drops a batch with nothing kept, or keeps it with no records when asked', () => {
    const batch = sample('gzip');
    expect(filterBatch(batch, () => false, options)).toEqual({ batch: null, recordsKept: 0, recordsRemoved: 4 });
    const result = filterBatch(batch, () => false, { ...options, retainEmpty: true });
    const header = validateBatch(result.batch!, 0);
    const original = readBatchHeader(batch, 0);
    expect(result.batch!.length).toBe(61);
    expect(header).toMatchObject({
      baseOffset: 100,
      lastOffsetDelta: 3,
      partitionLeaderEpoch: 7,
      producerId: 5,
      producerEpoch: 2,
      baseSequence: 40,
      recordCount: 0,
      compression: 0,
      attributes: original.attributes & ~Attributes.COMPRESSION_MASK,
      baseTimestamp: -1,
      maxTimestamp: original.maxTimestamp,
    });
    expect(decodeBatch(result.batch!, 0).records).toEqual([]);
  });
});
