// Proves the share consumer's acknowledgement batching (src/client/share-acker.ts) with a
// stub client that records requests: consecutive accepts of a partition merge into one
// range as they arrive, a release with a delay or an error stays its own range, callers of
// one partition in one batch share one promise that settles with that partition's answer,
// detach() hands the pending ranges to a ShareFetch and settles them with its answer, and
// requeued ranges go after the newer ones of their partition, never merged with them
// (a requeued range the broker already applied is refused, which ends its partition).

import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/client.js';
import { AckType, ShareAcker } from '../../src/client/share-acker.js';
import { ANY_BROKER } from '../../src/client/metadata.js';
import { Errors } from '../../src/util/errors.js';

function stubClient(answer: (request: { partitions: Array<{ topic: string; partition: number }> }) => unknown): { client: Client; requests: unknown[] } {
  const requests: unknown[] = [];
  const client = {
    request: async (_apiKey: number, request: { partitions: Array<{ topic: string; partition: number }> }) => {
      requests.push(structuredClone(request));
      return { header: answer(request), payload: Buffer.alloc(0) };
    },
  } as unknown as Client;
  return { client, requests };
}

describe('share acker', () => {
  it('merges ranges as they arrive and settles each partition with its answer', async () => {
    const { client, requests } = stubClient((request) => ({
      errorCode: 0,
      partitions: request.partitions.map(({ topic, partition }) => ({ topic, partition, errorCode: partition === 1 ? Errors.INVALID_RECORD_STATE.code : 0 })),
    }));
    const acker = new ShareAcker(client, 'g', 'm');
    const first = acker.acknowledge(ANY_BROKER, 't', 0, { firstOffset: 0, lastOffset: 0, type: AckType.ACCEPT });
    const second = acker.acknowledge(ANY_BROKER, 't', 0, { firstOffset: 1, lastOffset: 1, type: AckType.ACCEPT });
    expect(second).toBe(first);
    acker.acknowledgeQuietly(ANY_BROKER, 't', 0, 2, AckType.ACCEPT);
    acker.acknowledge(ANY_BROKER, 't', 0, { firstOffset: 3, lastOffset: 3, type: AckType.RELEASE, delayMs: 100 }).catch(() => {});
    acker.acknowledgeQuietly(ANY_BROKER, 't', 0, 4, AckType.ACCEPT);
    const refused = acker.acknowledge(ANY_BROKER, 't', 1, { firstOffset: 7, lastOffset: 7, type: AckType.REJECT, error: 'bad' });
    await acker.flush();
    expect(requests).toEqual([
      {
        groupId: 'g',
        memberId: 'm',
        partitions: [
          {
            topic: 't',
            partition: 0,
            ranges: [
              { firstOffset: 0, lastOffset: 2, type: 1 },
              { firstOffset: 3, lastOffset: 3, type: 2, delayMs: 100 },
              { firstOffset: 4, lastOffset: 4, type: 1 },
            ],
          },
          { topic: 't', partition: 1, ranges: [{ firstOffset: 7, lastOffset: 7, type: 3, error: 'bad' }] },
        ],
      },
    ]);
    await expect(first).resolves.toBeUndefined();
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_RECORD_STATE' });
  });

  it('hands pending ranges to a fetch, and sends requeued ones after the newer ones, unmerged', async () => {
    const { client, requests } = stubClient(() => ({ errorCode: 0, partitions: [] }));
    const acker = new ShareAcker(client, 'g', 'm');
    const waiting = acker.acknowledge(ANY_BROKER, 't', 0, { firstOffset: 0, lastOffset: 0, type: AckType.ACCEPT });
    acker.acknowledgeQuietly(ANY_BROKER, 't', 0, 1, AckType.ACCEPT);
    const detached = acker.detach()!;
    expect(detached.partitions).toEqual([{ topic: 't', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 1, type: 1 }] }]);
    expect(acker.isEmpty).toBe(true);
    detached.settle([{ topic: 't', partition: 0, errorCode: 0 }]);
    await expect(waiting).resolves.toBeUndefined();

    acker.requeue(detached.nodeId, detached.partitions);
    acker.acknowledgeQuietly(ANY_BROKER, 't', 0, 2, AckType.ACCEPT);
    await acker.flush();
    expect(requests).toEqual([
      {
        groupId: 'g',
        memberId: 'm',
        partitions: [{ topic: 't', partition: 0, ranges: [{ firstOffset: 2, lastOffset: 2, type: 1 }, { firstOffset: 0, lastOffset: 1, type: 1 }] }],
      },
    ]);
  });
});
