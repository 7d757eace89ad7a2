// Micro-benchmarks of the record-batch codec: CRC-32C, encode, decode and validation of a
// batch of 1000 records with 100-byte values. Records/s = 1000 x the task's ops/s.
// Targets on the 2-core dev machine: encode (with CRC) and decode >= 5 M records/s each.

import type { Bench } from 'tinybench';
import {
  BatchBuilder,
  crc32c,
  decodeBatch,
  encodeBatch,
  type RecordInput,
  validateBatches,
} from '../../src/records/index.js';

export function register(bench: Bench, tiny: boolean): void {
  const recordsPerBatch = tiny ? 10 : 1000;
  const crcBytes = tiny ? 1024 : 1024 * 1024;
  const crcInput = Buffer.alloc(crcBytes, 0xa5);
  const perOps = `records/s = ${recordsPerBatch} x ops/s`;
  const value = Buffer.alloc(100, 0x61);
  const now = Date.now();
  const records: RecordInput[] = [];
  for (let index = 0; index < recordsPerBatch; index++) records.push({ value, timestamp: now + index });
  const stringRecords: RecordInput[] = records.map((record, index) => ({
    key: `key-${index}`,
    value: 'v'.repeat(100),
    timestamp: record.timestamp!,
  }));
  const builder = new BatchBuilder({ initialCapacity: 128 * 1024 });
  const batch = encodeBatch(records);
  const batches = Buffer.concat([batch, batch, batch, batch]);
  const gzipBatch = encodeBatch(records, { compression: 'gzip' });

  bench
    .add(`records: crc32c ${crcBytes / 1024} KiB (bytes/s = ${crcBytes} x ops/s)`, () => {
      crc32c(crcInput);
    })
    .add(`records: encode ${recordsPerBatch} x 100 B Buffer values (${perOps})`, () => {
      for (const record of records) builder.append(record);
      builder.build();
    })
    .add(`records: encode ${recordsPerBatch} x 100 B string values with keys`, () => {
      for (const record of stringRecords) builder.append(record);
      builder.build();
    })
    .add(`records: decode ${recordsPerBatch} x 100 B (${perOps})`, () => {
      decodeBatch(batch, 0);
    })
    .add(`records: decode ${recordsPerBatch} x 100 B with CRC check`, () => {
      decodeBatch(batch, 0, { verifyCrc: true });
    })
    .add(`records: validateBatches 4 x ${recordsPerBatch} x 100 B`, () => {
      validateBatches(batches);
    })
    .add(`records: encode gzip ${recordsPerBatch} x 100 B`, () => {
      encodeBatch(records, { compression: 'gzip' });
    })
    .add(`records: decode gzip ${recordsPerBatch} x 100 B`, () => {
      decodeBatch(gzipBatch, 0);
    });
}
