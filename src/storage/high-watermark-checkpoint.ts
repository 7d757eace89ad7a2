// The high-watermark checkpoint of a data directory (Kafka's replication-offset-checkpoint):
// every partition's high watermark, so a restarted replica does not expose records
// beyond what was replicated before the crash and does not forget how far it was.
//
// File `<dataDir>/replication-offset-checkpoint`, Kafka's text format (ASCII, '\n' ends
// every line):
//
//   HighWatermarkCheckpoint => version:"0" '\n' count:decimal '\n' entry{count}
//   entry                   => topic ' ' partition:decimal ' ' highWatermark:decimal '\n'
//
// A topic name never holds a space (names.ts), so the fields split on ' '. Written only
// when the log manager runs with `replicated: true` (single-node logs have HW == log end
// and need none), by the `high-watermark-checkpoint` task when any value changed and at
// close, atomically and durably (tmp, fdatasync, rename, fsync dir). Not checksummed: a
// reader checks the version, the count against the lines and every field; a file that
// fails is ignored with a warning, and every partition starts with HW = its log start
// offset (the leader recomputes it from its followers; nothing unreplicated is exposed).
// On load each value is capped at the partition's recovered log end.

import { type StorageFs, readWholeFileSync } from './fs.js';
import { writeFileAtomicSync } from './metadata.js';
import { validateTopicName } from './names.js';

export const HIGH_WATERMARK_CHECKPOINT_FILE = 'replication-offset-checkpoint';
export const HIGH_WATERMARK_CHECKPOINT_VERSION = 0;

export interface HighWatermarkEntry {
  topic: string;
  partition: number;
  highWatermark: number;
}

export function encodeHighWatermarks(entries: Iterable<HighWatermarkEntry>): Buffer {
  const lines: string[] = [];
  for (const entry of entries) lines.push(`${entry.topic} ${entry.partition} ${entry.highWatermark}\n`);
  return Buffer.from(`${HIGH_WATERMARK_CHECKPOINT_VERSION}\n${lines.length}\n${lines.join('')}`, 'ascii');
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

/** Parses a checkpoint into `topic-partition` keyed values; throws Error with a reason when it is not one. */
export function decodeHighWatermarks(data: Buffer): Map<string, number> {
  const text = data.toString('latin1');
  if (!text.endsWith('\n')) throw new Error('no final newline (torn?)');
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== String(HIGH_WATERMARK_CHECKPOINT_VERSION)) throw new Error(`unsupported version ${JSON.stringify(lines[0])}`);
  const countText = lines[1] ?? '';
  if (!DECIMAL.test(countText) || Number(countText) !== lines.length - 2) throw new Error(`count ${JSON.stringify(countText)} does not match ${lines.length - 2} entries`);
  const values = new Map<string, number>();
  for (let i = 2; i < lines.length; i++) {
    const fields = lines[i]!.split(' ');
    if (fields.length !== 3 || !DECIMAL.test(fields[1]!) || !DECIMAL.test(fields[2]!)) throw new Error(`bad entry on line ${i + 1}`);
    validateTopicName(fields[0]);
    const highWatermark = Number(fields[2]);
    if (!Number.isSafeInteger(highWatermark)) throw new Error(`bad high watermark on line ${i + 1}`);
    values.set(highWatermarkKey(fields[0]!, Number(fields[1])), highWatermark);
  }
  return values;
}

export function highWatermarkKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** The checkpoint's values, or null when there is no file; throws Error when it is unreadable. */
export function readHighWatermarksSync(fs: StorageFs, path: string): Map<string, number> | null {
  if (!fs.existsSync(path)) return null;
  return decodeHighWatermarks(readWholeFileSync(fs, path));
}

export function writeHighWatermarksSync(fs: StorageFs, path: string, entries: Iterable<HighWatermarkEntry>): void {
  writeFileAtomicSync(fs, path, encodeHighWatermarks(entries));
}
