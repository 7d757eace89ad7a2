// Proves the client says what happens to it (issue 10: a consumer was silent while the broker
// was down), against a real broker process and a silent TCP server: a `logger` (pino's
// interface) gets one line per event at its level and the Client emits `connect`,
// `disconnect`, `connect.error`, `request.timeout`, `group.join`, `group.rebalance`,
// `group.leave` and `group.crash`; without a logger nothing is logged; a logger missing a
// method is a TypeError.
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, type Logger } from '../../src/client/index.js';
import { randomTopic, startBroker, waitFor, type BrokerProcess } from '../helpers/broker.js';

interface Line {
  level: string;
  obj: unknown;
  msg: string | undefined;
}

function capture(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: unknown, msg?: string) => void lines.push({ level, obj, msg });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

const EVENTS = ['connect', 'disconnect', 'connect.error', 'request.timeout', 'group.join', 'group.rebalance', 'group.leave', 'group.crash'] as const;

function record(client: Client): Array<{ event: string; payload: Record<string, unknown> }> {
  const seen: Array<{ event: string; payload: Record<string, unknown> }> = [];
  for (const event of EVENTS) client.on(event, (payload: object) => seen.push({ event, payload: payload as Record<string, unknown> }));
  return seen;
}

let broker: BrokerProcess | undefined;
let server: Server | undefined;
afterEach(async () => {
  broker?.cleanup();
  broker = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('client events and logger', () => {
  it('connect, group join/rebalance/crash/leave, and the broker going away are events and log lines', async () => {
    broker = await startBroker({ args: ['--fsync', 'never'] });
    const { logger, lines } = capture();
    const client = new Client({ brokers: [broker.address], logger, connectTimeoutMs: 500, retry: { retries: 0 } });
    const seen = record(client);
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic }] });
    expect(seen[0]).toEqual({ event: 'connect', payload: { broker: broker.address } });
    expect(lines).toContainEqual({ level: 'info', obj: { event: 'connect', broker: broker.address }, msg: `connected to ${broker.address}` });

    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'poison' }] });
    const consumer = client.consumer({ groupId: `g-${topic}`, sessionTimeoutMs: 3000, maxWaitMs: 100, retry: { retries: 0 }, restartOnFailure: false });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await expect(consumer.run({ eachMessage: () => Promise.reject(new Error('bad message')) })).rejects.toThrow('bad message');
    const names = seen.map(({ event }) => event);
    expect(names).toEqual(expect.arrayContaining(['group.join', 'group.rebalance', 'group.crash', 'group.leave']));
    const rebalance = seen.find(({ event }) => event === 'group.rebalance')!.payload;
    expect(rebalance['assigned']).toEqual([{ topic, partition: 0 }]);
    const crash = seen.find(({ event }) => event === 'group.crash')!.payload;
    expect((crash['error'] as Error).message).toBe('bad message');
    expect(lines.find((line) => line.level === 'error')!.msg).toMatch(/consumer of group g-.* crashed: bad message/);
    expect(names.indexOf('group.crash')).toBeLessThan(names.indexOf('group.leave'));

    await broker.kill();
    await waitFor(() => seen.some(({ event, payload }) => event === 'disconnect' && payload['error'] instanceof Error));
    // The consumer's own connections closed by close() are debug lines, not warnings.
    expect(lines.filter((line) => line.level === 'debug').map((line) => line.msg)).toContain(`disconnected from ${broker.address}`);
    expect(lines.some((line) => line.level === 'warn' && /connection to .* lost/.test(line.msg ?? ''))).toBe(true);
    await expect(client.admin().listTopics()).rejects.toThrow();
    const failed = seen.find(({ event }) => event === 'connect.error');
    expect(failed?.payload['broker']).toBe(broker.address);
    expect(lines.some((line) => line.level === 'warn' && /cannot connect to/.test(line.msg ?? ''))).toBe(true);
    await client.close({ timeoutMs: 1000 });
  });

  it('a request without an answer is a request.timeout event', async () => {
    const sockets: Socket[] = [];
    server = createServer((socket) => void sockets.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const { logger, lines } = capture();
    const client = new Client({ brokers: [`127.0.0.1:${port}`], logger, connectTimeoutMs: 200, requestTimeoutMs: 200, retry: { retries: 0 } });
    const seen = record(client);
    await expect(client.admin().listTopics()).rejects.toThrow(/no response in 200 ms/);
    expect(seen.map(({ event }) => event)).toEqual(['request.timeout', 'connect.error']);
    expect(seen[0]!.payload).toMatchObject({ broker: `127.0.0.1:${port}`, timeoutMs: 200 });
    expect(lines.map((line) => line.level)).toEqual(['warn', 'warn']);
    await client.close();
    for (const socket of sockets) socket.destroy();
  });

  it('is silent without a logger, and a logger missing a method is a TypeError', () => {
    const client = new Client({ brokers: ['127.0.0.1:1'] });
    expect(() => client.notify('connect', { broker: 'x' })).not.toThrow();
    expect(() => new Client({ brokers: ['127.0.0.1:1'], logger: { info: () => undefined } as never })).toThrow(/logger must have .* missing: debug, warn, error/);
    void client.close();
  });
});
