// Names on disk: topic names, partition directories and segment files.
//
//   dataDir/<topic>-<partition>/<20-digit base offset>.log | .index | .timeindex
//   dataDir/meta/topics/<topic>.json                      topic metadata
//   dataDir/meta/checkpoints/<topic>-<partition>.json     recovery checkpoint
//
// Every name fits in 255 bytes (Linux's limit) with room for a `.tmp` suffix: metadata
// and checkpoint names of long topics are shortened to `<prefix>~<16 hex of SHA-256>.json`
// (fitFileName), `.deleted` renames likewise (deletedName). Partition directories are
// never shortened (at most 249 + `-9999` = 254 bytes): load() reads the topic from them.
//
// A topic name is 1-249 characters of [a-zA-Z0-9._-] and not "." or "..", so it can
// never hold a path separator or NUL and can never name a parent directory: every path
// built from a validated name stays inside the data directory. The partition directory
// `<topic>-<partition>` is unambiguous because the partition is the digits after the
// last '-'. Suffixes storage owns (`.tmp`, `.cleaned`, `.deleted`) are never produced by
// a valid partition directory name (which ends in digits) or segment file name.

import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { assert } from '../util/assert.js';
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

/** The longest file name (bytes) Linux file systems accept. */
export const MAX_FILE_NAME_BYTES = 255;
/**
 * Room every derived name leaves for what storage appends to it: `.tmp` on an atomic
 * write. A name longer than MAX_FILE_NAME_BYTES - this is shortened (see fitFileName).
 */
const SUFFIX_ROOM_BYTES = TEMP_SUFFIX.length;
/** Separates the kept prefix from the hash in a shortened name; never in a topic name. */
export const SHORTENED_MARK = '~';
const HASH_CHARS = 16;

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_CHARS);
}

/**
 * `stem + suffix` when it fits in 255 bytes with room for `.tmp`; otherwise the stem cut
 * to fit, `~`, and 16 hex characters (64 bits) of the SHA-256 of the whole stem. Names
 * are ASCII (topic names are), so characters are bytes. `~` is not a topic character,
 * so a shortened name never equals a plain one.
 */
export function fitFileName(stem: string, suffix: string): string {
  const limit = MAX_FILE_NAME_BYTES - SUFFIX_ROOM_BYTES;
  if (stem.length + suffix.length <= limit) return stem + suffix;
  const keep = limit - suffix.length - SHORTENED_MARK.length - HASH_CHARS;
  return stem.slice(0, keep) + SHORTENED_MARK + shortHash(stem) + suffix;
}

/** The temporary name of an atomic write of `path`: `<name>.tmp` (the name itself fits with room for it). */
export function tempName(path: string): string {
  return path + TEMP_SUFFIX;
}

/**
 * The name a directory or file is renamed to before removal: `<name>.<pid>-<n>.deleted`
 * next to it, shortened (fitFileName) for long names. Recovery removes `*.deleted`.
 */
export function deletedName(path: string, pid: number, sequence: number): string {
  return join(dirname(path), fitFileName(`${basename(path)}.${pid}-${sequence}`, DELETED_SUFFIX));
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
  /**
   * `<topic>-<partition>`, never shortened: its name is how start-up finds the topic of a
   * directory. 249 characters + `-9999` = 254 bytes; nothing is ever appended to it but
   * through deletedName.
   */
  partitionDir(topic: string, partition: number): string {
    validateTopicName(topic);
    const name = partitionDirName(topic, partition);
    assert(name.length <= MAX_FILE_NAME_BYTES, `partition directory name of ${name.length} bytes`);
    return join(this.dataDir, name);
  }
  /** `<topic>.json`, shortened for long names (the file names its topic inside). */
  topicMetaPath(topic: string): string {
    validateTopicName(topic);
    return join(this.topicsMetaDir, fitFileName(topic, '.json'));
  }
  /** `<topic>-<partition>.json`, shortened for long names. */
  checkpointPath(topic: string, partition: number): string {
    validateTopicName(topic);
    return join(this.checkpointsDir, fitFileName(partitionDirName(topic, partition), '.json'));
  }
}
