// Proves the shape checks of ShareFetch (40) and ShareAcknowledge (41): the README's
// example requests pass; a bad acknowledge type, a negative offset, too many ranges
// (maxAcknowledgeRangesPerPartition), maxRecords outside 1..10,000 and a partition named
// twice are INVALID_REQUEST naming the field.

import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import { checkRequest, RequestLimits } from '../../src/protocol/validate.js';
import { Errors, isSpoolError } from '../../src/util/errors.js';

function rejection(apiKey: ApiKey, header: unknown): string {
  try {
    checkRequest(apiKey, header);
  } catch (error) {
    expect(isSpoolError(error, Errors.INVALID_REQUEST)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('accepted');
}

const fetchRequest = { groupId: 'cooks', memberId: 'm1', maxWaitMs: 500, maxRecords: 10, maxBytes: 1048576, partitions: [{ topic: 'orders', partition: 0 }] };
const ackRequest = (ranges: unknown[]) => ({ groupId: 'cooks', memberId: 'm1', partitions: [{ topic: 'orders', partition: 0, ranges }] });

describe('share request shapes', () => {
  it('accepts the documented examples', () => {
    expect(() => checkRequest(ApiKey.ShareFetch, fetchRequest)).not.toThrow();
    expect(() =>
      checkRequest(ApiKey.ShareAcknowledge, ackRequest([{ firstOffset: 0, lastOffset: 1, type: 1 }, { firstOffset: 2, lastOffset: 2, type: 2, error: 'oven cold', delayMs: 10 }])),
    ).not.toThrow();
    expect(() => checkRequest(ApiKey.ShareAcknowledge, { groupId: 'cooks', memberId: 'm1', partitions: [], leave: true })).not.toThrow();
  });

  it('names the bad field', () => {
    expect(rejection(ApiKey.ShareFetch, { ...fetchRequest, maxRecords: 0 })).toContain('maxRecords');
    expect(rejection(ApiKey.ShareFetch, { ...fetchRequest, maxRecords: 10_001 })).toContain('maxRecords');
    expect(rejection(ApiKey.ShareFetch, { ...fetchRequest, partitions: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 0 }] })).toContain('partitions[1]');
    expect(rejection(ApiKey.ShareAcknowledge, ackRequest([{ firstOffset: 0, lastOffset: 1, type: 5 }]))).toContain('partitions[0].ranges[0].type');
    expect(rejection(ApiKey.ShareAcknowledge, ackRequest([{ firstOffset: -1, lastOffset: 1, type: 1 }]))).toContain('firstOffset');
  });

  it('caps the ranges of one partition entry', () => {
    const ranges = Array.from({ length: RequestLimits.maxAcknowledgeRangesPerPartition + 1 }, (_, i) => ({ firstOffset: i, lastOffset: i, type: 1 }));
    expect(rejection(ApiKey.ShareAcknowledge, ackRequest(ranges))).toContain('maxAcknowledgeRangesPerPartition');
  });
});
