// Names on disk: topic names, partition directories and segment files.
//
//   dataDir/<topic>-<partition>/<20-digit base offset>.log | .index | .timeindex
//   dataDir/meta/topics/<topic>.json                      topic metadata
//   dataDir/meta/checkpoints/<topic>-<partition>.json     recovery checkpoint
//
// A topic name is 1-249 characters of [a-zA-Z0-9._-] and not "." or "..", so it can
// never hold a path separator or NUL and can never name a parent directory: every path
// built from a validated name stays inside the data directory. The partition directory
// `<topic>-<partition>` is unambiguous because the partition is the digits after the
// last '-'. Suffixes storage owns (`.tmp`, `.cleaned`, `.deleted`) are never produced by
// a valid partition directory name (which ends in digits) or segment file name.

import { join } from 'node:path';
import { Errors, SpoolError } from '../util/errors.js';

export const MAX_TOPIC_NAME_LENGTH = 249;
const TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** Throws SpoolError INVALID_TOPIC unless `name` is a legal topic name. */
export function validateTopicName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SpoolError(Errors.INVALID_TOPIC, 'topic name must be a non-empty string');
  }
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new SpoolError(Errors.INVALID_TOPIC, `topic name is ${name.length} characters, the limit is ${MAX_TOPIC_NAME_LENGTH}`);
  }
  if (name === '.' || name === '..') {
    throw new SpoolError(Errors.INVALID_TOPIC, `topic name "${name}" is not allowed`);
  }
  if (!TOPIC_NAME.test(name)) {
    throw new SpoolError(Errors.INVALID_TOPIC, `topic name ${JSON.stringify(name)} may contain only a-z, A-Z, 0-9, '.', '_' and '-'`);
  }
}

export const SegmentSuffix = {
  log: '.log',
  index: '.index',
  timeindex: '.timeindex',
} as const;
export type SegmentFileKind = keyof typeof SegmentSuffix;

/** Suffixes of files and directories that are never live data and are removed by recovery. */
export const TEMP_SUFFIX = '.tmp';
export const CLEANED_SUFFIX = '.cleaned';
export const DELETED_SUFFIX = '.deleted';

const OFFSET_DIGITS = 20;
const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

export function formatBaseOffset(baseOffset: number): string {
  return String(baseOffset).padStart(OFFSET_DIGITS, '0');
}

export function segmentFileName(baseOffset: number, kind: SegmentFileKind): string {
  return formatBaseOffset(baseOffset) + SegmentSuffix[kind];
}

/** Parses `00000000000000000042.log` into { baseOffset: 42, kind: 'log' }; null for other names. */
export function parseSegmentFileName(fileName: string): { baseOffset: number; kind: SegmentFileKind } | null {
  const match = SEGMENT_FILE.exec(fileName);
  if (!match) return null;
  const baseOffset = Number(match[1]);
  if (!Number.isSafeInteger(baseOffset)) return null;
  return { baseOffset, kind: match[2] as SegmentFileKind };
}

export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** Parses `<topic>-<partition>`; null when the name is not a partition directory. */
export function parsePartitionDirName(dirName: string): { topic: string; partition: number } | null {
  const dash = dirName.lastIndexOf('-');
  if (dash <= 0) return null;
  const digits = dirName.slice(dash + 1);
  if (!/^\d{1,9}$/.test(digits)) return null;
  const topic = dirName.slice(0, dash);
  try {
    validateTopicName(topic);
  } catch {
    // Not a name storage could have made: not a partition directory.
    return null;
  }
  return { topic, partition: Number(digits) };
}

export class DataDirLayout {
  readonly metaDir: string;
  readonly topicsMetaDir: string;
  readonly checkpointsDir: string;
  constructor(readonly dataDir: string) {
    this.metaDir = join(dataDir, 'meta');
    this.topicsMetaDir = join(this.metaDir, 'topics');
    this.checkpointsDir = join(this.metaDir, 'checkpoints');
  }
  partitionDir(topic: string, partition: number): string {
    validateTopicName(topic);
    return join(this.dataDir, partitionDirName(topic, partition));
  }
  topicMetaPath(topic: string): string {
    validateTopicName(topic);
    return join(this.topicsMetaDir, `${topic}.json`);
  }
  checkpointPath(topic: string, partition: number): string {
    validateTopicName(topic);
    return join(this.checkpointsDir, `${partitionDirName(topic, partition)}.json`);
  }
}
