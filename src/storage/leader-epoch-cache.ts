// The leader-epoch cache of one partition (Kafka's LeaderEpochFileCache): for every leader
// epoch that wrote to the log, the first offset it wrote. A returning replica asks the
// leader "where does my latest epoch end in your log?" (OffsetForLeaderEpoch) and
// truncates there; this file answers that question (endOffsetForEpoch).
//
// File `<partition dir>/leader-epoch-checkpoint`, Kafka's text format (ASCII, '\n' ends
// every line, no trailing blank line):
//
//   LeaderEpochCheckpoint => version:"0" '\n' count:decimal '\n' entry{count}
//   entry                 => epoch:decimal ' ' startOffset:decimal '\n'
//
// Entries are in increasing epoch and non-decreasing start offset order. It is written
// atomically and durably (tmp, fdatasync, rename, fsync dir) whenever an entry is added
// or entries are removed, BEFORE the batches of a new epoch are written, so every epoch
// in the log has its entry (an entry past the log end after a crash is dropped on load).
// Not checksummed: atomicity comes from the rename; a reader checks the version, the
// count against the lines, every number, and the order. A file that fails is "corrupt":
// recovery rebuilds the cache from the batch headers (partitionLeaderEpoch of each batch)
// and rewrites it.

import { join } from 'node:path';
import { BATCH_HEADER_BYTES, BatchLayout, LOG_OVERHEAD } from '../records/index.js';
import { assert } from '../util/assert.js';
import { type StorageFs, readFullySync, readWholeFileSync } from './fs.js';
import { readInt64 } from './index-format.js';
import { writeFileAtomicSync } from './metadata.js';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const LEADER_EPOCH_CHECKPOINT_VERSION = 0;
/** Kafka's UNDEFINED_EPOCH and UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;
/** Entries a checkpoint may hold (a limit checked before allocating; one per leader change). */
export const MAX_LEADER_EPOCH_ENTRIES = 1_000_000;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export interface EpochEndOffset {
  /** The largest epoch <= the requested one (or the requested one, see endOffsetForEpoch); -1 when unknown. */
  epoch: number;
  /** Where that epoch ends (exclusive): the next epoch's start, or the log end for the latest; -1 when unknown. */
  endOffset: number;
}

export function encodeLeaderEpochCheckpoint(entries: readonly EpochEntry[]): Buffer {
  let text = `${LEADER_EPOCH_CHECKPOINT_VERSION}\n${entries.length}\n`;
  for (const entry of entries) text += `${entry.epoch} ${entry.startOffset}\n`;
  return Buffer.from(text, 'ascii');
}

const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;

function parseDecimal(text: string | undefined): number | null {
  if (text === undefined || !DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

/** Parses a checkpoint; null when it is not a well-formed one (corrupt, torn, other version). */
export function decodeLeaderEpochCheckpoint(data: Buffer): EpochEntry[] | null {
  const text = data.toString('latin1');
  if (!text.endsWith('\n')) return null;
  const lines = text.slice(0, -1).split('\n');
  if (parseDecimal(lines[0]) !== LEADER_EPOCH_CHECKPOINT_VERSION) return null;
  const count = parseDecimal(lines[1]);
  if (count === null || count > MAX_LEADER_EPOCH_ENTRIES || lines.length !== count + 2) return null;
  const entries: EpochEntry[] = [];
  for (let i = 0; i < count; i++) {
    const fields = lines[i + 2]!.split(' ');
    if (fields.length !== 2) return null;
    const epoch = parseDecimal(fields[0]);
    const startOffset = parseDecimal(fields[1]);
    if (epoch === null || startOffset === null) return null;
    const previous = entries[entries.length - 1];
    if (previous && (epoch <= previous.epoch || startOffset < previous.startOffset)) return null;
    entries.push({ epoch, startOffset });
  }
  return entries;
}

export class LeaderEpochCache {
  private entries: EpochEntry[] = [];
  readonly path: string;

  constructor(
    private readonly fs: StorageFs,
    dir: string,
  ) {
    this.path = join(dir, LEADER_EPOCH_CHECKPOINT_FILE);
  }

  /** A copy of the entries, oldest first. */
  get all(): EpochEntry[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  get isEmpty(): boolean {
    return this.entries.length === 0;
  }

  get latestEpoch(): number {
    return this.entries[this.entries.length - 1]?.epoch ?? UNDEFINED_EPOCH;
  }

  /**
   * Loads the checkpoint: 'loaded', 'missing' (no file) or 'corrupt' (a file that does
   * not parse; the cache is then empty and the caller rebuilds it from the log).
   */
  load(): 'loaded' | 'missing' | 'corrupt' {
    this.entries = [];
    if (!this.fs.existsSync(this.path)) return 'missing';
    const entries = decodeLeaderEpochCheckpoint(readWholeFileSync(this.fs, this.path));
    if (!entries) return 'corrupt';
    this.entries = entries;
    return 'loaded';
  }

  /** Writes the checkpoint atomically and durably (see the file comment). */
  flush(): void {
    writeFileAtomicSync(this.fs, this.path, encodeLeaderEpochCheckpoint(this.entries));
  }

  /**
   * Notes that `epoch` wrote its first batch at `startOffset` (Kafka's assign): a no-op
   * for the latest epoch; otherwise entries that conflict (an epoch >= this one, or a
   * start offset >= this one) are removed first, so the entries stay monotonic. Returns
   * true when the entries changed (the caller flushes before writing the batch).
   */
  assign(epoch: number, startOffset: number): boolean {
    assert(epoch >= 0 && Number.isSafeInteger(startOffset) && startOffset >= 0, `bad leader epoch entry ${epoch}@${startOffset}`);
    const latest = this.entries[this.entries.length - 1];
    if (latest && latest.epoch === epoch && latest.startOffset <= startOffset) return false;
    while (this.entries.length > 0) {
      const last = this.entries[this.entries.length - 1]!;
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      this.entries.pop();
    }
    this.entries.push({ epoch, startOffset });
    return true;
  }

  /** Removes entries whose start offset is >= `endOffset` (after a log truncation). Returns true when any went. */
  truncateFromEnd(endOffset: number): boolean {
    const before = this.entries.length;
    while (this.entries.length > 0 && this.entries[this.entries.length - 1]!.startOffset >= endOffset) this.entries.pop();
    return this.entries.length !== before;
  }

  /**
   * The log start moved to `startOffset`: entries wholly below it go, and the one that
   * holds it starts there (Kafka's truncateFromStart). Returns true when anything changed.
   */
  truncateFromStart(startOffset: number): boolean {
    let firstKept = 0;
    while (firstKept + 1 < this.entries.length && this.entries[firstKept + 1]!.startOffset <= startOffset) firstKept++;
    const first = this.entries[firstKept];
    if (!first || (firstKept === 0 && first.startOffset >= startOffset)) return false;
    this.entries = this.entries.slice(firstKept);
    this.entries[0] = { epoch: first.epoch, startOffset: Math.max(first.startOffset, startOffset) };
    return true;
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer (LeaderEpochFileCache.endOffsetFor):
   * - requested -1, or an empty cache: { -1, -1 };
   * - the latest epoch: { it, logEndOffset };
   * - above the latest: { -1, -1 };
   * - below the first epoch: { requested, the first epoch's start offset };
   * - otherwise: { the largest epoch <= requested, the start offset of the next epoch }.
   */
  endOffsetForEpoch(requestedEpoch: number, logEndOffset: number): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH || this.entries.length === 0) return undefinedAnswer;
    const latest = this.entries[this.entries.length - 1]!;
    if (latest.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    // The first entry with an epoch > requested, and the one before it (the floor).
    let higher = 0;
    while (higher < this.entries.length && this.entries[higher]!.epoch <= requestedEpoch) higher++;
    if (higher === this.entries.length) return undefinedAnswer;
    const next = this.entries[higher]!;
    const floor = this.entries[higher - 1];
    return { epoch: floor ? floor.epoch : requestedEpoch, endOffset: next.startOffset };
  }

  /** Replaces the entries (a rebuild from the log). */
  replace(entries: EpochEntry[]): void {
    this.entries = entries;
  }
}

/**
 * Adds to `entries` the epochs of the batches of one segment's .log (their
 * partitionLeaderEpoch, when >= 0), walking batch headers from `position` to `endBytes`:
 * one small positional read per batch, no CRC (recovery already validated what it kept).
 */
export function collectEpochsFromSegment(fs: StorageFs, logFd: number, position: number, endBytes: number, entries: EpochEntry[]): void {
  const header = Buffer.allocUnsafe(BATCH_HEADER_BYTES);
  for (let at = position; at + BATCH_HEADER_BYTES <= endBytes; ) {
    if (readFullySync(fs, logFd, header, at) !== BATCH_HEADER_BYTES) return;
    const epoch = header.readInt32BE(BatchLayout.PARTITION_LEADER_EPOCH);
    const last = entries[entries.length - 1];
    if (epoch >= 0 && (!last || epoch > last.epoch)) entries.push({ epoch, startOffset: readInt64(header, 0) });
    at += header.readInt32BE(BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
  }
}
