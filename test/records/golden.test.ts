// Proves the encoder is byte-identical to a Kafka producer's RecordBatch v2: a batch
// written out by hand from the protocol guide (test/fixtures/records/golden-batch.hex, each
// byte group explained) equals encodeBatch of the same records, and both fixtures (plain
// and gzip) decode back to those records.

import { describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch, type RecordInput, validateBatch } from '../../src/records/index.js';
import { readHexFixture } from './helpers.js';

const records: RecordInput[] = [
  { key: 'k', value: 'v1', headers: { h: 'x' }, timestamp: 1700000000000 },
  { key: null, value: 'hello', timestamp: 1700000000005 },
];

function expectGoldenRecords(batch: Buffer): void {
  const { header, records: decoded } = decodeBatch(batch, 0);
  expect(header.recordCount).toBe(2);
  expect(header.baseTimestamp).toBe(1700000000000);
  expect(header.maxTimestamp).toBe(1700000000005);
  expect(header.producerId).toBe(-1);
  expect(header.producerEpoch).toBe(-1);
  expect(header.baseSequence).toBe(-1);
  expect(header.partitionLeaderEpoch).toBe(-1);
  expect(decoded).toEqual([
    {
      offset: 0,
      timestamp: 1700000000000,
      key: Buffer.from('k'),
      value: Buffer.from('v1'),
      headers: [['h', Buffer.from('x')]],
    },
    { offset: 1, timestamp: 1700000000005, key: null, value: Buffer.from('hello'), headers: [] },
  ]);
}

describe('golden RecordBatch v2 bytes', () => {
  const golden = readHexFixture('golden-batch.hex');

  it('encodes exactly the hand-written bytes', () => {
    expect(golden.length).toBe(87);
    expect(encodeBatch(records).toString('hex')).toBe(golden.toString('hex'));
  });

  it('encodes the same bytes from Buffers, header arrays and a BatchBuilder', () => {
    const asBuffers: RecordInput[] = [
      { key: Buffer.from('k'), value: Buffer.from('v1'), headers: [['h', Buffer.from('x')]], timestamp: 1700000000000 },
      { value: Buffer.from('hello'), timestamp: 1700000000005 },
    ];
    expect(encodeBatch(asBuffers).equals(golden)).toBe(true);
  });

  it('decodes the hand-written bytes to the records', () => {
    expect(validateBatch(golden, 0, undefined, { producer: true }).totalBytes).toBe(87);
    expectGoldenRecords(golden);
  });

  it('decodes the gzip fixture to the same records', () => {
    const gzip = readHexFixture('golden-batch-gzip.hex');
    const header = validateBatch(gzip, 0);
    expect(header.compression).toBe(1);
    expectGoldenRecords(gzip);
  });

  it('keeps the CRC valid when the broker sets baseOffset', () => {
    const batch = Buffer.from(golden);
    batch.writeBigInt64BE(1234567890123n, 0);
    expect(validateBatch(batch, 0).baseOffset).toBe(1234567890123);
    expect(decodeBatch(batch, 0).records.map((record) => record.offset)).toEqual([1234567890123, 1234567890124]);
  });
});
