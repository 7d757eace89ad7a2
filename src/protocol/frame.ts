// The frame codec of spool's native protocol: length-prefixed binary frames over TCP.
//
//   RequestFrame  => size:uint32 correlationId:uint32 apiKey:uint16 apiVersion:uint16 body:bytes
//   ResponseFrame => size:uint32 correlationId:uint32 body:bytes
//
// Big-endian. `size` counts the bytes after itself. `body` is described in body.ts
// (headerLength:uint32 msgpack(header) payload). Pure code: no sockets, no files.
//
// Encoders return Buffer[] (frame header + msgpack header in one small buffer, then the
// payload buffers untouched) so a socket can write them with cork()/uncork() or writev
// and record bytes are never copied. The decoder returns frames that are subarrays of
// the pushed chunk when a frame lies inside one chunk, and assembles a frame split across
// chunks into one buffer of exactly `size` bytes. `size` is checked against maxFrameBytes
// before anything is allocated. A split frame larger than maxUpFrontAllocationBytes is
// not allocated whole when its size arrives: its buffer starts at 64 KiB and doubles (up
// to `size`) as bytes arrive, so a peer that announces a large frame and sends little of
// it costs what it sent, not what it announced (the request decoder does this above
// POOLED_FRAME_MAX_BYTES; growing costs at most one extra copy of the frame).
//
// Pooled assembly (opt-in, `poolAssembly: true`): a split frame of at most
// POOLED_FRAME_MAX_BYTES is assembled into a reusable buffer instead of a fresh one. The
// caller that knows it holds no reference to such a frame any more (its consumer finished
// synchronously) hands it back with release(frame); the next split frame reuses it. A
// frame never released simply stays the caller's (the decoder forgets it), so forgetting
// to release costs an allocation, never correctness. A released frame's bytes are
// overwritten by a later push: release only what nothing reads again.

import { assert } from '../util/assert.js';
import { Errors, SpoolError } from '../util/errors.js';
import { encodeBodyPrefix, type Payload, payloadParts } from './body.js';

/** Byte offsets, derived from the grammar above. */
export const FrameLayout = {
  SIZE: 0,
  CORRELATION_ID: 4,
  /** Request only. */
  API_KEY: 8,
  /** Request only. */
  API_VERSION: 10,
  /** First body byte of a request frame. */
  REQUEST_BODY: 12,
  /** First body byte of a response frame. */
  RESPONSE_BODY: 8,
} as const;

export const SIZE_BYTES = 4;
export const REQUEST_HEADER_BYTES = FrameLayout.REQUEST_BODY; // size + correlationId + apiKey + apiVersion
export const RESPONSE_HEADER_BYTES = FrameLayout.RESPONSE_BODY; // size + correlationId
/** Default limit on `size` (bytes after the size field): 100 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 100 * 1024 * 1024;
/** Largest value a u32 `size` can take. */
export const MAX_UINT32 = 0xffff_ffff;

export interface RequestFrame {
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  /** headerLength | msgpack | payload; a subarray of the received bytes where possible. */
  body: Buffer;
}

export interface ResponseFrame {
  correlationId: number;
  body: Buffer;
}

export interface FrameDecoderOptions {
  /** Largest accepted `size` (bytes after the size field). Default 100 MiB. */
  maxFrameBytes?: number;
  /** Smallest accepted `size`: the fixed fields after `size`. */
  minFrameBytes?: number;
  /** Assemble split frames into reusable buffers handed back with release(). Default false. */
  poolAssembly?: boolean;
  /** Split frames up to this size are allocated whole when their size arrives; larger ones grow as bytes arrive. Default maxFrameBytes (always whole). */
  maxUpFrontAllocationBytes?: number;
}

/** Largest split frame assembled into a pooled buffer; larger ones get their own allocation. */
export const POOLED_FRAME_MAX_BYTES = 1024 * 1024 + 64 * 1024;
/** Pooled buffers are this size for small frames, POOLED_FRAME_MAX_BYTES otherwise (so one fits every later frame). */
const POOLED_BUFFER_MIN_BYTES = 64 * 1024;
/** Pooled buffers handed out and not yet released that the decoder still remembers. */
const POOL_MAX_LENT = 4;
/** First buffer of a frame assembled as its bytes arrive; it doubles from here. */
export const GROWING_FRAME_START_BYTES = 64 * 1024;

/**
 * Splits a byte stream into raw frames (the bytes after each `size` field). After an
 * error (oversized or undersized frame) the stream cannot be trusted: the decoder stays
 * failed and every later push throws the same error; the caller closes the connection.
 */
export class FrameDecoder {
  private maxFrameBytesNow: number;
  private minFrameBytesNow: number;
  private readonly sizeBytes = Buffer.alloc(SIZE_BYTES);
  private sizeBytesFilled = 0;
  /** The buffer of the split frame being assembled: `assemblingSize` bytes, or fewer while it grows. */
  private assembling: Buffer | null = null;
  private assemblingSize = 0;
  private assembled = 0;
  private readonly maxUpFrontAllocationBytes: number;
  private failure: SpoolError | null = null;
  private readonly poolAssembly: boolean;
  /** A released pooled buffer, ready for the next split frame (at most one is kept). */
  private spare: Buffer | null = null;
  /** Pooled buffers in use (assembling or handed out), by their memory. */
  private readonly lent = new Map<ArrayBufferLike, Buffer>();

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameBytesNow = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.minFrameBytesNow = options.minFrameBytes ?? 0;
    this.poolAssembly = options.poolAssembly ?? false;
    this.maxUpFrontAllocationBytes = options.maxUpFrontAllocationBytes ?? this.maxFrameBytesNow;
  }

  get maxFrameBytes(): number {
    return this.maxFrameBytesNow;
  }

  get minFrameBytes(): number {
    return this.minFrameBytesNow;
  }

  /**
   * Changes the accepted `size` range for the size fields read from now on (a frame whose
   * size was already read keeps the check it passed). The Kafka front narrows it while raw
   * SASL tokens follow a SaslHandshake v0 (broker/kafka/sasl-tokens.ts).
   */
  setLimits(minFrameBytes: number, maxFrameBytes: number): void {
    assert(Number.isInteger(minFrameBytes) && minFrameBytes >= 0 && maxFrameBytes >= minFrameBytes, 'frame limits: 0 <= min <= max');
    this.minFrameBytesNow = minFrameBytes;
    this.maxFrameBytesNow = maxFrameBytes;
  }

  /**
   * Hands back a frame (or any subarray of it) that push() returned, once nothing reads
   * its bytes any more; a later split frame may be assembled into the same memory. Frames
   * that were not pooled (subarrays of a chunk, large frames) are ignored.
   */
  release(frame: Buffer): void {
    const pooled = this.lent.get(frame.buffer);
    if (pooled === undefined || frame.buffer === this.assembling?.buffer) return;
    this.lent.delete(frame.buffer);
    if (this.spare === null || this.spare.length < pooled.length) this.spare = pooled;
  }

  /** A buffer for a split frame of `size` bytes: pooled when enabled and small enough. */
  private allocateFrame(size: number): Buffer {
    if (!this.poolAssembly || size > POOLED_FRAME_MAX_BYTES) return Buffer.allocUnsafe(size);
    let pooled = this.spare;
    if (pooled !== null && pooled.length >= size) {
      this.spare = null;
    } else {
      const capacity = size <= POOLED_BUFFER_MIN_BYTES ? POOLED_BUFFER_MIN_BYTES : POOLED_FRAME_MAX_BYTES;
      // allocUnsafeSlow: memory of its own (not Node's shared slab), so `.buffer` names it.
      pooled = Buffer.allocUnsafeSlow(capacity);
    }
    if (this.lent.size >= POOL_MAX_LENT) {
      // Forget the oldest never-released frame: it stays its holder's.
      const oldest = this.lent.keys().next().value;
      if (oldest !== undefined) this.lent.delete(oldest);
    }
    this.lent.set(pooled.buffer, pooled);
    return pooled.subarray(0, size);
  }

  /** Bytes held for a frame not yet complete (size field bytes plus the partial frame). */
  get bufferedBytes(): number {
    return this.sizeBytesFilled + this.assembled;
  }

  /** Bytes allocated for the frame being assembled (at least bufferedBytes - size field bytes). */
  get assemblyBytes(): number {
    return this.assembling?.length ?? 0;
  }

  /** The announced size of the frame being assembled, 0 when none. */
  get partialFrameBytes(): number {
    return this.assemblingSize;
  }

  /** Starts assembling a split frame of `size` bytes: allocated whole, or grown as its bytes arrive. */
  private startAssembly(size: number): void {
    this.assemblingSize = size;
    this.assembled = 0;
    this.assembling = size <= this.maxUpFrontAllocationBytes ? this.allocateFrame(size) : Buffer.allocUnsafe(Math.min(size, GROWING_FRAME_START_BYTES));
  }

  /** Makes the assembly buffer hold at least `bytes` (<= assemblingSize), doubling it. */
  private growAssembly(bytes: number): Buffer {
    const current = this.assembling!;
    if (current.length >= bytes) return current;
    const grown = Buffer.allocUnsafe(Math.min(this.assemblingSize, Math.max(bytes, current.length * 2)));
    current.copy(grown, 0, 0, this.assembled);
    this.assembling = grown;
    return grown;
  }

  /** True when no partial frame is held (the stream ended on a frame boundary). */
  get idle(): boolean {
    return this.sizeBytesFilled === 0 && this.assembling === null;
  }

  /** Feeds a chunk; returns the frames it completes, in order. */
  push(chunk: Buffer): Buffer[] {
    if (this.failure) throw this.failure;
    const frames: Buffer[] = [];
    let position = 0;
    const end = chunk.length;
    while (position < end) {
      if (this.assembling !== null) {
        const take = Math.min(this.assemblingSize - this.assembled, end - position);
        const frame = this.growAssembly(this.assembled + take);
        chunk.copy(frame, this.assembled, position, position + take);
        this.assembled += take;
        position += take;
        if (this.assembled === this.assemblingSize) {
          assert(frame.length === this.assemblingSize, 'an assembled frame is exactly its announced size');
          this.assembling = null;
          this.assemblingSize = 0;
          this.assembled = 0;
          frames.push(frame);
        }
        continue;
      }
      if (this.sizeBytesFilled > 0 || end - position < SIZE_BYTES) {
        const take = Math.min(SIZE_BYTES - this.sizeBytesFilled, end - position);
        chunk.copy(this.sizeBytes, this.sizeBytesFilled, position, position + take);
        this.sizeBytesFilled += take;
        position += take;
        if (this.sizeBytesFilled < SIZE_BYTES) continue;
        this.sizeBytesFilled = 0;
        const size = this.checkSize(this.sizeBytes.readUInt32BE(0));
        if (size === 0) frames.push(Buffer.alloc(0));
        else this.startAssembly(size);
        continue;
      }
      const size = this.checkSize(chunk.readUInt32BE(position));
      const frameStart = position + SIZE_BYTES;
      if (frameStart + size <= end) {
        frames.push(chunk.subarray(frameStart, frameStart + size));
        position = frameStart + size;
      } else {
        // Split: the assembly branch above copies the rest of this chunk.
        this.startAssembly(size);
        position = frameStart;
      }
    }
    return frames;
  }

  private checkSize(size: number): number {
    if (size > this.maxFrameBytes) {
      this.failure = new SpoolError(
        Errors.RECORD_LIST_TOO_LARGE,
        `frame of ${size} bytes is larger than the limit of ${this.maxFrameBytes} bytes`,
      );
      throw this.failure;
    }
    if (size < this.minFrameBytes) {
      this.failure = new SpoolError(
        Errors.INVALID_REQUEST,
        `frame of ${size} bytes is shorter than its fixed fields (${this.minFrameBytes} bytes)`,
      );
      throw this.failure;
    }
    return size;
  }
}

/**
 * Decodes request frames (the broker side). The peer is not trusted: split frames larger
 * than a pooled buffer grow as their bytes arrive unless maxUpFrontAllocationBytes says otherwise.
 */
export class RequestFrameDecoder {
  private readonly raw: FrameDecoder;

  constructor(options: { maxFrameBytes?: number; poolAssembly?: boolean; maxUpFrontAllocationBytes?: number } = {}) {
    this.raw = new FrameDecoder({
      maxUpFrontAllocationBytes: POOLED_FRAME_MAX_BYTES,
      ...options,
      minFrameBytes: REQUEST_HEADER_BYTES - SIZE_BYTES,
    });
  }

  get assemblyBytes(): number {
    return this.raw.assemblyBytes;
  }

  get partialFrameBytes(): number {
    return this.raw.partialFrameBytes;
  }

  /** See FrameDecoder.release: `body` (or any part of it) is no longer read by anyone. */
  release(body: Buffer): void {
    this.raw.release(body);
  }

  get bufferedBytes(): number {
    return this.raw.bufferedBytes;
  }

  get idle(): boolean {
    return this.raw.idle;
  }

  push(chunk: Buffer): RequestFrame[] {
    return this.raw.push(chunk).map(parseRequestFrame);
  }
}

/** Decodes response frames (the client side). */
export class ResponseFrameDecoder {
  private readonly raw: FrameDecoder;

  constructor(options: { maxFrameBytes?: number } = {}) {
    this.raw = new FrameDecoder({ ...options, minFrameBytes: RESPONSE_HEADER_BYTES - SIZE_BYTES });
  }

  get bufferedBytes(): number {
    return this.raw.bufferedBytes;
  }

  get idle(): boolean {
    return this.raw.idle;
  }

  push(chunk: Buffer): ResponseFrame[] {
    return this.raw.push(chunk).map(parseResponseFrame);
  }
}

/** `frame` holds the bytes after the size field. */
export function parseRequestFrame(frame: Buffer): RequestFrame {
  return {
    correlationId: frame.readUInt32BE(FrameLayout.CORRELATION_ID - SIZE_BYTES),
    apiKey: frame.readUInt16BE(FrameLayout.API_KEY - SIZE_BYTES),
    apiVersion: frame.readUInt16BE(FrameLayout.API_VERSION - SIZE_BYTES),
    body: frame.subarray(FrameLayout.REQUEST_BODY - SIZE_BYTES),
  };
}

/** `frame` holds the bytes after the size field. */
export function parseResponseFrame(frame: Buffer): ResponseFrame {
  return {
    correlationId: frame.readUInt32BE(FrameLayout.CORRELATION_ID - SIZE_BYTES),
    body: frame.subarray(FrameLayout.RESPONSE_BODY - SIZE_BYTES),
  };
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) throw new RangeError(`${name} must be a u32, got ${value}`);
}

function checkU16(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`${name} must be a u16, got ${value}`);
}

/**
 * Encodes a request frame: [frame header + body prefix (headerLength, msgpack)] followed
 * by the payload buffers, not copied. The sum of the lengths is the frame's wire size.
 */
export function encodeRequestFrame(
  correlationId: number,
  apiKey: number,
  apiVersion: number,
  header: unknown,
  payload?: Payload,
): Buffer[] {
  checkU32('correlationId', correlationId);
  checkU16('apiKey', apiKey);
  checkU16('apiVersion', apiVersion);
  const parts = payloadParts(payload);
  const first = encodeBodyPrefix(header, REQUEST_HEADER_BYTES);
  let size = first.length - SIZE_BYTES;
  for (const part of parts) size += part.length;
  checkU32('frame size', size);
  first.writeUInt32BE(size, FrameLayout.SIZE);
  first.writeUInt32BE(correlationId, FrameLayout.CORRELATION_ID);
  first.writeUInt16BE(apiKey, FrameLayout.API_KEY);
  first.writeUInt16BE(apiVersion, FrameLayout.API_VERSION);
  return parts.length === 0 ? [first] : [first, ...parts];
}

/** Encodes a response frame, like encodeRequestFrame. */
export function encodeResponseFrame(correlationId: number, header: unknown, payload?: Payload): Buffer[] {
  checkU32('correlationId', correlationId);
  const parts = payloadParts(payload);
  const first = encodeBodyPrefix(header, RESPONSE_HEADER_BYTES);
  let size = first.length - SIZE_BYTES;
  for (const part of parts) size += part.length;
  checkU32('frame size', size);
  first.writeUInt32BE(size, FrameLayout.SIZE);
  first.writeUInt32BE(correlationId, FrameLayout.CORRELATION_ID);
  return parts.length === 0 ? [first] : [first, ...parts];
}

/** Total byte length of encoded parts. */
export function byteLengthOf(parts: readonly Buffer[]): number {
  let total = 0;
  for (const part of parts) total += part.length;
  return total;
}
