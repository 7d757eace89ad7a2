// Key and value of the records in __consumer_offsets (big-endian, see README.md):
//
//   OffsetKey   => version:int8 (= 1) groupLength:uint16 group:utf8
//                  topicLength:uint16 topic:utf8 partition:int32
//   OffsetValue => version:int8 (= 1) offset:int64 commitTimestamp:int64
//                  metadataLength:uint16 metadata:utf8
//
// A null value (tombstone) deletes the (group, topic, partition) entry; compaction keeps
// the last record per key. The key version doubles as the record type, so other record
// kinds (group metadata, if membership is ever persisted) get their own key versions
// and old brokers skip what they do not know. int64 is written as two 32-bit halves.

import { SpoolError, Errors } from '../util/errors.js';
import { assert } from '../util/assert.js';

export const OFFSET_KEY_VERSION = 1;
export const OFFSET_VALUE_VERSION = 1;

/** Byte offsets derived from the grammar above. */
export const OffsetKeyLayout = { VERSION: 0, GROUP_LENGTH: 1, GROUP: 3 } as const;
export const OffsetValueLayout = {
  VERSION: 0,
  OFFSET: 1,
  COMMIT_TIMESTAMP: 9,
  METADATA_LENGTH: 17,
  METADATA: 19,
} as const;

export const MAX_GROUP_ID_BYTES = 255;
export const MAX_METADATA_BYTES = 4096;

export interface OffsetKey {
  groupId: string;
  topic: string;
  partition: number;
}

export interface OffsetValue {
  offset: number;
  commitTimestampMs: number;
  metadata: string;
}

function writeInt64(buf: Buffer, value: number, position: number): void {
  assert(Number.isSafeInteger(value), `int64 field out of range: ${value}`);
  const high = Math.floor(value / 0x1_0000_0000);
  buf.writeInt32BE(high, position);
  buf.writeUInt32BE(value - high * 0x1_0000_0000, position + 4);
}

function readInt64(buf: Buffer, position: number): number {
  return buf.readInt32BE(position) * 0x1_0000_0000 + buf.readUInt32BE(position + 4);
}

export function encodeOffsetKey(key: OffsetKey): Buffer {
  const group = Buffer.from(key.groupId, 'utf8');
  const topic = Buffer.from(key.topic, 'utf8');
  assert(group.length <= 0xffff && topic.length <= 0xffff, 'group or topic name too long for the offset key');
  const buf = Buffer.alloc(OffsetKeyLayout.GROUP + group.length + 2 + topic.length + 4);
  let position = 0;
  buf.writeInt8(OFFSET_KEY_VERSION, position);
  position = buf.writeUInt16BE(group.length, position + 1);
  position += group.copy(buf, position);
  position = buf.writeUInt16BE(topic.length, position);
  position += topic.copy(buf, position);
  position = buf.writeInt32BE(key.partition, position);
  assert(position === buf.length, 'offset key length');
  return buf;
}

/** Returns null for a key of another (unknown or future) record type. */
export function decodeOffsetKey(buf: Buffer): OffsetKey | null {
  if (buf.length < 1 || buf.readInt8(0) !== OFFSET_KEY_VERSION) return null;
  try {
    let position = OffsetKeyLayout.GROUP_LENGTH;
    const groupLength = buf.readUInt16BE(position);
    position += 2;
    const groupId = buf.toString('utf8', position, position + groupLength);
    position += groupLength;
    const topicLength = buf.readUInt16BE(position);
    position += 2;
    const topic = buf.toString('utf8', position, position + topicLength);
    position += topicLength;
    const partition = buf.readInt32BE(position);
    if (position + 4 !== buf.length) throw new Error('trailing bytes');
    return { groupId, topic, partition };
  } catch (error) {
    throw new SpoolError(Errors.CORRUPT_MESSAGE, `bad offset key: ${(error as Error).message}`, { cause: error });
  }
}

export function encodeOffsetValue(value: OffsetValue): Buffer {
  const metadata = Buffer.from(value.metadata, 'utf8');
  assert(metadata.length <= MAX_METADATA_BYTES, 'offset metadata too long');
  const buf = Buffer.alloc(OffsetValueLayout.METADATA + metadata.length);
  buf.writeInt8(OFFSET_VALUE_VERSION, OffsetValueLayout.VERSION);
  writeInt64(buf, value.offset, OffsetValueLayout.OFFSET);
  writeInt64(buf, value.commitTimestampMs, OffsetValueLayout.COMMIT_TIMESTAMP);
  buf.writeUInt16BE(metadata.length, OffsetValueLayout.METADATA_LENGTH);
  metadata.copy(buf, OffsetValueLayout.METADATA);
  return buf;
}

export function decodeOffsetValue(buf: Buffer): OffsetValue {
  if (buf.length < OffsetValueLayout.METADATA || buf.readInt8(0) !== OFFSET_VALUE_VERSION) {
    throw new SpoolError(Errors.CORRUPT_MESSAGE, `bad offset value (version ${buf[0]}, ${buf.length} bytes)`);
  }
  const metadataLength = buf.readUInt16BE(OffsetValueLayout.METADATA_LENGTH);
  if (OffsetValueLayout.METADATA + metadataLength !== buf.length) {
    throw new SpoolError(Errors.CORRUPT_MESSAGE, 'offset value metadata length disagrees with the record');
  }
  return {
    offset: readInt64(buf, OffsetValueLayout.OFFSET),
    commitTimestampMs: readInt64(buf, OffsetValueLayout.COMMIT_TIMESTAMP),
    metadata: buf.toString('utf8', OffsetValueLayout.METADATA),
  };
}
