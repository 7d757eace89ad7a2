// FrameDecoder's pooled assembly: split frames reuse a released buffer, frames never
// released are not overwritten, and the bytes of every frame are right.
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/protocol/frame.js';

function framed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length);
  return Buffer.concat([size, body]);
}

function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(Buffer.from(bytes.subarray(at, at + size)));
  return out;
}

describe('FrameDecoder poolAssembly', () => {
  it('reuses a released split frame and keeps an unreleased one intact', () => {
    const decoder = new FrameDecoder({ poolAssembly: true });
    const a = Buffer.alloc(100_000, 1);
    const b = Buffer.alloc(100_000, 2);
    const c = Buffer.alloc(100_000, 3);
    const stream = Buffer.concat([framed(a), framed(b), framed(c)]);
    const got: Buffer[] = [];
    for (const chunk of chunks(stream, 30_000)) {
      for (const frame of decoder.push(chunk)) {
        got.push(frame);
        if (frame[0] === 1) decoder.release(frame); // a is consumed; b is kept
      }
    }
    expect(got.map((frame) => frame.length)).toEqual([100_000, 100_000, 100_000]);
    expect(got[1]!.equals(b)).toBe(true);
    expect(got[2]!.equals(c)).toBe(true);
    // c was assembled into a's released memory; b (never released) has its own.
    expect(got[2]!.buffer).toBe(got[0]!.buffer);
    expect(got[1]!.buffer).not.toBe(got[2]!.buffer);
  });

  it('does not pool without the option, and ignores release of unpooled frames', () => {
    const decoder = new FrameDecoder();
    const stream = Buffer.concat([framed(Buffer.alloc(50_000, 7)), framed(Buffer.alloc(50_000, 8))]);
    const got: Buffer[] = [];
    for (const chunk of chunks(stream, 20_000)) {
      for (const frame of decoder.push(chunk)) {
        got.push(frame);
        decoder.release(frame);
      }
    }
    expect(got[0]!.every((byte) => byte === 7)).toBe(true);
    expect(got[1]!.every((byte) => byte === 8)).toBe(true);
  });
});
