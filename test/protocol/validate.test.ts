// Proves the request shape checks accept every golden request and reject wrong shapes
// with INVALID_REQUEST naming the field, for each API; extra fields are ignored; the
// partitions of one CreateTopics are capped all topics together.

import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import { checkRequest } from '../../src/protocol/validate.js';
import { Errors, isSpoolError } from '../../src/util/errors.js';
import { examples } from './examples.js';

function rejection(apiKey: ApiKey, header: unknown): string {
  try {
    checkRequest(apiKey, header);
  } catch (error) {
    expect(isSpoolError(error, Errors.INVALID_REQUEST)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

describe('checkRequest', () => {
  it('accepts every example request', () => {
    for (const example of examples.filter((e) => e.kind === 'request')) {
      expect(() => checkRequest(example.apiKey as ApiKey, example.header), example.name).not.toThrow();
    }
  });

  it('caps the partitions one CreateTopics creates, all topics together (maxPartitionsPerCreateTopics)', () => {
    const topics = (counts: number[]) => ({ topics: counts.map((partitions, i) => ({ name: `t${i}`, partitions })) });
    expect(() => checkRequest(ApiKey.CreateTopics, topics([10_000]))).not.toThrow();
    expect(() => checkRequest(ApiKey.CreateTopics, topics([4000, 6000, 0, -5]))).not.toThrow();
    expect(rejection(ApiKey.CreateTopics, topics([4000, 6001]))).toBe('topics: 10001 partitions to create, more than the limit maxPartitionsPerCreateTopics (10000)');
    expect(rejection(ApiKey.CreateTopics, topics([0x7fff_ffff]))).toContain('maxPartitionsPerCreateTopics');
  });

  it('ignores extra fields', () => {
    expect(() => checkRequest(ApiKey.Metadata, { topics: null, future: 1 })).not.toThrow();
  });

  it('names the bad field', () => {
    expect(rejection(ApiKey.Fetch, { maxWaitMs: 1, minBytes: 1, maxBytes: 1, partitions: [{ topic: 't', partition: 0, offset: -5, maxBytes: 1 }] })).toMatch(
      /partitions\[0\]\.offset/,
    );
    expect(rejection(ApiKey.Produce, { acks: 2, timeoutMs: 0, partitions: [] })).toMatch(/acks/);
    expect(rejection(ApiKey.Produce, { acks: 1, timeoutMs: 0, partitions: [{ topic: 't', partition: 0, size: 1.5 }] })).toMatch(/size/);
    expect(rejection(ApiKey.CreateTopics, { topics: [{ name: 3, partitions: 1 }] })).toMatch(/topics\[0\]\.name/);
    expect(rejection(ApiKey.CreateTopics, { topics: [{ name: 'x', partitions: 1, config: { a: [1] } }] })).toMatch(/config\.a/);
    expect(rejection(ApiKey.ResetOffsets, { groupId: 'g', topic: 't', to: { kind: 'offset' } })).toMatch(/to/);
    expect(rejection(ApiKey.DeleteTopics, [])).toMatch(/header/);
    expect(rejection(ApiKey.OffsetCommit, { groupId: 'g', memberId: 'm', memberEpoch: 1, offsets: [{ topic: 't', partition: 0, offset: 2 ** 60 }] })).toMatch(
      /offset/,
    );
  });

  it('accepts each ResetOffsets target', () => {
    for (const to of [{ kind: 'earliest' }, { kind: 'latest' }, { kind: 'offset', offset: 3 }, { kind: 'timestamp', timestamp: 1700000000000 }]) {
      expect(() => checkRequest(ApiKey.ResetOffsets, { groupId: 'g', topic: 't', to })).not.toThrow();
    }
  });

  it('AlterConfigs, CreatePartitions, DeleteRecords: each topic or partition once, counts capped, offsets checked', () => {
    expect(rejection(ApiKey.AlterConfigs, { topics: [{ name: 't', config: { 'retention.ms': 1 } }, { name: 't', config: {} }] })).toMatch(/topics\[1\].*topic t only once/);
    expect(rejection(ApiKey.AlterConfigs, { topics: [{ name: 't', config: { 'retention.ms': [] } }] })).toMatch(/retention\.ms/);
    expect(rejection(ApiKey.CreatePartitions, { topics: [{ name: 'a', count: 6000 }, { name: 'b', count: 6000 }] })).toMatch(/maxPartitionsPerCreateTopics/);
    expect(rejection(ApiKey.CreatePartitions, { topics: [{ name: 'a', count: '3' }] })).toMatch(/count/);
    expect(rejection(ApiKey.DeleteRecords, { partitions: [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 0, offset: 2 }] })).toMatch(/partition t-0 only once/);
    expect(rejection(ApiKey.DeleteRecords, { partitions: [{ topic: 't', partition: 0, offset: -2 }] })).toMatch(/offset/);
    expect(() => checkRequest(ApiKey.DeleteRecords, { partitions: [{ topic: 't', partition: 0, offset: -1 }] })).not.toThrow();
  });
});
