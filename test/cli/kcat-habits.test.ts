// Proves the kcat/rpk habits of `spool consume` and `spool produce` (issue 10, CLI section):
// the built binary runs through bash against a real broker process (port 0, temp dir).
// -e stops exactly at the end of every partition (as of the start) and exits 0; --offset -N
// counts back from the end (never before the log start) and `end` prints nothing with -e;
// a %-template, --encoding hex/base64 (json stays lossless for non-UTF-8 bytes), -D on
// both sides carries values with newlines; short flags (-b -t -p -o -e -k -G -c), --version;
// an HTTP port and an unknown topic are one plain line; a consumer warns on stderr when the
// broker goes away and when it is back.

import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { SPOOL_MAIN, randomTopic, startBroker, tempDir, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { SPOOL, expectOk, sh, spool } from './run.js';

const shared = useBroker();
const address = (): string => shared.address();

async function createWith(topic: string, partitions: number, messages: Array<{ key?: Buffer | string; value: Buffer | string; partition?: number; headers?: Record<string, string> }>): Promise<void> {
  await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  const producer = shared.client().producer();
  if (messages.length > 0) await producer.send({ topic, messages });
  await producer.close();
}

describe('consume -e and --offset', () => {
  it('-e stops at an end of every partition while a producer keeps writing: each partition a gap-free prefix, exit 0', async () => {
    const topic = randomTopic('e');
    await createWith(topic, 3, Array.from({ length: 90 }, (_, index) => ({ key: `k${index % 7}`, value: String(index) })));
    // A producer keeps writing while -e runs: -e must still stop (at the ends it saw at its start).
    const producer = shared.client().producer({ lingerMs: 0 });
    let writing = true;
    const background = (async () => {
      for (let index = 0; writing; index++) await producer.send({ topic, messages: [{ key: `k${index % 7}`, value: `late-${index}` }] });
    })();
    const result = await spool(address(), `consume -t ${topic} -e -o beginning -f '%p %o %v'`);
    writing = false;
    await background;
    await producer.close();
    expectOk(result);
    const rows = result.stdout.trimEnd().split('\n').map((line) => line.split(' '));
    for (const partition of ['0', '1', '2']) {
      const offsets = rows.filter((row) => row[0] === partition).map((row) => Number(row[1]));
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, index) => index));
    }
    const original = rows.map((row) => row[2]!).filter((value) => !value.startsWith('late'));
    expect(original.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, index) => index));
  });

  it('-e on an empty topic and with --offset end exits at once with no output', async () => {
    const topic = randomTopic('empty');
    await createWith(topic, 2, []);
    const [empty, atEnd] = await Promise.all([spool(address(), `consume ${topic} -e`), spool(address(), `consume ${topic} --offset end -e --from-beginning`)]);
    expectOk(empty);
    expect(empty.stdout).toBe('');
    expect(atEnd.code).not.toBe(0); // --offset and --from-beginning together are refused
    const topic2 = randomTopic('end');
    await createWith(topic2, 1, [{ value: 'a' }, { value: 'b' }]);
    const end = expectOk(await spool(address(), `consume ${topic2} -o end -e`));
    expect(end.stdout).toBe('');
  });

  it('--offset -N starts N before the end of each partition, never before the log start', async () => {
    const topic = randomTopic('rel');
    await createWith(topic, 2, [
      ...Array.from({ length: 25 }, (_, index) => ({ value: `a${index}`, partition: 0 })),
      ...Array.from({ length: 4 }, (_, index) => ({ value: `b${index}`, partition: 1 })),
    ]);
    const [last10, onlyOne] = await Promise.all([
      spool(address(), `consume ${topic} --offset -10 -e -f '%p:%o:%v'`),
      spool(address(), `consume ${topic} -p 0 -o -1 -e`),
    ]);
    const lines = expectOk(last10).stdout.trimEnd().split('\n').sort();
    const expected = [
      ...Array.from({ length: 10 }, (_, index) => `0:${15 + index}:a${15 + index}`),
      ...Array.from({ length: 4 }, (_, index) => `1:${index}:b${index}`),
    ].sort();
    expect(lines).toEqual(expected);
    expect(expectOk(onlyOne).stdout).toBe('a24\n');
  });

  it('a bad --offset is a one-line usage error', async () => {
    const result = await spool(address(), `consume ${randomTopic()} --offset soon`);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^spool: .*--offset must be an offset, -N/);
  });
});

describe('formats, encodings and delimiters', () => {
  it("a kcat template '%k %v %p %o %T %h' prints each field; %K %S lengths; a template ending in \\n gets no second newline", async () => {
    const topic = randomTopic('tpl');
    await createWith(topic, 1, [
      { key: 'k1', value: 'v1', headers: { a: '1', b: '2' } },
      { value: 'v2' },
    ]);
    const [plain, newline] = await Promise.all([
      spool(address(), `consume ${topic} -e -o beginning -f '%k %v %p %o %T %h|%K|%S|%t|100%%'`),
      spool(address(), `consume ${topic} -e -o beginning -f 'Key: %k\\nValue: %v\\n'`),
    ]);
    const lines = expectOk(plain).stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^k1 v1 0 0 \\d{13} a=1,b=2\\|2\\|2\\|${topic}\\|100%$`));
    expect(lines[1]).toMatch(new RegExp(`^ v2 0 1 \\d{13} \\|-1\\|2\\|${topic}\\|100%$`));
    expect(expectOk(newline).stdout).toBe('Key: k1\nValue: v1\nKey: \nValue: v2\n');
    const bad = await spool(address(), `consume ${topic} -f '%q'`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown token %q/);
  });

  it('--encoding hex|base64 in every format; json with utf8 falls back to base64 for non-UTF-8 bytes (lossless)', async () => {
    const topic = randomTopic('bin');
    const binary = Buffer.from([0xff, 0x00, 0x0a, 0xc3]);
    await createWith(topic, 1, [{ key: Buffer.from([0x01, 0x02]), value: binary }, { key: 'ok', value: 'plain' }]);
    const [json, hex, base64Text] = await Promise.all([
      spool(address(), `consume ${topic} -e -o beginning -f json`),
      spool(address(), `consume ${topic} -e -o beginning -f '%k=%v' --encoding hex`),
      spool(address(), `consume ${topic} -e -o beginning --encoding base64`),
    ]);
    const objects = expectOk(json).stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(objects[0]).toMatchObject({ key: 'AQI=', value: binary.toString('base64'), encoding: 'base64' });
    expect(Buffer.from(objects[0]!['value'] as string, 'base64').equals(binary)).toBe(true);
    expect(objects[1]).toMatchObject({ key: 'ok', value: 'plain' });
    expect(objects[1]).not.toHaveProperty('encoding');
    expect(expectOk(hex).stdout).toBe(`0102=ff000ac3\n${Buffer.from('ok').toString('hex')}=${Buffer.from('plain').toString('hex')}\n`);
    expect(expectOk(base64Text).stdout).toBe(`${binary.toString('base64')}\n${Buffer.from('plain').toString('base64')}\n`);
  });

  it('-D on produce and consume carries values that contain newlines; produce --encoding hex decodes', async () => {
    const topic = randomTopic('delim');
    expectOk(await spool(address(), `topic create ${topic}`));
    expectOk(await sh(`printf 'line 1\\nline 2\\0second\\0' | ${SPOOL} -b ${address()} produce -t ${topic} -D '\\0' -k K`));
    expectOk(await sh(`printf 'ff00\\n' | ${SPOOL} -b ${address()} produce ${topic} --encoding hex -p 0`));
    const consumed = expectOk(await spool(address(), `consume ${topic} -e -o beginning -c 2 -D '\\0' -f json`));
    const records = consumed.stdout.split('\0').filter((part) => part !== '').map((part) => JSON.parse(part) as { key: string; value: string });
    expect(records.map((record) => [record.key, record.value])).toEqual([['K', 'line 1\nline 2'], ['K', 'second']]);
    const hex = expectOk(await spool(address(), `consume ${topic} -o -1 -e --encoding hex`));
    expect(hex.stdout).toBe('ff00\n');
    const badHex = await sh(`printf 'zz\\n' | ${SPOOL} -b ${address()} produce ${topic} --encoding hex`);
    expect(badHex.code).toBe(1);
    expect(badHex.stderr).toMatch(/not valid hex/);
  });
});

describe('flags, version and plain errors', () => {
  it('spool --version prints the package version', async () => {
    const result = expectOk(await sh(`${SPOOL} --version`));
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('-G joins a group with short flags and -e stops once the assigned partitions are read', async () => {
    const topic = randomTopic('g');
    await createWith(topic, 2, Array.from({ length: 20 }, (_, index) => ({ value: String(index), partition: index % 2 })));
    const group = randomTopic('grp');
    const first = expectOk(await sh(`${SPOOL} -b ${address()} consume -t ${topic} -G ${group} --from-beginning -e`));
    expect(first.stdout.trimEnd().split('\n').map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    // Everything was committed: a second run of the group has nothing left and still exits.
    const second = expectOk(await sh(`${SPOOL} -b ${address()} consume -t ${topic} -G ${group} -e`));
    expect(second.stdout).toBe('');
  });

  it('the HTTP port and an unknown topic are one plain line each', async () => {
    const httpAddress = shared.broker().httpAddress!;
    const [http, unknown] = await Promise.all([
      sh(`${SPOOL} -b ${httpAddress} topic list`),
      spool(address(), `produce ${randomTopic('nope')}`, { stdin: 'x\n' }),
    ]);
    expect(http.code).toBe(1);
    expect(http.stderr).toMatch(/^spool: .*not a spool broker.*did you mean the HTTP port\?/);
    expect(http.stderr).not.toMatch(/frame of/);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^spool: topic 'nope-[^']+' does not exist/);
    expect(unknown.stderr).not.toMatch(/describe topic/);
  });
});

describe('consumer and a broker that goes away', () => {
  const dataDir = tempDir();
  const children: Array<() => void> = [];
  afterAll(() => {
    for (const stop of children) stop();
  });

  it('prints one warning line when the broker goes away and one when it is back', async () => {
    let broker = await startBroker({ dataDir });
    const topic = randomTopic('outage');
    expectOk(await spool(broker.address, `topic create ${topic}`));
    const child = spawn(process.execPath, [SPOOL_MAIN, '-b', broker.address, 'consume', topic, '-o', 'beginning'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(() => child.kill('SIGKILL'));
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    expectOk(await spool(broker.address, `produce ${topic}`, { stdin: 'before\n' }));
    await waitFor(() => stdout.includes('before'));
    const port = broker.port;
    await broker.stop();
    await waitFor(() => /warning: lost the broker/.test(stderr));
    broker = await startBroker({ dataDir, port });
    await waitFor(() => /is back/.test(stderr), 20_000);
    expectOk(await spool(broker.address, `produce ${topic}`, { stdin: 'after\n' }));
    await waitFor(() => stdout.includes('after'), 20_000);
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
    const lines = stderr.trimEnd().split('\n');
    expect(lines.filter((line) => /lost the broker/.test(line))).toHaveLength(1);
    expect(lines.filter((line) => /is back/.test(line))).toHaveLength(1);
    await broker.stop();
    broker.cleanup();
  }, 40_000);
});
