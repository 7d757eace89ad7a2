// FrameDecoder's growing assembly: a split frame above maxUpFrontAllocationBytes is not
// allocated at its announced size when the size arrives (a request decoder that is told
// "100 MiB" and gets 1 KiB holds about 64 KiB), and frames assembled by growing are byte
// for byte what was sent, for every chunk size tried, including one byte at a time.
import { describe, expect, it } from 'vitest';
import { FrameDecoder, GROWING_FRAME_START_BYTES, RequestFrameDecoder } from '../../src/protocol/frame.js';

function framed(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32BE(body.length);
  return Buffer.concat([size, body]);
}

describe('growing assembly', () => {
  it('does not allocate an announced 100 MiB frame up front', () => {
    const decoder = new RequestFrameDecoder({ maxFrameBytes: 100 * 1024 * 1024 });
    const start = Buffer.alloc(12 + 1024);
    start.writeUInt32BE(100 * 1024 * 1024, 0);
    expect(decoder.push(start)).toEqual([]);
    expect(decoder.partialFrameBytes).toBe(100 * 1024 * 1024);
    expect(decoder.bufferedBytes).toBe(8 + 1024);
    expect(decoder.assemblyBytes).toBe(GROWING_FRAME_START_BYTES);
    decoder.push(Buffer.alloc(200_000));
    // Doubling: the buffer is at most twice what arrived.
    expect(decoder.assemblyBytes).toBeLessThanOrEqual(2 * decoder.bufferedBytes);
    expect(decoder.assemblyBytes).toBeGreaterThanOrEqual(decoder.bufferedBytes);
  });

  it('assembles grown frames exactly, whatever the chunk size', () => {
    const bodies = [3_000, 70_000, 300_001, 10].map((length, i) => Buffer.from(Array.from({ length }, (_, at) => (at * 31 + i) & 0xff)));
    const stream = Buffer.concat(bodies.map(framed));
    for (const chunkBytes of [1, 7, 4096, 65_536, 100_003, stream.length]) {
      const decoder = new FrameDecoder({ maxUpFrontAllocationBytes: 1000, poolAssembly: true });
      const got: Buffer[] = [];
      for (let at = 0; at < stream.length; at += chunkBytes) got.push(...decoder.push(stream.subarray(at, at + chunkBytes)));
      expect(got.length).toBe(bodies.length);
      got.forEach((frame, i) => {
        expect(frame.length).toBe(bodies[i]!.length);
        expect(frame.equals(bodies[i]!)).toBe(true);
      });
      expect(decoder.idle).toBe(true);
      expect(decoder.assemblyBytes).toBe(0);
    }
  });
});
