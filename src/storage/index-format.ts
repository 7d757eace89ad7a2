// The header shared by .index and .timeindex files. Index files are not checksummed:
// they are derived data, checked against their log at start-up and rebuilt from it when
// they are missing, truncated or do not match (see recovery.ts).
//
//   IndexHeader => magic:uint32 version:uint16 entryBytes:uint16      (8 bytes, big-endian)
//     magic   'SPOI' (0x53504f49) for an offset index, 'SPTI' (0x53505449) for a time index
//     version  1
//     entryBytes  8 (offset index) or 12 (time index): a reader refuses any other size

export interface IndexFormat {
  readonly name: string;
  readonly magic: number;
  readonly version: number;
  readonly entryBytes: number;
}

export const INDEX_HEADER_BYTES = 8;

export const OffsetIndexFormat: IndexFormat = Object.freeze({ name: 'offset index', magic: 0x53504f49, version: 1, entryBytes: 8 });
export const TimeIndexFormat: IndexFormat = Object.freeze({ name: 'time index', magic: 0x53505449, version: 1, entryBytes: 12 });

export function encodeIndexHeader(format: IndexFormat): Buffer {
  const header = Buffer.alloc(INDEX_HEADER_BYTES);
  header.writeUInt32BE(format.magic, 0);
  header.writeUInt16BE(format.version, 4);
  header.writeUInt16BE(format.entryBytes, 6);
  return header;
}

/** Returns the number of whole entries, or null if the header is wrong or a partial entry trails. */
export function checkIndexFile(data: Buffer, format: IndexFormat): number | null {
  if (data.length < INDEX_HEADER_BYTES) return null;
  if (data.readUInt32BE(0) !== format.magic) return null;
  if (data.readUInt16BE(4) !== format.version) return null;
  if (data.readUInt16BE(6) !== format.entryBytes) return null;
  const body = data.length - INDEX_HEADER_BYTES;
  if (body % format.entryBytes !== 0) return null;
  return body / format.entryBytes;
}

const TWO_POW_32 = 0x1_0000_0000;

export function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

export function writeInt64(buf: Buffer, at: number, value: number): void {
  const high = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(high | 0, at);
  buf.writeUInt32BE((value - high * TWO_POW_32) >>> 0, at + 4);
}
