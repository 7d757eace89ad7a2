// Proves the rpk-style admin verbs of the built `spool` binary against a real broker
// process (port 0, temp dir), run through bash: topic alter (--config, --partitions),
// topic delete-records (--before-offset, --before-time, -p), cluster describe, --format
// json on topic / group / cluster commands (parsed with JSON.parse), group reset with
// --dry-run (nothing changes), --shift-by (clamped), --partition and --all-topics, and
// group describe showing each member's client id and host.

import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SPOOL_MAIN, randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { expectOk, spool } from './run.js';

const shared = useBroker();
const address = (): string => shared.address();

async function produceTo(topic: string, partition: number, count: number): Promise<void> {
  const producer = shared.client().producer({ lingerMs: 0 });
  await producer.send({ topic, messages: Array.from({ length: count }, (_, index) => ({ value: `m${index}`, partition })) });
  await producer.close();
}

function json<T>(stdout: string): T {
  expect(stdout.trim().split('\n'), 'one JSON document').toHaveLength(1);
  return JSON.parse(stdout) as T;
}

describe('topic alter, delete-records, cluster describe', () => {
  it('alter sets configs and grows partitions; errors are one line', async () => {
    const topic = randomTopic('alter');
    expectOk(await spool(address(), `topic create ${topic} --partitions 2 --retention-ms 1h`));
    const altered = expectOk(await spool(address(), `topic alter ${topic} --config retention.ms=1000 --config segment.bytes=1048576 --partitions 4`));
    expect(altered.stdout).toContain('set retention.ms=1000');
    expect(altered.stdout).toContain(`topic ${topic} now has 4 partitions`);
    const described = json<{ name: string; config: Record<string, string | number>; partitions: unknown[] }>(
      expectOk(await spool(address(), `topic describe ${topic} --format json`)).stdout,
    );
    expect(described.name).toBe(topic);
    expect(Number(described.config['retention.ms'])).toBe(1000);
    expect(Number(described.config['segment.bytes'])).toBe(1048576);
    expect(described.partitions).toHaveLength(4);
    const [shrink, badKey, nothing] = await Promise.all([
      spool(address(), `topic alter ${topic} --partitions 3`),
      spool(address(), `topic alter ${topic} --config no.such=1`),
      spool(address(), `topic alter ${topic}`),
    ]);
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/^spool: .*has 4 partitions.*INVALID_PARTITIONS/);
    expect(badKey.stderr).toMatch(/^spool: .*no\.such.*INVALID_CONFIG/);
    expect(nothing.stderr).toMatch(/needs --config key=value and\/or --partitions N/);
  });

  it('delete-records --before-offset / --before-time moves the log start; consume from the beginning starts there', async () => {
    const topic = randomTopic('trim');
    expectOk(await spool(address(), `topic create ${topic} --partitions 2`));
    await produceTo(topic, 0, 30);
    await produceTo(topic, 1, 5);
    const trimmed = json<{ topic: string; partitions: Array<{ partition: number; lowWatermark: number }> }>(
      expectOk(await spool(address(), `topic delete-records ${topic} --before-offset 20 --format json`)).stdout,
    );
    // An offset past a partition's end means "all of it" there.
    expect(trimmed.partitions).toEqual([
      { partition: 0, lowWatermark: 20 },
      { partition: 1, lowWatermark: 5 },
    ]);
    const consumed = expectOk(await spool(address(), `consume ${topic} -o beginning -e -f '%p:%o'`));
    expect(consumed.stdout.trimEnd().split('\n')).toEqual(Array.from({ length: 10 }, (_, index) => `0:${20 + index}`));
    // Every record is older than a time in the future: -p 0 trims that partition to its end.
    const byTime = expectOk(await spool(address(), `topic delete-records ${topic} --before-time 2100-01-01T00:00:00Z -p 0`));
    expect(byTime.stdout).toMatch(/^0\s+30$/m);
    const both = await spool(address(), `topic delete-records ${topic} --before-offset 1 --before-time 2100-01-01`);
    expect(both.stderr).toMatch(/exactly one of --before-offset, --before-time/);
  });

  it('cluster describe, and --format json on list commands', async () => {
    const topic = randomTopic('fmt');
    expectOk(await spool(address(), `topic create ${topic} --partitions 3 --format json`));
    const [cluster, clusterText, topics, groups] = await Promise.all([
      spool(address(), 'cluster describe --format json'),
      spool(address(), 'cluster describe'),
      spool(address(), 'topic list --format json'),
      spool(address(), 'group list --format json'),
    ]);
    const description = json<{ brokers: Array<{ port: number }>; brokerVersion: string; topics: number; partitions: number }>(expectOk(cluster).stdout);
    expect(description.brokers[0]!.port).toBe(shared.broker().port);
    expect(description.topics).toBeGreaterThanOrEqual(1);
    expect(description.partitions).toBeGreaterThanOrEqual(3);
    expect(expectOk(clusterText).stdout).toMatch(/^broker 0: 127\.0\.0\.1:\d+ \(controller\)$/m);
    expect(json<string[]>(expectOk(topics).stdout)).toContain(topic);
    expect(Array.isArray(json<unknown[]>(expectOk(groups).stdout))).toBe(true);
  });
});

describe('group reset and describe', () => {
  const children: Array<() => void> = [];
  afterAll(() => {
    for (const stop of children) stop();
  });

  it('--dry-run changes nothing; --shift-by clamps; --partition and --all-topics choose what moves', async () => {
    const [topicA, topicB] = [randomTopic('ra'), randomTopic('rb')];
    const group = randomTopic('g');
    expectOk(await spool(address(), `topic create ${topicA} --partitions 2`));
    expectOk(await spool(address(), `topic create ${topicB}`));
    await Promise.all([produceTo(topicA, 0, 40), produceTo(topicA, 1, 10), produceTo(topicB, 0, 5)]);
    expectOk(await spool(address(), `group reset ${group} --topic ${topicA} --to 30`));
    expectOk(await spool(address(), `group reset ${group} --topic ${topicB} --to latest`));

    type Reset = { dryRun: boolean; partitions: Array<{ topic: string; partition: number; previous: number; offset: number }> };
    const committed = async (): Promise<string> => expectOk(await spool(address(), `group describe ${group} --format json`)).stdout;
    const before = await committed();
    const dry = json<Reset>(expectOk(await spool(address(), `group reset ${group} --all-topics --shift-by -25 --dry-run --format json`)).stdout);
    expect(dry.dryRun).toBe(true);
    expect(dry.partitions).toEqual([
      { topic: topicA, partition: 0, previous: 30, offset: 5 },
      { topic: topicA, partition: 1, previous: 10, offset: 0 },
      { topic: topicB, partition: 0, previous: 5, offset: 0 },
    ]);
    expect(await committed()).toBe(before);

    const shifted = json<Reset>(expectOk(await spool(address(), `group reset ${group} --topic ${topicA} -p 0 --shift-by 100 --format json`)).stdout);
    expect(shifted.partitions).toEqual([{ topic: topicA, partition: 0, previous: 30, offset: 40 }]);
    const text = expectOk(await spool(address(), `group reset ${group} --all-topics --to earliest`));
    expect(text.stdout).toMatch(/PREVIOUS\s+NEW OFFSET/);
    const after = json<{ offsets: Array<{ topic: string; partition: number; committed: number }> }>(await committed());
    expect(after.offsets.map((entry) => entry.committed)).toEqual([0, 0, 0]);

    const [neither, both] = await Promise.all([
      spool(address(), `group reset ${group} --to earliest`),
      spool(address(), `group reset ${group} --topic ${topicA} --to earliest --shift-by 1`),
    ]);
    expect(neither.stderr).toMatch(/exactly one of --topic, --all-topics/);
    expect(both.stderr).toMatch(/exactly one of --to, --shift-by/);
  });

  it('group describe shows each member with its client id and host', async () => {
    const topic = randomTopic('who');
    const group = randomTopic('g');
    expectOk(await spool(address(), `topic create ${topic}`));
    const child = spawn(process.execPath, [SPOOL_MAIN, '-b', address(), 'consume', topic, '-G', group], { stdio: 'ignore' });
    children.push(() => child.kill('SIGKILL'));
    const described = await waitFor(async () => {
      const result = await spool(address(), `group describe ${group} --format json`);
      const parsed = result.code === 0 ? (JSON.parse(result.stdout) as { members: Array<{ clientId: string; clientHost: string }> }) : null;
      return parsed !== null && parsed.members.length === 1 ? parsed : null;
    });
    expect(described!.members[0]).toMatchObject({ clientId: 'spool-consume', clientHost: '127.0.0.1' });
    const text = expectOk(await spool(address(), `group describe ${group}`));
    expect(text.stdout).toMatch(/MEMBER\s+CLIENT-ID\s+HOST/);
    expect(text.stdout).toMatch(/\s+spool-consume\s+127\.0\.0\.1$/m);
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  });
});
