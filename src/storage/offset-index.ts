// The sparse offset index of one segment, in memory as two parallel typed arrays, plus
// the bytes of entries not yet written to the .index file.
//
//   OffsetIndexFile => IndexHeader (index-format.ts) [Entry]
//   Entry => relativeOffset:uint32 position:uint32              (8 bytes, big-endian)
//     relativeOffset  baseOffset of a batch minus the segment's base offset
//     position        byte position of that batch in the .log file
//
// An entry is added for a batch when at least index.interval.bytes of log were appended
// since the previous entry, and for the last batch when the segment is closed (roll or
// clean shutdown), so a closed segment's last entry names its last batch. Entries are
// strictly increasing in both fields. A lookup returns the entry with the largest
// relative offset at or below the target (binary search), or (0, 0) when there is none:
// the batch holding the target starts at or after that position.

import { INDEX_HEADER_BYTES, OffsetIndexFormat, checkIndexFile, encodeIndexHeader } from './index-format.js';

const ENTRY_BYTES = OffsetIndexFormat.entryBytes;

export class OffsetIndex {
  private relativeOffsets: Uint32Array;
  private positions: Uint32Array;
  private count = 0;
  private pending: Buffer = Buffer.allocUnsafe(0);
  private pendingBytes = 0;

  constructor(capacity = 16) {
    this.relativeOffsets = new Uint32Array(capacity);
    this.positions = new Uint32Array(capacity);
  }

  get entryCount(): number {
    return this.count;
  }

  /** Bytes of the .index file holding every entry (header included). */
  get fileBytes(): number {
    return INDEX_HEADER_BYTES + this.count * ENTRY_BYTES;
  }

  lastRelativeOffset(): number {
    return this.count === 0 ? -1 : this.relativeOffsets[this.count - 1]!;
  }

  lastPosition(): number {
    return this.count === 0 ? -1 : this.positions[this.count - 1]!;
  }

  entry(i: number): { relativeOffset: number; position: number } {
    return { relativeOffset: this.relativeOffsets[i]!, position: this.positions[i]! };
  }

  /** Adds an entry; it must be past the last one in both fields (a bug otherwise). */
  append(relativeOffset: number, position: number): void {
    if (this.count > 0 && (relativeOffset <= this.lastRelativeOffset() || position <= this.lastPosition())) {
      throw new Error(`offset index entry (${relativeOffset}, ${position}) is not past the last one`);
    }
    if (this.count === this.relativeOffsets.length) this.grow();
    this.relativeOffsets[this.count] = relativeOffset;
    this.positions[this.count] = position;
    this.count++;
    if (this.pendingBytes + ENTRY_BYTES > this.pending.length) {
      const next = Buffer.allocUnsafe(Math.max(256, this.pending.length * 2));
      this.pending.copy(next, 0, 0, this.pendingBytes);
      this.pending = next;
    }
    this.pending.writeUInt32BE(relativeOffset, this.pendingBytes);
    this.pending.writeUInt32BE(position, this.pendingBytes + 4);
    this.pendingBytes += ENTRY_BYTES;
  }

  private grow(): void {
    const capacity = this.relativeOffsets.length * 2;
    const relativeOffsets = new Uint32Array(capacity);
    relativeOffsets.set(this.relativeOffsets);
    const positions = new Uint32Array(capacity);
    positions.set(this.positions);
    this.relativeOffsets = relativeOffsets;
    this.positions = positions;
  }

  /** Entries appended since the last call, as file bytes (a view valid until the next append). */
  takePending(): Buffer | null {
    if (this.pendingBytes === 0) return null;
    const bytes = this.pending.subarray(0, this.pendingBytes);
    this.pendingBytes = 0;
    return bytes;
  }

  /** Index (in entries) of the largest entry with relativeOffset <= target, or -1. */
  floorEntry(relativeOffset: number): number {
    let low = 0;
    let high = this.count - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (this.relativeOffsets[mid]! <= relativeOffset) {
        found = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  }

  /** Position to start scanning from for `relativeOffset` (0 when no entry is at or below it). */
  lookup(relativeOffset: number): number {
    const i = this.floorEntry(relativeOffset);
    return i < 0 ? 0 : this.positions[i]!;
  }

  /** The whole .index file image: header and every entry (used when rebuilding). */
  encodeFile(): Buffer {
    const data = Buffer.allocUnsafe(this.fileBytes);
    encodeIndexHeader(OffsetIndexFormat).copy(data, 0);
    for (let i = 0; i < this.count; i++) {
      const at = INDEX_HEADER_BYTES + i * ENTRY_BYTES;
      data.writeUInt32BE(this.relativeOffsets[i]!, at);
      data.writeUInt32BE(this.positions[i]!, at + 4);
    }
    return data;
  }

  /** Parses a whole .index file; null when the header, the length or the order is wrong. */
  static decode(data: Buffer): OffsetIndex | null {
    const entries = checkIndexFile(data, OffsetIndexFormat);
    if (entries === null) return null;
    const index = new OffsetIndex(Math.max(16, entries));
    for (let i = 0; i < entries; i++) {
      const at = INDEX_HEADER_BYTES + i * ENTRY_BYTES;
      const relativeOffset = data.readUInt32BE(at);
      const position = data.readUInt32BE(at + 4);
      if (index.count > 0 && (relativeOffset <= index.lastRelativeOffset() || position <= index.lastPosition())) return null;
      index.relativeOffsets[index.count] = relativeOffset;
      index.positions[index.count] = position;
      index.count++;
    }
    return index;
  }
}
