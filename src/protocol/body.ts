// The body codec: what follows the fixed fields of every request and response frame.
//
//   Body => headerLength:uint32 header:bytes(headerLength) payload:bytes(rest)
//
// `header` is one msgpack map (a request/response type of messages.ts); `payload` is raw
// bytes (record batches), split by the `size` fields of the header in order, never
// msgpack-encoded, so record data is written to disk and to sockets untouched.
// One msgpackr Packr (useRecords: false, int64AsType: 'number') encodes and decodes.

import { Packr } from 'msgpackr';
import { Errors, SpoolError } from '../util/errors.js';

export const HEADER_LENGTH_BYTES = 4;

/** Payload bytes: absent, one buffer, or several buffers sent back to back. */
export type Payload = Buffer | readonly Buffer[] | undefined;

const packr = new Packr({ useRecords: false, int64AsType: 'number' });

export function payloadParts(payload: Payload): readonly Buffer[] {
  if (payload === undefined) return [];
  if (Buffer.isBuffer(payload)) return payload.length === 0 ? [] : [payload];
  return (payload as readonly Buffer[]).filter((part) => part.length > 0);
}

/**
 * One buffer: `reserveBytes` of room (for a frame header, left unwritten), then
 * headerLength and the msgpack bytes of `header`. The msgpack bytes are copied once
 * (they are small); the payload is never touched.
 */
export function encodeBodyPrefix(header: unknown, reserveBytes = 0): Buffer {
  const packed = packr.pack(header);
  const prefix = Buffer.allocUnsafe(reserveBytes + HEADER_LENGTH_BYTES + packed.length);
  prefix.writeUInt32BE(packed.length, reserveBytes);
  packed.copy(prefix, reserveBytes + HEADER_LENGTH_BYTES);
  return prefix;
}

/** Encodes a body as [headerLength + msgpack, ...payload]. */
export function encodeBody(header: unknown, payload?: Payload): Buffer[] {
  return [encodeBodyPrefix(header), ...payloadParts(payload)];
}

export interface DecodedBody {
  /** A plain object (a msgpack map with string keys); its fields are not yet checked. */
  header: Record<string, unknown>;
  /** A subarray of the body: no copy. */
  payload: Buffer;
}

function invalid(message: string, cause?: unknown): SpoolError {
  return new SpoolError(Errors.INVALID_REQUEST, message, cause === undefined ? undefined : { cause });
}

/**
 * Decodes a body. Throws SpoolError INVALID_REQUEST when the header length runs past the
 * body or past `maxHeaderBytes` (checked before decoding: msgpack decoding is ~20 ms per
 * MiB, all on the event loop), the msgpack is malformed or has trailing bytes, or the
 * header is not a map.
 */
export function decodeBody(body: Buffer, maxHeaderBytes = Number.MAX_SAFE_INTEGER): DecodedBody {
  if (body.length < HEADER_LENGTH_BYTES) throw invalid(`body of ${body.length} bytes has no header length`);
  const headerLength = body.readUInt32BE(0);
  if (headerLength > maxHeaderBytes) throw invalid(`header of ${headerLength} bytes is larger than the limit maxHeaderBytes (${maxHeaderBytes})`);
  const headerEnd = HEADER_LENGTH_BYTES + headerLength;
  if (headerLength === 0 || headerEnd > body.length) {
    throw invalid(`header length ${headerLength} does not fit a body of ${body.length} bytes`);
  }
  let header: unknown;
  try {
    header = packr.unpack(body.subarray(HEADER_LENGTH_BYTES, headerEnd));
  } catch (error) {
    throw invalid(`malformed msgpack header: ${error instanceof Error ? error.message : String(error)}`, error);
  }
  if (!isPlainObject(header)) throw invalid('the header is not a msgpack map');
  return { header, payload: body.subarray(headerEnd) };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Splits a payload by sizes, in order, as subarrays. Throws INVALID_REQUEST when the
 * sizes are not non-negative integers summing to exactly the payload length.
 */
export function splitPayload(payload: Buffer, sizes: readonly number[]): Buffer[] {
  const parts: Buffer[] = [];
  let position = 0;
  for (const size of sizes) {
    if (!Number.isSafeInteger(size) || size < 0 || position + size > payload.length) {
      throw invalid(`payload sizes do not match the ${payload.length} payload bytes`);
    }
    parts.push(payload.subarray(position, position + size));
    position += size;
  }
  if (position !== payload.length) throw invalid(`payload has ${payload.length - position} bytes not described by the header`);
  return parts;
}

/** msgpack bytes of a value with the shared Packr (for fixtures and tests). */
export function packHeader(header: unknown): Buffer {
  return packr.pack(header);
}
