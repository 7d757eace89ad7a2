// Proves the structured logs: a `spool serve --log-format json` child writes only JSON
// objects on stderr, one per line, each with level, time, pid and msg, and the events an
// operator needs carry their fields (topic create/delete with topic; a group member's
// join, rebalance and leave with group and member; a garbage connection closed with
// listener and remote; the open with recovery time) and never a message's contents. A
// client string holding control characters stays escaped in a JSON field. `--log-level
// warn` drops info lines. jsonLogger and streamLogger are checked in-process for fields
// and error stacks.

import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { jsonLogger } from '../../src/broker/json-logger.js';
import { streamLogger } from '../../src/broker/logger.js';
import { Client } from '../../src/client/index.js';
import { randomTopic, startBroker, waitFor } from '../helpers/broker.js';

type Line = Record<string, unknown>;

function parseLines(stderr: string): Line[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Line);
}

describe('--log-format json', () => {
  it('writes one JSON object per line carrying the fields of each event', async () => {
    const broker = await startBroker({ args: ['--log-format', 'json'] });
    const client = new Client({ brokers: [broker.address] });
    try {
      const topic = randomTopic();
      const secret = `SECRET-${Math.random().toString(36).slice(2)}`;
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
      const producer = client.producer({ lingerMs: 0 });
      await producer.send({ topic, messages: [{ key: `${secret}-key`, value: secret }] });
      await producer.close();
      const groupId = `g-${topic}`;
      const consumer = client.consumer({ groupId, sessionTimeoutMs: 10_000 });
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      for await (const _message of consumer) break;
      await consumer.close();
      await client.admin().deleteTopics({ topics: [topic] });
      // A connection sending garbage is closed and logged with its address.
      const socket = connect(broker.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write(Buffer.from([0, 0, 0, 12, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0xc1, 0xc1, 0xc1, 0xc1]));
      await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const find = (predicate: (line: Line) => boolean): Promise<Line> =>
        waitFor(() => parseLines(broker.stderr()).find(predicate)).then((line) => line!);

      expect(await find((l) => l['event'] === 'topic_created' && l['topic'] === topic)).toMatchObject({ level: 'info', partitions: 2 });
      const joined = await find((l) => l['event'] === 'member_joined' && l['group'] === groupId);
      expect(typeof joined['member']).toBe('string');
      expect(await find((l) => l['event'] === 'group_rebalance' && l['group'] === groupId)).toMatchObject({ kind: 'consumer' });
      expect(await find((l) => l['event'] === 'member_left' && l['group'] === groupId)).toMatchObject({ member: joined['member'] });
      expect(await find((l) => l['event'] === 'topic_deleted' && l['topic'] === topic)).toMatchObject({ level: 'info' });
      const garbage = await find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('garbage'));
      expect(garbage).toMatchObject({ level: 'warn', listener: 'native' });
      expect(garbage['remote']).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(await find((l) => typeof l['recoverySeconds'] === 'number')).toMatchObject({ level: 'info' });

      const lines = parseLines(broker.stderr());
      for (const line of lines) {
        expect(['debug', 'info', 'warn', 'error']).toContain(line['level']);
        expect(typeof line['msg']).toBe('string');
        expect(line['pid']).toBe(broker.child.pid);
        expect(new Date(line['time'] as string).toISOString()).toBe(line['time']);
      }
      expect(broker.stderr()).not.toContain(secret);
    } finally {
      await client.close();
      await broker.stop();
      broker.cleanup();
    }
  });

  it('--log-level warn leaves out info lines', async () => {
    const broker = await startBroker({ args: ['--log-level', 'warn'] });
    const client = new Client({ brokers: [broker.address] });
    try {
      await client.admin().createTopics({ topics: [{ topic: randomTopic(), numPartitions: 1 }] });
    } finally {
      await client.close();
      await broker.stop();
      broker.cleanup();
    }
    expect(broker.stderr()).not.toMatch(/ info /);
    expect(broker.stderr()).not.toContain('created topic');
  });
});

describe('the loggers', () => {
  const FORGED = 'g\n2026-01-01T00:00:00.000Z error forged\u001b[31m\u009b\u2028end';

  it('jsonLogger: fields are top-level keys, control characters stay escaped, errors carry their stack', () => {
    const lines: string[] = [];
    const logger = jsonLogger('debug', (line) => lines.push(line));
    logger.info(`joined ${FORGED}`, { group: FORGED, members: 3, absent: undefined });
    logger.debug?.('detail', { topic: 't' });
    logger.error('failed', new Error(`bad ${FORGED}`), { api: 'Produce', remote: '127.0.0.1:5' });
    const text = lines.join('');
    expect(text).not.toMatch(/[\u001b\u009b\u2028]/);
    const parsed = text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Line);
    expect(parsed).toHaveLength(3);
    expect(parsed[0]).toMatchObject({ level: 'info', group: 'g\\u000a2026-01-01T00:00:00.000Z error forged\\u001b[31m\\u009b\\u2028end', members: 3 });
    expect(parsed[0]).not.toHaveProperty('absent');
    expect(parsed[1]).toMatchObject({ level: 'debug', msg: 'detail', topic: 't' });
    expect(parsed[2]).toMatchObject({ level: 'error', api: 'Produce', remote: '127.0.0.1:5', error: { type: 'Error' } });
    expect((parsed[2]!['error'] as { stack: string }).stack).toContain('logs.test.ts');
  });

  it('jsonLogger and streamLogger drop lines below their level', () => {
    const json: string[] = [];
    const text: string[] = [];
    for (const logger of [jsonLogger('warn', (line) => json.push(line)), streamLogger((line) => text.push(line), 'warn')]) {
      logger.info('no');
      logger.debug?.('no');
      logger.warn('yes', { topic: 'a b' });
    }
    expect(json).toHaveLength(1);
    expect(text).toHaveLength(1);
    expect(text[0]).toMatch(/ warn yes topic="a b"\n$/);
  });
});
