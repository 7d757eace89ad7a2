// Walks a MessageSchema (schema.ts) to decode a message body into a plain object and to
// encode one back. Per (schema, version) the fields present are compiled once into a plan.
//
// Flexible versions (KIP-482) change four things, everywhere in the message:
//   strings, bytes, records and arrays use compact lengths (unsigned varint, length + 1, 0 = null);
//   every struct (the message itself too) ends with a tagged-field section:
//     TaggedFields => count:uvarint [tag:uvarint size:uvarint data:size bytes]
//   fields with a `tag` travel only there, and only when they differ from their default;
//   unknown tags are skipped by their size.
//
// Records (and bytes) decode as slices of the input. Encoding writes everything but records
// into one buffer and returns chunks: slices of that buffer between the records Buffers
// the caller passed (one Buffer, or an array of slices sent back to back, e.g. batches read
// from two segments), so record batches go to the socket as they are (writev), never copied.

import { assert } from '../util/assert.js';
import { writeInt64 } from '../records/index.js';
import { Reader } from './reader.js';
import { type FieldSchema, inRange, type MessageSchema, type PrimitiveType } from './schema.js';

interface FieldPlan {
  readonly name: string;
  readonly type: PrimitiveType | 'struct';
  readonly array: boolean;
  readonly nullable: boolean;
  readonly tag: number | null;
  readonly defaultValue: number | string | boolean | null | undefined;
  readonly struct: StructPlan | null;
}

interface StructPlan {
  readonly flexible: boolean;
  /** Every field of the schema with its default, for the ones absent in this version. */
  readonly absent: readonly FieldPlan[];
  readonly regular: readonly FieldPlan[];
  /** Tagged fields by ascending tag. */
  readonly tagged: readonly FieldPlan[];
}

export const ZERO_UUID: Buffer = Buffer.alloc(16);
const EMPTY = Buffer.alloc(0);

const plans = new WeakMap<MessageSchema, Map<number, StructPlan>>();

/** The compiled plan of `schema` at `version`; the version must be in the schema's range. */
export function planOf(schema: MessageSchema, version: number): StructPlan {
  assert(version >= schema.minVersion && version <= schema.maxVersion, `${schema.name} v${version} is outside its range`);
  let byVersion = plans.get(schema);
  if (!byVersion) {
    byVersion = new Map();
    plans.set(schema, byVersion);
  }
  let plan = byVersion.get(version);
  if (!plan) {
    plan = compile(schema.fields, version, schema.flexibleFrom !== null && version >= schema.flexibleFrom);
    byVersion.set(version, plan);
  }
  return plan;
}

function compile(fields: readonly FieldSchema[], version: number, flexible: boolean): StructPlan {
  const regular: FieldPlan[] = [];
  const tagged: FieldPlan[] = [];
  const absent: FieldPlan[] = [];
  for (const field of fields) {
    const plan: FieldPlan = {
      name: field.name,
      type: field.type,
      array: field.array,
      nullable: inRange(field.nullable, version),
      tag: flexible && field.tag !== undefined && inRange(field.taggedVersions, version) ? field.tag : null,
      defaultValue: field.default,
      struct: field.fields ? compile(field.fields, version, flexible) : null,
    };
    if (!inRange(field.versions, version)) absent.push(plan);
    else if (plan.tag !== null) tagged.push(plan);
    else regular.push(plan);
  }
  tagged.sort((a, b) => a.tag! - b.tag!);
  return { flexible, absent, regular, tagged };
}

// ---- defaults

function defaultOf(field: FieldPlan): unknown {
  if (field.defaultValue !== undefined) return field.defaultValue;
  if (field.array) return [];
  if (field.nullable && (field.type === 'records' || field.type === 'struct')) return null;
  switch (field.type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'bytes':
    case 'records':
      return EMPTY;
    case 'uuid':
      return ZERO_UUID;
    case 'struct':
      return defaultStruct(field.struct!);
    default:
      return 0;
  }
}

function defaultStruct(plan: StructPlan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of plan.absent) out[field.name] = defaultOf(field);
  for (const field of plan.regular) out[field.name] = defaultOf(field);
  for (const field of plan.tagged) out[field.name] = defaultOf(field);
  return out;
}

function isDefault(field: FieldPlan, value: unknown): boolean {
  if (value === undefined) return true;
  const fallback = defaultOf(field);
  if (field.array) return value === fallback || (Array.isArray(value) && value.length === 0 && Array.isArray(fallback));
  if (value === null || fallback === null) return value === fallback;
  if (field.type === 'struct') {
    const struct = value as Record<string, unknown>;
    const plan = field.struct!;
    return [...plan.regular, ...plan.tagged].every((child) => isDefault(child, struct[child.name]));
  }
  if (Buffer.isBuffer(value) && Buffer.isBuffer(fallback)) return value.equals(fallback);
  return value === fallback;
}

// ---- decode

/** Decodes a struct (or a whole message body) at reader.at. Throws only KafkaDecodeError. */
export function decodeStruct(reader: Reader, plan: StructPlan): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of plan.absent) out[field.name] = defaultOf(field);
  for (const field of plan.tagged) out[field.name] = defaultOf(field);
  for (const field of plan.regular) out[field.name] = decodeField(reader, field, plan.flexible);
  if (plan.flexible) decodeTaggedFields(reader, plan, out);
  return out;
}

function decodeTaggedFields(reader: Reader, plan: StructPlan, out: Record<string, unknown>): void {
  const count = reader.unsignedVarint();
  // Each tagged field takes at least two bytes (tag and size).
  if (count * 2 > reader.remaining) reader.fail(`${count} tagged fields cannot fit in ${reader.remaining} bytes`);
  // Kafka writes tags in ascending order but its readers do not insist; neither do we.
  for (let index = 0; index < count; index++) {
    const tag = reader.unsignedVarint();
    const size = reader.unsignedVarint();
    if (size > reader.remaining) reader.fail(`tagged field ${tag} size ${size} exceeds the ${reader.remaining} bytes left`);
    const end = reader.at + size;
    const field = plan.tagged.find((candidate) => candidate.tag === tag);
    if (field) {
      const outerEnd = reader.end;
      reader.end = end;
      out[field.name] = decodeField(reader, field, true);
      if (reader.at !== end) reader.fail(`tagged field ${tag} left ${end - reader.at} bytes unread`);
      reader.end = outerEnd;
    }
    reader.at = end;
  }
}

function decodeField(reader: Reader, field: FieldPlan, flexible: boolean): unknown {
  if (!field.array) return decodeValue(reader, field, flexible);
  const count = reader.length(flexible, 'array');
  if (count < 0) {
    if (!field.nullable) reader.fail(`array ${field.name} is null but not nullable`);
    return null;
  }
  const items: unknown[] = [];
  for (let index = 0; index < count; index++) items.push(decodeValue(reader, field, flexible));
  return items;
}

function decodeValue(reader: Reader, field: FieldPlan, flexible: boolean): unknown {
  switch (field.type) {
    case 'bool':
      return reader.bool();
    case 'int8':
      return reader.int8();
    case 'int16':
      return reader.int16();
    case 'uint16':
      return reader.uint16();
    case 'int32':
      return reader.int32();
    case 'uint32':
      return reader.uint32();
    case 'int64':
      return reader.int64();
    case 'float64':
      return reader.float64();
    case 'uuid':
      return reader.uuid();
    case 'string': {
      const value = reader.string(flexible);
      if (value === null && (field.array || !field.nullable)) reader.fail(`string ${field.name} is null but not nullable`);
      return value;
    }
    case 'bytes':
    case 'records': {
      const value = reader.bytes(flexible);
      if (value === null && (field.array || !field.nullable)) reader.fail(`${field.type} ${field.name} is null but not nullable`);
      return value;
    }
    case 'struct':
      if (field.nullable && !field.array && reader.int8() < 0) return null;
      return decodeStruct(reader, field.struct!);
  }
}

// ---- encode: measure, then write

const utf8Bytes = (value: string): number => Buffer.byteLength(value, 'utf8');
const unsignedVarintBytes = (value: number): number => (value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x20_0000 ? 3 : value < 0x1000_0000 ? 4 : 5);
const lengthBytes = (flexible: boolean, length: number, fixedBytes: number): number =>
  flexible ? unsignedVarintBytes(length + 1) : fixedBytes;

/** Bytes written by encodeStruct, split into the buffered part and the records Buffers. */
export interface Measure {
  bufferedBytes: number;
  recordsBytes: number;
}

export function measureStruct(plan: StructPlan, value: Record<string, unknown>, measure: Measure): void {
  for (const field of plan.regular) measureField(field, value[field.name], plan.flexible, measure);
  if (!plan.flexible) return;
  let count = 0;
  for (const field of plan.tagged) {
    const fieldValue = value[field.name];
    if (isDefault(field, fieldValue)) continue;
    count += 1;
    const size = taggedSize(field, fieldValue);
    measure.bufferedBytes += unsignedVarintBytes(field.tag!) + unsignedVarintBytes(size) + size;
  }
  measure.bufferedBytes += unsignedVarintBytes(count);
}

function taggedSize(field: FieldPlan, value: unknown): number {
  const inner: Measure = { bufferedBytes: 0, recordsBytes: 0 };
  measureField(field, value, true, inner);
  return inner.bufferedBytes + inner.recordsBytes;
}

function measureField(field: FieldPlan, value: unknown, flexible: boolean, measure: Measure): void {
  if (value === undefined) value = defaultOf(field);
  if (!field.array) return measureValue(field, value, flexible, measure);
  if (value === null) {
    assert(field.nullable, `array ${field.name} is null but not nullable`);
    measure.bufferedBytes += lengthBytes(flexible, -1, 4);
    return;
  }
  const items = value as unknown[];
  measure.bufferedBytes += lengthBytes(flexible, items.length, 4);
  for (const item of items) measureValue(field, item, flexible, measure);
}

/** A records value to encode is one Buffer or several slices sent one after the other. */
function recordsLength(records: Buffer | readonly Buffer[]): number {
  if (Buffer.isBuffer(records)) return records.length;
  let length = 0;
  for (const slice of records) length += slice.length;
  return length;
}

const FIXED_BYTES: Partial<Record<PrimitiveType, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

function measureValue(field: FieldPlan, value: unknown, flexible: boolean, measure: Measure): void {
  const fixed = FIXED_BYTES[field.type as PrimitiveType];
  if (fixed !== undefined) {
    measure.bufferedBytes += fixed;
    return;
  }
  switch (field.type) {
    case 'string': {
      if (value === null) {
        assert(field.nullable && !field.array, `string ${field.name} is null but not nullable`);
        measure.bufferedBytes += lengthBytes(flexible, -1, 2);
        return;
      }
      const length = utf8Bytes(value as string);
      assert(flexible || length <= 0x7fff, `string ${field.name} of ${length} bytes is too long for an int16 length`);
      measure.bufferedBytes += lengthBytes(flexible, length, 2) + length;
      return;
    }
    case 'bytes':
    case 'records': {
      if (value === null) {
        assert(field.nullable && !field.array, `${field.type} ${field.name} is null but not nullable`);
        measure.bufferedBytes += lengthBytes(flexible, -1, 4);
        return;
      }
      const length = recordsLength(value as Buffer | readonly Buffer[]);
      measure.bufferedBytes += lengthBytes(flexible, length, 4);
      if (field.type === 'records') measure.recordsBytes += length;
      else measure.bufferedBytes += length;
      return;
    }
    case 'struct':
      if (field.nullable && !field.array) {
        measure.bufferedBytes += 1;
        if (value === null) return;
      }
      measureStruct(field.struct!, value as Record<string, unknown>, measure);
      return;
    default:
      assert(false, `unknown type ${field.type}`);
  }
}

/**
 * Writes into `buf` from `at`; records Buffers are not copied but pushed onto `chunks`, after
 * the buffered bytes before them (a slice of buf). `chunkStart` is where the next buffered
 * chunk begins. Returns the position after the struct.
 */
export class Writer {
  chunkStart: number;
  constructor(
    readonly buf: Buffer,
    public at: number,
    readonly chunks: Buffer[],
  ) {
    this.chunkStart = at;
  }

  unsignedVarint(value: number): void {
    assert(value >= 0 && value <= 0xffff_ffff && Number.isInteger(value), `unsigned varint ${value} out of range`);
    while (value >= 0x80) {
      this.buf[this.at++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.at++] = value;
  }

  length(flexible: boolean, length: number, fixedBytes: 2 | 4): void {
    if (flexible) this.unsignedVarint(length + 1);
    else if (fixedBytes === 2) this.at = this.buf.writeInt16BE(length, this.at);
    else this.at = this.buf.writeInt32BE(length, this.at);
  }

  /** Ends the current buffered chunk and queues `data` after it, uncopied. */
  appendUncopied(data: Buffer): void {
    if (this.at > this.chunkStart) this.chunks.push(this.buf.subarray(this.chunkStart, this.at));
    if (data.length > 0) this.chunks.push(data);
    this.chunkStart = this.at;
  }

  /** Closes the last buffered chunk. */
  finish(): Buffer[] {
    if (this.at > this.chunkStart) this.chunks.push(this.buf.subarray(this.chunkStart, this.at));
    this.chunkStart = this.at;
    return this.chunks;
  }
}

export function encodeStruct(writer: Writer, plan: StructPlan, value: Record<string, unknown>): void {
  for (const field of plan.regular) encodeField(writer, field, value[field.name], plan.flexible);
  if (!plan.flexible) return;
  if (plan.tagged.length === 0) {
    writer.unsignedVarint(0);
    return;
  }
  const present = plan.tagged.filter((field) => !isDefault(field, value[field.name]));
  writer.unsignedVarint(present.length);
  for (const field of present) {
    const fieldValue = value[field.name];
    writer.unsignedVarint(field.tag!);
    writer.unsignedVarint(taggedSize(field, fieldValue));
    encodeField(writer, field, fieldValue, true);
  }
}

function encodeField(writer: Writer, field: FieldPlan, value: unknown, flexible: boolean): void {
  if (value === undefined) value = defaultOf(field);
  if (!field.array) return encodeValue(writer, field, value, flexible);
  if (value === null) return writer.length(flexible, -1, 4);
  const items = value as unknown[];
  writer.length(flexible, items.length, 4);
  for (const item of items) encodeValue(writer, field, item, flexible);
}

function encodeValue(writer: Writer, field: FieldPlan, value: unknown, flexible: boolean): void {
  const buf = writer.buf;
  switch (field.type) {
    case 'bool':
      buf[writer.at++] = value ? 1 : 0;
      return;
    case 'int8':
      writer.at = buf.writeInt8(value as number, writer.at);
      return;
    case 'int16':
      writer.at = buf.writeInt16BE(value as number, writer.at);
      return;
    case 'uint16':
      writer.at = buf.writeUInt16BE(value as number, writer.at);
      return;
    case 'int32':
      writer.at = buf.writeInt32BE(value as number, writer.at);
      return;
    case 'uint32':
      writer.at = buf.writeUInt32BE(value as number, writer.at);
      return;
    case 'int64':
      writeInt64(buf, writer.at, value as number);
      writer.at += 8;
      return;
    case 'float64':
      writer.at = buf.writeDoubleBE(value as number, writer.at);
      return;
    case 'uuid':
      assert((value as Buffer).length === 16, `uuid ${field.name} must be 16 bytes`);
      writer.at += (value as Buffer).copy(buf, writer.at);
      return;
    case 'string': {
      if (value === null) return writer.length(flexible, -1, 2);
      const text = value as string;
      writer.length(flexible, utf8Bytes(text), 2);
      writer.at += buf.write(text, writer.at, 'utf8');
      return;
    }
    case 'bytes':
    case 'records': {
      if (value === null) return writer.length(flexible, -1, 4);
      if (field.type === 'bytes') {
        const data = value as Buffer;
        writer.length(flexible, data.length, 4);
        writer.at += data.copy(buf, writer.at);
        return;
      }
      const records = value as Buffer | readonly Buffer[];
      writer.length(flexible, recordsLength(records), 4);
      if (Buffer.isBuffer(records)) writer.appendUncopied(records);
      else for (const slice of records) writer.appendUncopied(slice);
      return;
    }
    case 'struct':
      if (field.nullable && !field.array) {
        writer.at = buf.writeInt8(value === null ? -1 : 1, writer.at);
        if (value === null) return;
      }
      encodeStruct(writer, field.struct!, value as Record<string, unknown>);
      return;
  }
}
