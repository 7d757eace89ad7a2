// Kafka codec micro-benchmarks: decode a Produce v7 request carrying a 256 KiB record batch
// (the records field is a slice of the frame: cost should not grow with it), and encode Fetch
// responses (v11 classic, v12 flexible) for 16 partitions of 64 KiB batches, whose records go
// out as uncopied chunks.

import type { Bench } from 'tinybench';
import { ApiKeys, decodeRequest, encodeRequest, encodeResponse, type FetchResponse, frameBytes } from '../../src/kafka/index.js';

export function register(bench: Bench): void {
  const batch = Buffer.alloc(256 * 1024, 7);
  const produce = frameBytes(
    encodeRequest(ApiKeys.Produce, 7, 1, 'bench', { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: 'orders', partitionData: [{ index: 3, records: batch }] }] }),
  ).subarray(4);

  bench.add('kafka: decode Produce v7 request (256 KiB batch)', () => {
    decodeRequest(produce);
  });

  const slice = Buffer.alloc(64 * 1024, 1);
  const fetch: FetchResponse = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [
      {
        topic: 'orders',
        partitions: Array.from({ length: 16 }, (_, partitionIndex) => ({
          partitionIndex,
          errorCode: 0,
          highWatermark: 1_000_000,
          lastStableOffset: 1_000_000,
          logStartOffset: 0,
          abortedTransactions: null,
          preferredReadReplica: -1,
          records: slice,
        })),
      },
    ],
  };
  for (const version of [11, 12]) {
    bench.add(`kafka: encode Fetch v${version} response (16 partitions x 64 KiB)`, () => {
      encodeResponse(ApiKeys.Fetch, version, 1, fetch);
    });
  }
}
