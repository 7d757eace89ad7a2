// The sparse time index of one segment, in memory as two parallel typed arrays.
//
//   TimeIndexFile => IndexHeader (index-format.ts) [Entry]
//   Entry => timestamp:int64 relativeOffset:uint32             (12 bytes, big-endian)
//     timestamp       the largest batch maxTimestamp in the segment up to and including
//                     the batch at relativeOffset
//     relativeOffset  baseOffset of that batch minus the segment's base offset
//
// Entries are added at the same moments as offset index entries (when the running
// maximum grew), and for the last batch when the segment is closed, so a closed
// segment's last entry holds its largest timestamp (retention uses it). Timestamps are
// non-decreasing, relative offsets strictly increasing. To find the first record with a
// timestamp >= T, start at the batch of the last entry with timestamp < T: every batch
// before it has only smaller timestamps.

import { INDEX_HEADER_BYTES, TimeIndexFormat, checkIndexFile, encodeIndexHeader, readInt64, writeInt64 } from './index-format.js';

const ENTRY_BYTES = TimeIndexFormat.entryBytes;

export class TimeIndex {
  private timestamps: Float64Array;
  private relativeOffsets: Uint32Array;
  private count = 0;
  private pending: Buffer = Buffer.allocUnsafe(0);
  private pendingBytes = 0;

  constructor(capacity = 16) {
    this.timestamps = new Float64Array(capacity);
    this.relativeOffsets = new Uint32Array(capacity);
  }

  get entryCount(): number {
    return this.count;
  }

  get fileBytes(): number {
    return INDEX_HEADER_BYTES + this.count * ENTRY_BYTES;
  }

  lastTimestamp(): number {
    return this.count === 0 ? -1 : this.timestamps[this.count - 1]!;
  }

  lastRelativeOffset(): number {
    return this.count === 0 ? -1 : this.relativeOffsets[this.count - 1]!;
  }

  entry(i: number): { timestamp: number; relativeOffset: number } {
    return { timestamp: this.timestamps[i]!, relativeOffset: this.relativeOffsets[i]! };
  }

  append(timestamp: number, relativeOffset: number): void {
    if (this.count > 0 && (relativeOffset <= this.lastRelativeOffset() || timestamp < this.lastTimestamp())) {
      throw new Error(`time index entry (${timestamp}, ${relativeOffset}) is not past the last one`);
    }
    if (this.count === this.timestamps.length) {
      const timestamps = new Float64Array(this.count * 2);
      timestamps.set(this.timestamps);
      const relativeOffsets = new Uint32Array(this.count * 2);
      relativeOffsets.set(this.relativeOffsets);
      this.timestamps = timestamps;
      this.relativeOffsets = relativeOffsets;
    }
    this.timestamps[this.count] = timestamp;
    this.relativeOffsets[this.count] = relativeOffset;
    this.count++;
    if (this.pendingBytes + ENTRY_BYTES > this.pending.length) {
      const next = Buffer.allocUnsafe(Math.max(384, this.pending.length * 2));
      this.pending.copy(next, 0, 0, this.pendingBytes);
      this.pending = next;
    }
    writeInt64(this.pending, this.pendingBytes, timestamp);
    this.pending.writeUInt32BE(relativeOffset, this.pendingBytes + 8);
    this.pendingBytes += ENTRY_BYTES;
  }

  takePending(): Buffer | null {
    if (this.pendingBytes === 0) return null;
    const bytes = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    return bytes;
  }

  /** Relative offset to start scanning from for the first timestamp >= target (0 if none below). */
  lookup(timestamp: number): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.timestamps[mid]! < timestamp) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found < 0 ? 0 : this.relativeOffsets[found]!;
  }

  /** The whole .timeindex file image: header and every entry. */
  encodeFile(): Buffer {
    const data = Buffer.allocUnsafe(this.fileBytes);
    encodeIndexHeader(TimeIndexFormat).copy(data, 0);
    for (let i = 0; i < this.count; i++) {
      const at = INDEX_HEADER_BYTES + i * ENTRY_BYTES;
      writeInt64(data, at, this.timestamps[i]!);
      data.writeUInt32BE(this.relativeOffsets[i]!, at + 8);
    }
    return data;
  }

  /** Parses a whole .timeindex file; null when the header, the length or the order is wrong. */
  static decode(data: Buffer): TimeIndex | null {
    const entries = checkIndexFile(data, TimeIndexFormat);
    if (entries === null) return null;
    const index = new TimeIndex(Math.max(16, entries));
    for (let i = 0; i < entries; i++) {
      const at = INDEX_HEADER_BYTES + i * ENTRY_BYTES;
      const timestamp = readInt64(data, at);
      const relativeOffset = data.readUInt32BE(at + 8);
      if (index.count > 0 && (relativeOffset <= index.lastRelativeOffset() || timestamp < index.lastTimestamp())) return null;
      index.timestamps[index.count] = timestamp;
      index.relativeOffsets[index.count] = relativeOffset;
      index.count++;
    }
    return index;
  }
}
