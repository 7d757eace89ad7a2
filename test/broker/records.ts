// Helpers for broker tests: build batches and read back the records of fetched bytes.

import { decodeBatch, encodeBatch, forEachBatch } from '../../src/records/index.js';

export function batchOf(values: string[], key: string | null = null): Buffer {
  return encodeBatch(values.map((value) => ({ key, value })));
}

export function recordsOf(bytes: Buffer): Array<{ offset: number; value: string }> {
  const out: Array<{ offset: number; value: string }> = [];
  forEachBatch(bytes, (_header, position) => {
    for (const record of decodeBatch(bytes, position, { verifyCrc: true }).records) {
      out.push({ offset: record.offset, value: record.value?.toString() ?? '' });
    }
  });
  return out;
}
