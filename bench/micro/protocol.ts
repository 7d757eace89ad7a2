// Protocol codec micro-benchmarks: encode and decode a produce request frame carrying a
// 256 KiB payload (the payload must ride untouched: cost should not grow with it), and a
// FrameDecoder splitting a stream of many small frames (fetch/heartbeat-sized) pushed in
// 64 KiB chunks, as a socket delivers them.

import type { Bench } from 'tinybench';
import { decodeBody } from '../../src/protocol/body.js';
import { encodeRequestFrame, RequestFrameDecoder } from '../../src/protocol/frame.js';
import { ApiKey } from '../../src/protocol/apis.js';

export function register(bench: Bench, tiny: boolean): void {
  const payload = Buffer.alloc(256 * 1024, 7);
  const produceHeader = { acks: -1, timeoutMs: 30000, partitions: [{ topic: 'orders', partition: 3, size: payload.length }] };
  const produceFrame = Buffer.concat(encodeRequestFrame(1, ApiKey.Produce, 0, produceHeader, payload));

  bench.add('protocol: encode produce frame (256 KiB payload)', () => {
    encodeRequestFrame(1, ApiKey.Produce, 0, produceHeader, payload);
  });

  bench.add('protocol: decode produce frame (256 KiB payload, one chunk)', () => {
    const decoder = new RequestFrameDecoder();
    const [frame] = decoder.push(produceFrame);
    decodeBody(frame!.body);
  });

  const frameCount = tiny ? 100 : 10_000;
  const small = Buffer.concat(
    encodeRequestFrame(1, ApiKey.Fetch, 0, {
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 52428800,
      partitions: [{ topic: 'orders', partition: 0, offset: 123456, maxBytes: 1048576 }],
    }),
  );
  const stream = Buffer.concat(Array.from({ length: frameCount }, () => small));
  const chunkBytes = 64 * 1024;
  const chunks: Buffer[] = [];
  for (let position = 0; position < stream.length; position += chunkBytes) chunks.push(stream.subarray(position, position + chunkBytes));

  bench.add(`protocol: FrameDecoder ${frameCount} small frames (${small.length} B) in 64 KiB chunks`, () => {
    const decoder = new RequestFrameDecoder();
    let frames = 0;
    for (const chunk of chunks) frames += decoder.push(chunk).length;
    if (frames !== frameCount) throw new Error(`decoded ${frames} frames`);
  });

  bench.add(`protocol: FrameDecoder + decodeBody ${frameCount} small frames`, () => {
    const decoder = new RequestFrameDecoder();
    for (const chunk of chunks) for (const frame of decoder.push(chunk)) decodeBody(frame.body);
  });
}
