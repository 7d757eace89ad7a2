// Proves the connection-level limits against a real broker process, reading its RSS from
// /proc/<pid>/status while abusive clients run:
// - ten connections that announce 100 MiB frames and send 30 MiB of each at once make the
//   broker hold no more than the queued-request pool (plus one frame it lets finish), a
//   well-behaved client is still served meanwhile, and the read timeout closes them;
// - ten connections that announce 100 MiB frames and trickle bytes cost almost nothing,
//   do not slow anyone down, and are closed by the read timeout;
// - frames larger than the whole pool still complete, several at once (no deadlock);
// - the idle timeout closes a connection with nothing in flight but not one whose fetch
//   is parked (until that fetch is answered);
// - a client that pipelines many large fetches and never reads keeps the broker within
//   the 64 MiB per-connection response budget, and the idle timeout then closes it.

import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import { startBroker, randomTopic, waitFor, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { peakRssDuring, rssBytes, tcpEstablished } from '../helpers/rss.js';
import { batchOf, recordsOf } from './records.js';

const MiB = 1024 * 1024;

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function broker(args: string[]): Promise<BrokerProcess> {
  const started = await startBroker({ args: ['--fsync', 'never', ...args] });
  cleanups.push(() => started.cleanup());
  cleanups.push(() => started.stop());
  return started;
}

async function client(port: number): Promise<RawClient> {
  const raw = await RawClient.connect(port);
  cleanups.push(() => raw.destroy());
  return raw;
}

/** A socket that sends the first bytes of a Produce frame announcing `frameBytes`. */
async function announcer(port: number, frameBytes: number): Promise<{ socket: Socket; closed: Promise<void>; isClosed: () => boolean }> {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => {});
  let closedFlag = false;
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closedFlag = true;
      resolve();
    }),
  );
  cleanups.push(() => void socket.destroy());
  const header = Buffer.alloc(12);
  header.writeUInt32BE(frameBytes, 0);
  header.writeUInt32BE(1, 4);
  header.writeUInt16BE(ApiKey.Produce, 8);
  socket.write(header);
  return { socket, closed, isClosed: () => closedFlag };
}

/** A produce and a fetch by a well-behaved client; resolves with how long they took. */
async function servedWithin(healthy: RawClient, topic: string, value: string): Promise<number> {
  const started = Date.now();
  const { baseOffset } = await healthy.produce(topic, 0, batchOf([value]));
  const { parts } = await healthy.fetch([{ topic, partition: 0, offset: baseOffset }]);
  expect(recordsOf(parts[0]!)[0]).toEqual({ offset: baseOffset, value });
  return Date.now() - started;
}

describe('request bytes held for incomplete frames', () => {
  it('bounds the memory of connections that send most of a 100 MiB frame and stall, and closes them after the read timeout', async () => {
    const b = await broker(['--queued-max-request-bytes', String(32 * MiB), '--request-read-timeout-ms', '4000']);
    const healthy = await client(b.port);
    const topic = randomTopic();
    await healthy.createTopic(topic, 1);
    await servedWithin(healthy, topic, 'warm-up');
    const baseline = rssBytes(b.child.pid!);
    const body = Buffer.alloc(30 * MiB, 7);
    let stalled: Array<Awaited<ReturnType<typeof announcer>>> = [];
    let servedMs = 0;
    const peak = await peakRssDuring(b.child.pid!, async () => {
      stalled = await Promise.all(Array.from({ length: 10 }, () => announcer(b.port, 100 * MiB)));
      for (const { socket } of stalled) socket.write(body);
      // The pool fills up (the broker holds what it let in), then the healthy client asks.
      await waitFor(() => rssBytes(b.child.pid!) - baseline > 32 * MiB, 5_000);
      servedMs = await servedWithin(healthy, topic, 'while-abused');
      // Served while the stalled connections were still open (not yet timed out).
      expect(stalled.filter((s) => s.isClosed()).length).toBe(0);
      await waitFor(() => stalled.every((s) => s.isClosed()), 10_000);
    });
    expect(servedMs).toBeLessThan(2000);
    // Pool (32 MiB) + the one frame let through past it (<= 30 MiB here) + read chunks and slack;
    // without the pool this is 300 MB.
    expect(peak - baseline).toBeLessThan(150 * MiB);
    expect(b.stderr()).toMatch(/not completed within 4000 ms/);
    await servedWithin(healthy, topic, 'after');
    expect(b.child.exitCode).toBeNull();
  });

  it('closes connections that trickle a 100 MiB frame after the read timeout; they cost little and slow no one', async () => {
    const b = await broker(['--request-read-timeout-ms', '3000']);
    const healthy = await client(b.port);
    const topic = randomTopic();
    await healthy.createTopic(topic, 1);
    await servedWithin(healthy, topic, 'warm-up');
    const baseline = rssBytes(b.child.pid!);
    const started = Date.now();
    const tricklers = await Promise.all(Array.from({ length: 10 }, () => announcer(b.port, 100 * MiB)));
    const timer = setInterval(() => {
      for (const t of tricklers) if (!t.isClosed()) t.socket.write(Buffer.alloc(1024, 1));
    }, 50);
    cleanups.push(() => clearInterval(timer));
    const peak = await peakRssDuring(b.child.pid!, async () => {
      for (let i = 0; i < 3; i++) expect(await servedWithin(healthy, topic, `while-trickled-${i}`)).toBeLessThan(1500);
      expect(tricklers.filter((t) => t.isClosed()).length).toBe(0);
      await waitFor(() => tricklers.every((t) => t.isClosed()), 5_000);
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(peak - baseline).toBeLessThan(40 * MiB);
    expect(b.stderr()).toMatch(/not completed within 3000 ms/);
  });
});

describe('request memory pool smaller than the frames', () => {
  it('still completes concurrent frames larger than the whole pool (one at a time past it, no deadlock)', async () => {
    const b = await broker(['--queued-max-request-bytes', String(64 * 1024)]);
    const admin = await client(b.port);
    const topic = randomTopic();
    await admin.createTopic(topic, 1, { 'max.message.bytes': 4 * MiB });
    const producers = await Promise.all(Array.from({ length: 4 }, () => client(b.port)));
    const results = await Promise.all(producers.map((p, i) => p.produce(topic, 0, batchOf([String(i).repeat(2 * MiB)]))));
    expect(results.map((r) => r.baseOffset).sort()).toEqual([0, 1, 2, 3]);
    const { parts } = await admin.fetch([{ topic, partition: 0, offset: 0, maxBytes: 16 * MiB }], { maxBytes: 16 * MiB });
    expect(recordsOf(parts[0]!).map((r) => r.value.length)).toEqual([2 * MiB, 2 * MiB, 2 * MiB, 2 * MiB]);
  });
});

describe('idle connections', () => {
  it('closes a connection with nothing in flight after connections-max-idle-ms, but not one with a parked fetch', async () => {
    const b = await broker(['--connections-max-idle-ms', '400']);
    const idle = await client(b.port);
    const parked = await client(b.port);
    const topic = randomTopic();
    await idle.createTopic(topic, 1);
    const lastActiveAt = Date.now();
    const fetched = parked.fetch([{ topic, partition: 0, offset: 0 }], { maxWaitMs: 3000 });
    await idle.closed;
    const idleFor = Date.now() - lastActiveAt;
    expect(idleFor).toBeGreaterThanOrEqual(350);
    expect(idleFor).toBeLessThan(2500);
    expect(parked.isClosed).toBe(false);
    // The parked fetch is answered at its maxWaitMs (nothing arrived), then that connection idles too.
    expect((await fetched).header.partitions[0]!.size).toBe(0);
    await parked.closed;
  });
});

describe('a client that never reads', () => {
  it('keeps the broker within the per-connection response budget while it pipelines large fetches, and is closed when idle', async () => {
    const b = await broker(['--connections-max-idle-ms', '1500']);
    const healthy = await client(b.port);
    const topic = randomTopic();
    await healthy.createTopic(topic, 1);
    await healthy.produce(topic, 0, batchOf(['v'.repeat(900_000)]));
    const baseline = rssBytes(b.child.pid!);
    const reader = await client(b.port);
    reader.socket.pause();
    const peak = await peakRssDuring(b.child.pid!, async () => {
      // 400 fetches of a 900 KB batch: 360 MB of responses if nothing pushed back.
      for (let i = 0; i < 400; i++) void reader.fetch([{ topic, partition: 0, offset: 0 }]).catch(() => {});
      // The broker stops once it holds its budget; the healthy client is served meanwhile.
      await waitFor(() => rssBytes(b.child.pid!) - baseline > 50 * MiB, 5_000);
      expect(await servedWithin(healthy, topic, 'meanwhile')).toBeLessThan(2000);
    });
    // 64 MiB budget + one response over it + socket and heap slack.
    expect(peak - baseline).toBeLessThan(150 * MiB);
    // Idle: no handler running, nothing read or written. The paused client's kernel sees the close first.
    expect(tcpEstablished(reader.socket.localPort!, b.port)).toBe(true);
    await waitFor(() => !tcpEstablished(reader.socket.localPort!, b.port), 5_000);
    reader.socket.resume();
    await reader.closed;
    expect(reader.received.length).toBeLessThan(400);
  });
});
