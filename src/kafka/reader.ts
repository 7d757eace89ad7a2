// Bounds-checked reads of Kafka's primitive types from one Buffer between `at` and `end`.
// Every length and count is checked against the bytes remaining BEFORE anything is
// allocated, so garbage input costs at most its own size and ends in a KafkaDecodeError.
//
//   int8/16/32/64, uint16/32, float64: big-endian, fixed size (int64 read as two halves)
//   unsigned varint: LEB128, 1-5 bytes, 32 bits (compact lengths, tagged field headers)
//   string: int16 length (-1 = null) + UTF-8;  compact: uvarint length+1 (0 = null) + UTF-8
//   bytes/records: int32 length (-1 = null);   compact: uvarint length+1 (0 = null)
//   array: int32 count (-1 = null);            compact: uvarint count+1 (0 = null)
//   uuid: 16 bytes

import { readInt64 } from '../records/index.js';
import { KafkaDecodeError } from './decode-error.js';

export class Reader {
  constructor(
    readonly buf: Buffer,
    public at: number,
    public end: number,
  ) {}

  get remaining(): number {
    return this.end - this.at;
  }

  fail(message: string): never {
    throw new KafkaDecodeError(message, this.at);
  }

  private need(bytes: number, what: string): number {
    if (bytes > this.end - this.at) this.fail(`${what} needs ${bytes} bytes, ${this.end - this.at} left`);
    const at = this.at;
    this.at += bytes;
    return at;
  }

  int8(): number {
    return this.buf.readInt8(this.need(1, 'int8'));
  }
  bool(): boolean {
    return this.buf[this.need(1, 'bool')] !== 0;
  }
  int16(): number {
    return this.buf.readInt16BE(this.need(2, 'int16'));
  }
  uint16(): number {
    return this.buf.readUInt16BE(this.need(2, 'uint16'));
  }
  int32(): number {
    return this.buf.readInt32BE(this.need(4, 'int32'));
  }
  uint32(): number {
    return this.buf.readUInt32BE(this.need(4, 'uint32'));
  }
  int64(): number {
    return readInt64(this.buf, this.need(8, 'int64'));
  }
  float64(): number {
    return this.buf.readDoubleBE(this.need(8, 'float64'));
  }
  uuid(): Buffer {
    const at = this.need(16, 'uuid');
    return this.buf.subarray(at, at + 16);
  }

  /** Kafka's unsigned varint (LEB128, at most 5 bytes, at most 2^32 - 1). */
  unsignedVarint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.at >= this.end) this.fail('unsigned varint runs past the end');
      const byte = this.buf[this.at++]!;
      if (shift === 28 && byte > 0x0f) this.fail('unsigned varint overflows 32 bits');
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    return this.fail('unsigned varint longer than 5 bytes');
  }

  /** A length or count: -1 (null) or 0..remaining; compact forms are stored plus one. */
  length(compact: boolean, what: string): number {
    const length = compact ? this.unsignedVarint() - 1 : what === 'string' ? this.int16() : this.int32();
    if (length < -1) this.fail(`negative ${what} length ${length}`);
    if (length > this.end - this.at) this.fail(`${what} length ${length} exceeds the ${this.end - this.at} bytes left`);
    return length;
  }

  string(compact: boolean): string | null {
    const length = this.length(compact, 'string');
    if (length < 0) return null;
    const at = this.at;
    this.at += length;
    return this.buf.toString('utf8', at, at + length);
  }

  /** bytes and records: a slice of the input, never a copy. */
  bytes(compact: boolean): Buffer | null {
    const length = this.length(compact, 'bytes');
    if (length < 0) return null;
    const at = this.at;
    this.at += length;
    return this.buf.subarray(at, at + length);
  }
}
