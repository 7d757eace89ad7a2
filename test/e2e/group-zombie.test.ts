// Proves that a zombie member cannot move the group backwards: of two member processes on
// a 4-partition topic, one is frozen with SIGSTOP mid-stream (holding processed but
// uncommitted messages and an auto-commit timer that is overdue). After its session
// timeout the other member takes its partitions and commits past it. Then the zombie is
// woken with SIGCONT. What must survive: the group's committed offsets never go
// backwards (whichever of its overdue timers fires first: a late auto-commit carries the
// id of a member the coordinator removed and is refused; a heartbeat learns of the fence
// and drops the partitions uncommitted), the zombie learns it was fenced ("lost"),
// rejoins, and the group covers every message.
import { afterAll, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { spawnMember, type ChildMember } from './helpers.js';

const { address, client } = useBroker(['--fsync', 'never']);
const members: ChildMember[] = [];

// Registered after useBroker, so it runs first: the members go before the broker does.
afterAll(async () => {
  for (const member of members) member.child.kill('SIGCONT');
  await Promise.allSettled(members.map((member) => member.kill()));
});

it('a member frozen past its session cannot commit when it wakes; the committed offsets never go back', async () => {
  const topic = randomTopic('zombie');
  const group = randomTopic('grp');
  await client().admin().createTopics({ topics: [{ topic, numPartitions: 4 }] });
  const zombie = spawnMember({ broker: address(), group, topic, sessionMs: 1000, commitIntervalMs: 300, fromBeginning: true });
  const other = spawnMember({ broker: address(), group, topic, sessionMs: 1000, commitIntervalMs: 100, fromBeginning: true });
  members.push(zombie, other);
  await waitFor(() => zombie.owned.size === 2 && other.owned.size === 2, 30_000);
  const zombiePartitions = [...zombie.owned];

  const producer = client().producer({ lingerMs: 1 });
  let produced = 0;
  let producing = true;
  const feeding = (async () => {
    while (producing) {
      await producer.send({ topic, messages: Array.from({ length: 40 }, (_, index) => ({ value: `v${produced + index}`, partition: index % 4 })) });
      produced += 40;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const committed = async (): Promise<Map<number, number>> =>
    new Map((await client().admin().fetchOffsets({ groupId: group })).map((entry) => [entry.partition, entry.offset]));
  await waitFor(async () => {
    const offsets = await committed();
    return zombie.processed.length > 50 && zombiePartitions.every((partition) => (offsets.get(partition) ?? 0) > 0);
  }, 10_000);
  zombie.child.kill('SIGSTOP');
  await waitFor(() => zombiePartitions.every((partition) => other.owned.has(partition)), 10_000);
  // The other member commits past what the zombie had processed.
  const zombieLast = new Map<number, number>();
  for (const entry of zombie.processed) {
    const [partition, offset] = entry.split(':').map(Number) as [number, number];
    zombieLast.set(partition, Math.max(zombieLast.get(partition) ?? -1, offset));
  }
  await waitFor(async () => {
    const offsets = await committed();
    return zombiePartitions.every((partition) => (offsets.get(partition) ?? 0) > (zombieLast.get(partition) ?? 0) + 20);
  }, 10_000);

  let floor = await committed();
  zombie.child.kill('SIGCONT');
  const until = Date.now() + 1500;
  while (Date.now() < until) {
    const offsets = await committed();
    for (const [partition, offset] of floor) expect(offsets.get(partition), `partition ${partition} went back`).toBeGreaterThanOrEqual(offset);
    floor = offsets;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
  await waitFor(() => zombie.events.some((event) => event.startsWith('lost ')), 10_000);

  producing = false;
  await feeding;
  await producer.close();
  // Rejoined and balanced again; together they cover every message.
  await waitFor(() => zombie.owned.size === 2 && other.owned.size === 2, 15_000);
  const ends = new Map((await client().admin().listOffsets({ topic })).map((entry) => [entry.partition, entry.offset]));
  await waitFor(() => {
    const seen = new Set([...zombie.processed, ...other.processed]);
    return [...ends].every(([partition, end]) => {
      for (let offset = 0; offset < end; offset++) if (!seen.has(`${partition}:${offset}`)) return false;
      return true;
    });
  }, 15_000, 100);
});
