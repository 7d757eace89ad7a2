// Proves the on-disk names and topic configuration: segment files are 20-digit base
// offsets, partition directories parse back, topic names outside [a-zA-Z0-9._-]{1,249}
// (path tricks, NUL, '.', '..', 250 chars) are refused with INVALID_TOPIC, and topic
// configs parse from Kafka names, refuse unknown keys and bad values, and round-trip.

import { describe, expect, it } from 'vitest';
import { isSpoolError, Errors } from '../../src/util/errors.js';
import {
  DEFAULT_TOPIC_CONFIG,
  parseTopicConfig,
  topicConfigToRecord,
  validateTopicName,
} from '../../src/storage/index.js';
import { formatBaseOffset, parsePartitionDirName, parseSegmentFileName, segmentFileName } from '../../src/storage/names.js';
import { resolveTopicConfig } from '../../src/storage/config.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isSpoolError(error) ? error.code : 'not a SpoolError';
  }
  return undefined;
}

describe('segment file names', () => {
  it('uses 20-digit base offsets', () => {
    expect(segmentFileName(0, 'log')).toBe('00000000000000000000.log');
    expect(segmentFileName(123456, 'index')).toBe('00000000000000123456.index');
    expect(segmentFileName(Number.MAX_SAFE_INTEGER, 'timeindex')).toBe('00009007199254740991.timeindex');
    expect(formatBaseOffset(42)).toHaveLength(20);
  });

  it('parses its own names and nothing else', () => {
    expect(parseSegmentFileName('00000000000000000042.log')).toEqual({ baseOffset: 42, kind: 'log' });
    expect(parseSegmentFileName('00000000000000000042.timeindex')).toEqual({ baseOffset: 42, kind: 'timeindex' });
    expect(parseSegmentFileName('00000000000000000042.log.cleaned')).toBeNull();
    expect(parseSegmentFileName('42.log')).toBeNull();
    expect(parseSegmentFileName('99999999999999999999.log')).toBeNull();
  });

  it('parses partition directory names at the last dash', () => {
    expect(parsePartitionDirName('orders-3')).toEqual({ topic: 'orders', partition: 3 });
    expect(parsePartitionDirName('a-1-0')).toEqual({ topic: 'a-1', partition: 0 });
    expect(parsePartitionDirName('meta')).toBeNull();
    expect(parsePartitionDirName('orders-3.1-2.deleted')).toBeNull();
  });
});

describe('validateTopicName', () => {
  it('accepts legal names', () => {
    for (const name of ['a', 'orders', 'a.b_c-D9', '__consumer_offsets', 'x'.repeat(249), '...']) {
      expect(code(() => validateTopicName(name))).toBeUndefined();
    }
  });

  it('refuses anything that could leave the data directory or is not a name', () => {
    for (const name of ['', '.', '..', '../x', 'a/b', 'a\\b', 'a\0b', 'x'.repeat(250), 'a b', 'é', '/abs']) {
      expect(code(() => validateTopicName(name)), JSON.stringify(name)).toBe(Errors.INVALID_TOPIC.name);
    }
    expect(code(() => validateTopicName(42 as unknown as string))).toBe('INVALID_TOPIC');
  });
});

describe('topic config', () => {
  it('parses Kafka names from numbers and strings', () => {
    expect(parseTopicConfig({ 'retention.ms': '1000', 'segment.bytes': 4096, 'cleanup.policy': 'compact', 'retention.bytes': -1 })).toEqual({
      retentionMs: 1000,
      segmentBytes: 4096,
      cleanupPolicy: 'compact',
      retentionBytes: -1,
    });
  });

  it('refuses unknown names and bad values with INVALID_CONFIG', () => {
    for (const raw of [
      { 'retention.mss': 1 },
      { 'retention.ms': 'soon' },
      { 'retention.ms': 1.5 },
      { 'retention.ms': -2 },
      { 'segment.bytes': 10 },
      { 'segment.ms': 0 },
      { 'cleanup.policy': 'delete,compact' },
      { 'index.interval.bytes': -1 },
    ]) {
      expect(code(() => parseTopicConfig(raw as Record<string, string | number>)), JSON.stringify(raw)).toBe('INVALID_CONFIG');
    }
  });

  it('round-trips every field through Kafka names', () => {
    const record = topicConfigToRecord(DEFAULT_TOPIC_CONFIG);
    expect(record['segment.bytes']).toBe(1024 * 1024 * 1024);
    expect(record['index.interval.bytes']).toBe(4096);
    expect(resolveTopicConfig(parseTopicConfig(record))).toEqual(DEFAULT_TOPIC_CONFIG);
  });

  it('checks field-form configs too', () => {
    expect(code(() => resolveTopicConfig({ segmentBytes: -5 }))).toBe('INVALID_CONFIG');
    expect(resolveTopicConfig({ retentionMs: 5 }, { segmentBytes: 1000 })).toMatchObject({ retentionMs: 5, segmentBytes: 1000 });
  });
});
