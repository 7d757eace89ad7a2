// Topic configuration: defaults, parsing from Kafka's config names, and back.
// parseTopicConfig accepts numbers or decimal strings (as CreateTopics and the CLI send
// them) and refuses unknown names and out-of-range values with INVALID_CONFIG.

import { Errors, SpoolError } from '../util/errors.js';
import { type TopicConfig, TopicConfigNames } from './types.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export const DEFAULT_TOPIC_CONFIG: Readonly<TopicConfig> = Object.freeze({
  retentionMs: 7 * DAY_MS,
  retentionBytes: -1,
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * DAY_MS,
  cleanupPolicy: 'delete',
  maxMessageBytes: 1048588,
  deleteRetentionMs: DAY_MS,
  indexIntervalBytes: 4096,
  messageTimestampDifferenceMaxMs: -1,
});

/** Segment positions are u32 in the index; keep segments well inside that. */
export const MAX_SEGMENT_BYTES = 2 ** 31 - 1;
/** The smallest segment that still holds a batch header; tests use tiny segments. */
export const MIN_SEGMENT_BYTES = 128;

type NumericKey = Exclude<keyof TopicConfig, 'cleanupPolicy'>;

/** [min, max] per numeric field; -1 is allowed where it means "no limit". */
const NUMERIC_RANGES: Record<NumericKey, { min: number; max: number; unlimited?: true }> = {
  retentionMs: { min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true },
  retentionBytes: { min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true },
  segmentBytes: { min: MIN_SEGMENT_BYTES, max: MAX_SEGMENT_BYTES },
  segmentMs: { min: 1, max: Number.MAX_SAFE_INTEGER },
  maxMessageBytes: { min: 0, max: MAX_SEGMENT_BYTES },
  deleteRetentionMs: { min: 0, max: Number.MAX_SAFE_INTEGER },
  indexIntervalBytes: { min: 0, max: MAX_SEGMENT_BYTES },
  messageTimestampDifferenceMaxMs: { min: 0, max: Number.MAX_SAFE_INTEGER, unlimited: true },
};

const FIELD_BY_NAME = new Map<string, keyof TopicConfig>(
  (Object.entries(TopicConfigNames) as Array<[keyof TopicConfig, string]>).map(([field, name]) => [name, field]),
);

function invalid(message: string): SpoolError {
  return new SpoolError(Errors.INVALID_CONFIG, message);
}

function parseInteger(name: string, raw: string | number): number {
  const value = typeof raw === 'number' ? raw : /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(value)) throw invalid(`${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

/** Kafka names (`retention.ms`) -> fields. Throws INVALID_CONFIG on an unknown key or bad value. */
export function parseTopicConfig(raw: Record<string, string | number>): Partial<TopicConfig> {
  const result: Partial<TopicConfig> = {};
  for (const [name, value] of Object.entries(raw)) {
    const field = FIELD_BY_NAME.get(name);
    if (field === undefined) throw invalid(`unknown topic config ${JSON.stringify(name)}`);
    if (field === 'cleanupPolicy') {
      if (value !== 'delete' && value !== 'compact') throw invalid(`cleanup.policy must be delete or compact, got ${JSON.stringify(value)}`);
      result.cleanupPolicy = value;
    } else {
      result[field] = checkNumeric(field, parseInteger(name, value));
    }
  }
  return result;
}

function checkNumeric(field: NumericKey, value: number): number {
  const range = NUMERIC_RANGES[field];
  if (range.unlimited && value === -1) return value;
  if (value < range.min || value > range.max) {
    throw invalid(`${TopicConfigNames[field]} must be between ${range.min} and ${range.max}${range.unlimited ? ' (or -1)' : ''}, got ${value}`);
  }
  return value;
}

/** Checks a config given as fields (createTopic's argument). Throws INVALID_CONFIG. */
export function validateTopicConfig(config: Partial<TopicConfig>): Partial<TopicConfig> {
  const result: Partial<TopicConfig> = {};
  for (const [field, value] of Object.entries(config) as Array<[keyof TopicConfig, unknown]>) {
    if (value === undefined) continue;
    if (!(field in TopicConfigNames)) throw invalid(`unknown topic config field ${JSON.stringify(field)}`);
    if (field === 'cleanupPolicy') {
      if (value !== 'delete' && value !== 'compact') throw invalid(`cleanup.policy must be delete or compact, got ${JSON.stringify(value)}`);
      result.cleanupPolicy = value;
    } else {
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) throw invalid(`${TopicConfigNames[field]} must be an integer`);
      result[field] = checkNumeric(field, value);
    }
  }
  return result;
}

/** Fields -> Kafka names, every field present. */
export function topicConfigToRecord(config: TopicConfig): Record<string, string | number> {
  const record: Record<string, string | number> = {};
  for (const [field, name] of Object.entries(TopicConfigNames) as Array<[keyof TopicConfig, string]>) {
    record[name] = config[field];
  }
  return record;
}

export function resolveTopicConfig(...layers: Array<Partial<TopicConfig> | undefined>): TopicConfig {
  let config: TopicConfig = { ...DEFAULT_TOPIC_CONFIG };
  for (const layer of layers) if (layer) config = { ...config, ...validateTopicConfig(layer) };
  return config;
}
