// Proves the `spool` CLI works as a user drives it: the built binary (dist/cli/main.js) runs
// through bash pipes against a real broker process (port 0, temp dir): topic admin, seq |
// produce | consume | wc round trips with exact order (1 partition) and per-key order
// (3 partitions), json fields, key separator, headers, --offset, --from-time, --timeout-ms,
// `| head` closing the pipe, and one-line errors (unknown topic, unreachable broker, bad flag).

import { describe, expect, it } from 'vitest';
import { randomTopic } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { SPOOL, expectOk, sh, spool, unusedPort } from './run.js';

const { address } = useBroker();

function expectOneLineError(result: { code: number; stderr: string }, pattern: RegExp): void {
  expect(result.code).not.toBe(0);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^spool: /);
  expect(lines[0]).toMatch(pattern);
  expect(result.stderr).not.toMatch(/\n\s+at /);
}

interface JsonMessage {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

function parseJsonLines(stdout: string): JsonMessage[] {
  return stdout
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as JsonMessage);
}

describe('topic', () => {
  it('creates, lists, describes and deletes a topic', async () => {
    const topic = randomTopic('cli');
    const created = await spool(address(), `topic create ${topic} --partitions 3 --retention-ms 1h --segment-bytes 1MiB --config delete.retention.ms=1000`);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);

    const [listed, described, again] = await Promise.all([
      spool(address(), 'topic list'),
      spool(address(), `topic describe ${topic}`),
      spool(address(), `topic create ${topic}`),
    ]);
    expect(listed.code).toBe(0);
    expect(listed.stdout.split('\n')).toContain(topic);

    expect(described.code).toBe(0);
    expect(described.stdout).toContain(`topic: ${topic}`);
    expect(described.stdout).toContain('partitions: 3');
    expect(described.stdout).toMatch(/retention\.ms=3600000/);
    expect(described.stdout).toMatch(/segment\.bytes=1048576/);
    expect(described.stdout).toMatch(/delete\.retention\.ms=1000/);
    expect(described.stdout).toMatch(/PARTITION\s+START\s+END/);
    for (const partition of [0, 1, 2]) expect(described.stdout).toMatch(new RegExp(`^${partition}\\s+0\\s+0\\s`, 'm'));

    expectOneLineError(again, /TOPIC_ALREADY_EXISTS|already exists/);

    const deleted = await spool(address(), `topic delete ${topic}`);
    expect(deleted.code).toBe(0);
    const after = await spool(address(), 'topic list');
    expect(after.stdout.split('\n')).not.toContain(topic);
  });

  it('describe of an unknown topic is a one-line error', async () => {
    expectOneLineError(await spool(address(), `topic describe ${randomTopic('missing')}`), /UNKNOWN_TOPIC|unknown topic|does not exist/i);
  });
});

describe('produce | consume', () => {
  it('seq 1 20000 through a 1-partition topic comes back complete and in order', async () => {
    const topic = randomTopic('seq');
    expectOk(await spool(address(), `topic create ${topic} --partitions 1`));
    const produced = await sh(`seq 1 20000 | ${SPOOL} --broker ${address()} produce ${topic}`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(/produced 20000 messages/);
    expect(produced.stderr).toMatch(/partition 0: 20000 messages, offsets 0\.\.19999/);

    const [counted, consumed] = await Promise.all([
      sh(`${SPOOL} --broker ${address()} consume ${topic} --from-beginning --max-messages 20000 | wc -l`),
      spool(address(), `consume ${topic} --from-beginning --max-messages 20000`),
    ]);
    expect(counted.code, counted.stderr).toBe(0);
    expect(counted.stdout.trim()).toBe('20000');
    expect(consumed.code).toBe(0);
    const values = consumed.stdout.trimEnd().split('\n');
    expect(values).toHaveLength(20000);
    expect(values.every((value, index) => value === String(index + 1))).toBe(true);
  });

  it('a keyed 3-partition topic keeps per-key order; --key-separator splits key and value', async () => {
    const topic = randomTopic('keyed');
    expectOk(await spool(address(), `topic create ${topic} --partitions 3`));
    const produced = await sh(`seq 1 6000 | awk '{ print "k" ($1 % 7) ":" $1 }' | ${SPOOL} --broker ${address()} produce ${topic} --key-separator :`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(/produced 6000 messages/);

    const consumed = await spool(address(), `consume ${topic} --from-beginning --max-messages 6000 --format json`);
    expect(consumed.code, consumed.stderr).toBe(0);
    const messages = parseJsonLines(consumed.stdout);
    expect(messages).toHaveLength(6000);
    const lastValueByKey = new Map<string, number>();
    const partitionByKey = new Map<string, number>();
    const lastOffsetByPartition = new Map<number, number>();
    for (const message of messages) {
      const key = message.key!;
      const value = Number(message.value);
      expect(key).toBe(`k${value % 7}`);
      expect(value).toBeGreaterThan(lastValueByKey.get(key) ?? 0);
      lastValueByKey.set(key, value);
      expect(partitionByKey.get(key) ?? message.partition).toBe(message.partition);
      partitionByKey.set(key, message.partition);
      expect(message.offset).toBeGreaterThan(lastOffsetByPartition.get(message.partition) ?? -1);
      lastOffsetByPartition.set(message.partition, message.offset);
    }
    expect(lastValueByKey.size).toBe(7);
    expect(new Set(partitionByKey.values()).size).toBeGreaterThan(1);
  });

  it('--format json carries topic, partition, offset, timestamp, key, value and --header headers', async () => {
    const topic = randomTopic('json');
    expectOk(await spool(address(), `topic create ${topic}`));
    const before = Date.now();
    const produced = await spool(address(), `produce ${topic} --key order-7 --header source=cli --header v=1=2`, { stdin: 'hello\n\nworld\n' });
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(/produced 3 messages/);
    const consumed = await spool(address(), `consume ${topic} --from-beginning --max-messages 3 --format json`);
    expect(consumed.code, consumed.stderr).toBe(0);
    const messages = parseJsonLines(consumed.stdout);
    expect(messages.map((m) => m.value)).toEqual(['hello', '', 'world']);
    expect(messages.map((m) => m.offset)).toEqual([0, 1, 2]);
    for (const message of messages) {
      expect(message.topic).toBe(topic);
      expect(message.partition).toBe(0);
      expect(message.key).toBe('order-7');
      expect(message.headers).toEqual({ source: 'cli', v: '1=2' });
      expect(typeof message.timestamp).toBe('number');
      expect(message.timestamp).toBeGreaterThanOrEqual(before - 1000);
      expect(message.timestamp).toBeLessThanOrEqual(Date.now());
    }
  });

  it('--offset with --partition starts there; --from-time starts at the first later message; --timeout-ms exits when idle', async () => {
    const topic = randomTopic('seek');
    expectOk(await spool(address(), `topic create ${topic} --partitions 2`));
    expectOk(await sh(`seq 1 100 | ${SPOOL} --broker ${address()} produce ${topic} --partition 1`));

    const fromOffset = await spool(address(), `consume ${topic} --partition 1 --offset 90 --max-messages 10`);
    expect(fromOffset.code, fromOffset.stderr).toBe(0);
    expect(fromOffset.stdout).toBe(Array.from({ length: 10 }, (_, i) => `${91 + i}\n`).join(''));

    // Every message of the second produce gets a timestamp after `cut`.
    const cut = Date.now();
    while (Date.now() <= cut + 1) await new Promise((r) => setTimeout(r, 2));
    expectOk(await sh(`seq 101 150 | ${SPOOL} --broker ${address()} produce ${topic} --partition 1`));
    const fromTime = await spool(address(), `consume ${topic} --from-time ${new Date(cut + 1).toISOString()} --timeout-ms 1500`);
    expect(fromTime.code, fromTime.stderr).toBe(0);
    expect(fromTime.stdout).toBe(Array.from({ length: 50 }, (_, i) => `${101 + i}\n`).join(''));
  });

  it('--acks 0 and --compression gzip still deliver every line', async () => {
    const topic = randomTopic('acks0');
    expectOk(await spool(address(), `topic create ${topic}`));
    const produced = await sh(`seq 1 500 | ${SPOOL} --broker ${address()} produce ${topic} --acks 0 --compression gzip --linger-ms 20`);
    expect(produced.code, produced.stderr).toBe(0);
    expect(produced.stderr).toMatch(/produced 500 messages .*acks=0/);
    const consumed = await sh(`${SPOOL} --broker ${address()} consume ${topic} --from-beginning --max-messages 500 --timeout-ms 10000 | tail -n 1`);
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(consumed.stdout).toBe('500\n');
  });

  it('`| head` closes the pipe early: quiet, exit 0', async () => {
    const topic = randomTopic('head');
    expectOk(await spool(address(), `topic create ${topic}`));
    expectOk(await sh(`seq 1 20000 | ${SPOOL} --broker ${address()} produce ${topic}`));
    const result = await sh(`${SPOOL} --broker ${address()} consume ${topic} --from-beginning | head -n 3`, { timeoutMs: 15_000 });
    expect(result.stdout).toBe('1\n2\n3\n');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('errors', () => {
  it('produce and consume on an unknown topic: one line, exit non-zero', async () => {
    const topic = randomTopic('missing');
    const [produced, consumed] = await Promise.all([
      spool(address(), `produce ${topic}`, { stdin: 'x\n' }),
      spool(address(), `consume ${topic} --timeout-ms 500`),
    ]);
    expectOneLineError(produced, /UNKNOWN_TOPIC|unknown topic/i);
    expectOneLineError(consumed, /UNKNOWN_TOPIC|unknown topic/i);
  });

  it('an unreachable broker fails within a few seconds with one line', async () => {
    const port = await unusedPort();
    const result = await spool(`127.0.0.1:${port}`, 'topic list', { timeoutMs: 20_000 });
    expectOneLineError(result, new RegExp(`127\\.0\\.0\\.1:${port}`));
    expect(result.elapsedMs).toBeLessThan(8000);
    // The env variable is the default address.
    const viaEnv = await sh(`${SPOOL} topic list`, { env: { SPOOL_BROKER: `127.0.0.1:${port}` } });
    expectOneLineError(viaEnv, new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('bad flags and values: one line, exit 1', async () => {
    const cases: Array<[string, string, RegExp]> = [
      [address(), 'topic create x --partitions abc', /--partitions/],
      [address(), 'consume x --no-such-flag', /unknown option/],
      [address(), 'consume x --format xml', /--format/],
      [address(), 'produce x --acks 2', /acks/],
      [address(), 'consume x --from-beginning --offset 3', /only one of/],
      [address(), 'consume x --from-time yesterday', /invalid time/],
      ['nonsense:port', 'topic list', /broker address/],
    ];
    const results = await Promise.all(cases.map(([broker, args]) => spool(broker, args)));
    results.forEach((result, index) => {
      expectOneLineError(result, cases[index]![2]);
      expect(result.code).toBe(1);
    });
  });
});
