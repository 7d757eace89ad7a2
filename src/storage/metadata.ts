// Metadata files: topic metadata and per-partition recovery checkpoints. Both are small
// JSON documents with a `format` version, written atomically:
//   write <path>.tmp, fdatasync it, rename over <path>, fsync the directory.
// A reader therefore sees the old file or the new one, never a torn one; a crash can only
// leave a stray <path>.tmp, which recovery deletes. They are not checksummed: atomicity
// comes from the rename, and a reader checks every field's type and the format version.
//
//   TopicMeta  => { "format": 1, "name": string, "partitions": int, "internal": bool,
//                   "config": { <Kafka config name>: number | string, ... } }
//   Checkpoint => { "format": 1, "recoveryPoint": int, "logStartOffset": int, "cleanShutdown": bool }

import { dirname } from 'node:path';
import { parseTopicConfig, resolveTopicConfig, topicConfigToRecord } from './config.js';
import { type StorageFs, readWholeFileSync, writeFullySync } from './fs.js';
import { tempName, validateTopicName } from './names.js';
import type { SyncBatch } from './sync-batch.js';
import type { TopicInfo } from './types.js';

export const TOPIC_META_FORMAT = 1;
export const CHECKPOINT_FORMAT = 1;

/**
 * `durable: false` skips both fsyncs: only for a file whose loss or emptiness after a
 * power failure is harmless (the checkpoint written right after recovery: without a
 * readable checkpoint recovery scans, slower but never wrong). Still atomic for a process
 * crash: a reader sees the old file or the new one.
 */
export function writeFileAtomicSync(fs: StorageFs, path: string, data: Buffer, durable = true): void {
  const temp = tempName(path);
  const fd = fs.openSync(temp, 'w');
  try {
    writeFullySync(fs, fd, data, 0);
    if (durable) fs.fdatasyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, path);
  if (durable) fs.fsyncDirSync(dirname(path));
}

/**
 * The atomic write in two steps for a batch of them (a clean shutdown's checkpoints): the
 * temp file is written now and its fdatasync joins `batch`; the rename runs after the
 * batch's flush. The caller fsyncs the directory once after that flush.
 */
export function writeFileAtomicBatched(fs: StorageFs, path: string, data: Buffer, batch: SyncBatch, onRenamed: () => void): void {
  const temp = tempName(path);
  const fd = fs.openSync(temp, 'w');
  try {
    writeFullySync(fs, fd, data, 0);
  } finally {
    fs.closeSync(fd);
  }
  batch.add(temp);
  batch.afterSynced(() => {
    fs.renameSync(temp, path);
    onRenamed();
  });
}

export function encodeTopicMeta(info: TopicInfo): Buffer {
  const doc = {
    format: TOPIC_META_FORMAT,
    name: info.name,
    partitions: info.partitions,
    internal: info.internal,
    config: topicConfigToRecord(info.config),
  };
  return Buffer.from(JSON.stringify(doc, null, 2) + '\n');
}

/** Parses a topic metadata file; throws Error with a reason when it is not one. */
export function decodeTopicMeta(data: Buffer): TopicInfo {
  const doc = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  if (doc.format !== TOPIC_META_FORMAT) throw new Error(`unsupported topic metadata format ${String(doc.format)}`);
  const name = doc.name;
  validateTopicName(name);
  const partitions = doc.partitions;
  if (typeof partitions !== 'number' || !Number.isSafeInteger(partitions) || partitions < 1) throw new Error('bad partitions');
  if (typeof doc.internal !== 'boolean') throw new Error('bad internal flag');
  if (typeof doc.config !== 'object' || doc.config === null) throw new Error('bad config');
  const config = resolveTopicConfig(parseTopicConfig(doc.config as Record<string, string | number>));
  return { name, partitions, internal: doc.internal, config };
}

export interface Checkpoint {
  /** Every segment wholly below this offset was fsynced with its indexes: recovery trusts it. */
  recoveryPoint: number;
  logStartOffset: number;
  /**
   * Written true by a clean close (recoveryPoint = log end offset). Recovery trusts the
   * last segment only when this is true and its verified end equals recoveryPoint, so a
   * stale true left by a crash after a later append never skips a needed scan.
   */
  cleanShutdown: boolean;
}

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  return Buffer.from(JSON.stringify({ format: CHECKPOINT_FORMAT, ...checkpoint }) + '\n');
}

export function decodeCheckpoint(data: Buffer): Checkpoint {
  const doc = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  if (doc.format !== CHECKPOINT_FORMAT) throw new Error(`unsupported checkpoint format ${String(doc.format)}`);
  const { recoveryPoint, logStartOffset, cleanShutdown } = doc;
  if (typeof recoveryPoint !== 'number' || !Number.isSafeInteger(recoveryPoint) || recoveryPoint < 0) throw new Error('bad recoveryPoint');
  if (typeof logStartOffset !== 'number' || !Number.isSafeInteger(logStartOffset) || logStartOffset < 0) throw new Error('bad logStartOffset');
  if (typeof cleanShutdown !== 'boolean') throw new Error('bad cleanShutdown');
  return { recoveryPoint, logStartOffset, cleanShutdown };
}

export function readCheckpointSync(fs: StorageFs, path: string): Checkpoint | null {
  if (!fs.existsSync(path)) return null;
  return decodeCheckpoint(readWholeFileSync(fs, path));
}
