// Proves the OffsetCommitter's rules with a fake client (no broker): processed positions
// become commits of the next offset, only for owned partitions and only when they moved;
// commits go out one at a time in call order; STALE_MEMBER_EPOCH makes it heartbeat and
// retry with the new epoch; offsets chosen before a fence are never sent after it; a refused commit is reported and not recorded as committed;
// explicit offsets of partitions not owned are refused before any request.
import { describe, expect, it } from 'vitest';
import type { Client } from '../../src/client/client.js';
import { OffsetCommitter } from '../../src/client/offset-committer.js';
import { RetryPolicy } from '../../src/client/retry.js';
import { Errors, SpoolError } from '../../src/util/errors.js';

interface Sent {
  memberEpoch: number;
  offsets: Array<{ topic: string; partition: number; offset: number }>;
}

function fakeClient(answer: (request: Sent) => Promise<unknown> | unknown): { client: Client; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    retryPolicy: new RetryPolicy({ retries: 2, initialRetryTimeMs: 1 }),
    signal: new AbortController().signal,
    async send(_apiKey: number, header: Sent) {
      sent.push(structuredClone(header));
      const result = await answer(header);
      return { header: result, payload: Buffer.alloc(0) };
    },
  } as unknown as Client;
  return { client, sent };
}

const ok = (request: Sent): unknown => ({ errorCode: 0, partitions: request.offsets.map((entry) => ({ topic: entry.topic, partition: entry.partition, errorCode: 0 })) });

function committer(client: Client, options: { owned?: Set<number>; epoch?: { value: number }; generation?: { value: number }; refresh?: () => Promise<void> } = {}): OffsetCommitter {
  const owned = options.owned ?? new Set([0, 1, 2]);
  const generation = options.generation ?? { value: 0 };
  const epoch = options.epoch ?? { value: 5 };
  return new OffsetCommitter(client, {
    groupId: 'g',
    autoCommit: false,
    autoCommitIntervalMs: 1000,
    identity: () => ({ memberId: 'm', memberEpoch: epoch.value, generation: generation.value }),
    owns: (_topic, partition) => owned.has(partition),
    refreshEpoch: options.refresh ?? (async () => undefined),
  });
}

describe('OffsetCommitter', () => {
  it('commits moved, owned positions only, once', async () => {
    const { client, sent } = fakeClient(ok);
    const owned = new Set([0, 1]);
    const commits = committer(client, { owned });
    commits.onProcessed('t', 0, 10);
    commits.onProcessed('t', 0, 11);
    commits.onProcessed('t', 1, 4);
    commits.onProcessed('t', 2, 7); // not owned
    await commits.commitProcessed();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.offsets).toEqual([
      { topic: 't', partition: 0, offset: 11 },
      { topic: 't', partition: 1, offset: 4 },
    ]);
    await commits.commitProcessed(); // nothing moved: no request
    expect(sent).toHaveLength(1);
    commits.noteCommitted('t', 1, 4);
    commits.onProcessed('t', 1, 5);
    await commits.commitProcessed([{ topic: 't', partition: 1 }]);
    expect(sent[1]!.offsets).toEqual([{ topic: 't', partition: 1, offset: 5 }]);
    commits.forget([{ topic: 't', partition: 0 }]);
    commits.onProcessed('t', 0, 20);
    owned.delete(0);
    await commits.commitProcessed();
    expect(sent).toHaveLength(2); // partition 0 is no longer owned
  });

  it('goes out one commit at a time, in call order, each with the newest positions', async () => {
    const releases: Array<() => void> = [];
    const { client, sent } = fakeClient((request) => new Promise((resolve) => releases.push(() => resolve(ok(request)))));
    const commits = committer(client);
    commits.onProcessed('t', 0, 1);
    const first = commits.commitProcessed();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent.map((request) => request.offsets[0]!.offset)).toEqual([1]);
    commits.onProcessed('t', 0, 2);
    const second = commits.commitProcessed();
    commits.onProcessed('t', 0, 3);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent).toHaveLength(1); // the second waits for the first
    releases.shift()!();
    await first;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(sent.map((request) => request.offsets[0]!.offset)).toEqual([1, 3]); // chosen when its turn came
    releases.shift()!();
    await second;
  });

  it('STALE_MEMBER_EPOCH: heartbeat, then retry with the new epoch', async () => {
    const epoch = { value: 3 };
    const { client, sent } = fakeClient((request) => {
      if (request.memberEpoch < 4) throw new SpoolError(Errors.STALE_MEMBER_EPOCH);
      return ok(request);
    });
    let refreshed = 0;
    const commits = committer(client, {
      epoch,
      refresh: async () => {
        refreshed++;
        epoch.value = 4;
      },
    });
    commits.onProcessed('t', 2, 9);
    await commits.commitProcessed();
    expect(refreshed).toBe(1);
    expect(sent.map((request) => request.memberEpoch)).toEqual([3, 4]);
  });

  it('a commit whose retry comes after a fence and rejoin is dropped, not sent with the new epoch', async () => {
    const generation = { value: 0 };
    const epoch = { value: 2 };
    let calls = 0;
    const { client, sent } = fakeClient((request) => {
      calls++;
      if (calls === 1) {
        // The broker went away; meanwhile the member was fenced and rejoined.
        generation.value = 1;
        epoch.value = 1;
        throw new SpoolError(Errors.NETWORK_ERROR);
      }
      return ok(request);
    });
    const commits = committer(client, { epoch, generation });
    commits.onProcessed('t', 0, 8);
    await expect(commits.commitProcessed()).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    expect(sent).toHaveLength(1);
  });

  it('a refused commit rejects and is not recorded; a fenced member commits nothing', async () => {
    let refuse = true;
    const { client, sent } = fakeClient((request) => {
      if (refuse) throw new SpoolError(Errors.UNKNOWN_MEMBER_ID);
      return ok(request);
    });
    const commits = committer(client);
    commits.onProcessed('t', 0, 5);
    await expect(commits.commitProcessed()).rejects.toMatchObject({ code: 'UNKNOWN_MEMBER_ID' });
    refuse = false;
    await commits.commitProcessed(); // still uncommitted: sent again
    expect(sent).toHaveLength(2);
    await expect(commits.commitOffsets([{ topic: 't', partition: 7, offset: 1 }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(commits.commitOffsets([{ topic: 't', partition: 0, offset: -1 }])).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(sent).toHaveLength(2);
  });
});
