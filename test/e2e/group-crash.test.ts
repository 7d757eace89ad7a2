// Proves at-least-once delivery when a group member dies: three member processes share a
// 6-partition topic while the test produces into it; one is SIGKILLed mid-stream. What
// must survive: every produced message is processed by someone (the union of what the
// dead member and the survivors processed covers the whole log: nothing lost), the
// survivors take the dead member's partitions after its session timeout (1 s here) and
// start exactly at its last committed offset, and the only messages processed twice are
// the dead member's uncommitted window ([last commit, what it had processed)) — nothing
// on the partitions that never moved. Real broker process, real TCP, member processes of
// their own (test/e2e/fixtures/group-consumer.ts).
import { afterAll, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { spawnMember, type ChildMember } from './helpers.js';

const { address, client } = useBroker(['--fsync', 'never']);
const members: ChildMember[] = [];

// Registered after useBroker, so it runs first: the members go before the broker does.
afterAll(async () => {
  await Promise.allSettled(members.map((member) => member.kill()));
});

const SESSION_MS = 1000;
const PARTITIONS = 6;
const ROUNDS = 40;
const PER_ROUND = 60;

it('a SIGKILLed member loses nothing: survivors resume at its last commit; duplicates only in its uncommitted window', async () => {
  const topic = randomTopic('crash');
  const group = randomTopic('grp');
  await client().admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  for (let index = 0; index < 3; index++) {
    members.push(spawnMember({ broker: address(), group, topic, sessionMs: SESSION_MS, commitIntervalMs: 200, delayMs: 1, fromBeginning: true }));
  }
  await waitFor(() => members.every((member) => member.owned.size === 2), 30_000);

  const producer = client().producer({ lingerMs: 2 });
  let produced = 0;
  const produceRound = async (round: number): Promise<void> => {
    const messages = Array.from({ length: PER_ROUND }, (_, index) => ({ value: `r${round}-${index}`, partition: index % PARTITIONS }));
    await producer.send({ topic, messages });
    produced += PER_ROUND;
    await new Promise((resolve) => setTimeout(resolve, 25));
  };
  for (let round = 0; round < ROUNDS / 2; round++) await produceRound(round);

  // Mid-stream: the victim has processed messages; some of them are committed, some not yet.
  const victim = members[0]!;
  const victimPartitions = [...victim.owned];
  await waitFor(() => victim.processed.length > 100, 10_000);
  await victim.kill('SIGKILL');
  const killedAt = Date.now();
  // Let a commit the victim had in flight land (the broker may still be reading it), then
  // read the last commit: nobody else may commit these partitions before the session ends.
  await new Promise((resolve) => setTimeout(resolve, 100));
  const committed = new Map((await client().admin().fetchOffsets({ groupId: group })).map((entry) => [entry.partition, entry.offset]));
  const survivors = members.slice(1);
  expect(survivors.every((member) => victimPartitions.every((partition) => !member.owned.has(partition)))).toBe(true);

  for (let round = ROUNDS / 2; round < ROUNDS; round++) await produceRound(round);
  await producer.close();
  await waitFor(() => victimPartitions.every((partition) => survivors.some((member) => member.owned.has(partition))), 15_000);
  const takeoverMs = Date.now() - killedAt;
  // Not before the session ran out (the deadline counts from its last heartbeat, up to a third of a session before the kill).
  expect(takeoverMs).toBeGreaterThanOrEqual(SESSION_MS / 2);

  const ends = new Map((await client().admin().listOffsets({ topic })).map((entry) => [entry.partition, entry.offset]));
  expect([...ends.values()].reduce((sum, end) => sum + end, 0)).toBe(produced);
  const everything = (): string[] => [victim.processed, ...survivors.map((member) => member.processed)].flat();
  await waitFor(() => {
    const seen = new Set(everything());
    return [...ends].every(([partition, end]) => {
      for (let offset = 0; offset < end; offset++) if (!seen.has(`${partition}:${offset}`)) return false;
      return true;
    });
  }, 20_000, 100);
  await new Promise((resolve) => setTimeout(resolve, 300)); // late duplicates would show now
  const counts = new Map<string, number>();
  for (const entry of everything()) counts.set(entry, (counts.get(entry) ?? 0) + 1);

  // Nothing lost: every offset of every partition was processed by someone.
  for (const [partition, end] of ends) for (let offset = 0; offset < end; offset++) expect(counts.has(`${partition}:${offset}`), `${partition}:${offset}`).toBe(true);

  // The victim's highest processed offset per partition.
  const victimLast = new Map<number, number>();
  for (const entry of victim.processed) {
    const [partition, offset] = entry.split(':').map(Number) as [number, number];
    victimLast.set(partition, Math.max(victimLast.get(partition) ?? -1, offset));
  }
  let window = 0;
  for (const partition of victimPartitions) {
    const commit = committed.get(partition) ?? 0;
    window += (victimLast.get(partition) ?? -1) + 1 - commit;
  }
  const duplicates = [...counts].filter(([, count]) => count > 1).map(([entry]) => entry);
  for (const entry of duplicates) {
    const [partition, offset] = entry.split(':').map(Number) as [number, number];
    expect(counts.get(entry)).toBe(2);
    expect(victimPartitions, `duplicate ${entry} on a partition that never moved`).toContain(partition);
    expect(offset).toBeGreaterThanOrEqual(committed.get(partition) ?? 0);
    expect(offset).toBeLessThanOrEqual(victimLast.get(partition)!);
  }
  expect(duplicates.length).toBe(window); // every uncommitted processed message comes again, once
  // The survivors started each taken-over partition exactly at the victim's last commit.
  for (const partition of victimPartitions) {
    const offsets = survivors.flatMap((member) => member.processed).filter((entry) => entry.startsWith(`${partition}:`)).map((entry) => Number(entry.split(':')[1]));
    expect(Math.min(...offsets)).toBe(committed.get(partition) ?? 0);
  }
  console.log(`crash: victim processed ${victim.processed.length}, uncommitted window ${window}, duplicates ${duplicates.length}, takeover after ${takeoverMs} ms`);
});
