// Proves the replica fetcher's quiet retry of settling answers: in process, over a scripted
// LeaderChannel and a real replicated log, a partition answered UNKNOWN_TOPIC (a leader that
// has not created the log of a new topic yet), NOT_LEADER_OR_FOLLOWER or
// UNKNOWN_LEADER_EPOCH is retried with no warning for settlingQuietMs, and warned about once
// when the run lasts longer; a good answer ends the run (the next settling answer starts a
// new quiet period); any other error (FENCED_LEADER_EPOCH) is warned about at once.

import { afterEach, beforeEach, expect, it } from 'vitest';
import type { FetchPartitionAnswer, LeaderChannel } from '../../src/cluster/replica-fetcher.js';
import { ReplicaFetcher } from '../../src/cluster/replica-fetcher.js';
import { LogManager } from '../../src/storage/index.js';
import { Errors, SpoolError, type ErrorKind } from '../../src/util/errors.js';
import { waitFor } from '../helpers/broker.js';
import { tempDataDir } from '../storage/helpers.js';

const QUIET_MS = 300;
let data: ReturnType<typeof tempDataDir>;
let manager: LogManager;
let fetcher: ReplicaFetcher | null = null;

beforeEach(async () => {
  data = tempDataDir();
  manager = await LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false, replicated: true });
  await manager.createTopic('t', 1);
});
afterEach(async () => {
  await fetcher?.stop();
  fetcher = null;
  await manager.close();
  data.cleanup();
});

/** A channel that answers every fetch with the error `answerWith()` names (null: an empty good answer). */
function scriptedChannel(answerWith: () => ErrorKind | null): LeaderChannel & { fetches: number } {
  const channel = {
    fetches: 0,
    offsetsForLeaderEpoch: () => Promise.resolve([]),
    replicaFetch: async (request: Parameters<LeaderChannel['replicaFetch']>[0]): Promise<FetchPartitionAnswer[]> => {
      channel.fetches++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      const kind = answerWith();
      return request.partitions.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        error: kind ? new SpoolError(kind, `scripted ${kind.name}`) : null,
        records: Buffer.alloc(0),
        highWatermark: 0,
        logStartOffset: 0,
        logEndOffset: 0,
      }));
    },
    close: () => undefined,
  };
  return channel;
}

function follow(channel: LeaderChannel, warnings: string[]): void {
  fetcher = new ReplicaFetcher({ channel, retryBackoffMs: 10, settlingQuietMs: QUIET_MS, warn: (message) => warnings.push(message) });
  fetcher.start();
  fetcher.add({ topic: 't', partition: 0, log: manager.getPartition('t', 0), leaderEpoch: 1 });
}

for (const kind of [Errors.UNKNOWN_TOPIC, Errors.NOT_LEADER_OR_FOLLOWER, Errors.UNKNOWN_LEADER_EPOCH]) {
  it(`${kind.name}: quiet for settlingQuietMs, then one warning`, async () => {
    const warnings: string[] = [];
    const channel = scriptedChannel(() => kind);
    const startedMs = performance.now();
    follow(channel, warnings);
    await waitFor(() => channel.fetches >= 5);
    expect(warnings).toEqual([]);
    await waitFor(() => warnings.length > 0, 5_000);
    expect(performance.now() - startedMs).toBeGreaterThanOrEqual(QUIET_MS);
    expect(warnings).toEqual([`replica fetcher t-0: scripted ${kind.name} (for over ${QUIET_MS} ms)`]);
    const fetchesAtWarning = channel.fetches;
    await waitFor(() => channel.fetches >= fetchesAtWarning + 5);
    expect(warnings.length).toBe(1);
  });
}

it('a good answer ends the run: settling answers after it start a new quiet period', async () => {
  const warnings: string[] = [];
  let fetches = 0;
  // Settling answers with a good one every few fetches, for longer than the quiet period in all.
  const channel = scriptedChannel(() => (++fetches % 5 === 0 ? null : Errors.UNKNOWN_TOPIC));
  follow(channel, warnings);
  const startedMs = performance.now();
  await waitFor(() => performance.now() - startedMs > QUIET_MS * 3, 5_000);
  expect(warnings).toEqual([]);
});

it('another error (FENCED_LEADER_EPOCH) is warned about at once', async () => {
  const warnings: string[] = [];
  const channel = scriptedChannel(() => Errors.FENCED_LEADER_EPOCH);
  follow(channel, warnings);
  await waitFor(() => warnings.length > 0, 1_000);
  expect(channel.fetches).toBeLessThanOrEqual(2);
  expect(warnings).toEqual(['replica fetcher t-0: scripted FENCED_LEADER_EPOCH']);
});
