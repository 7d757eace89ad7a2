// Proves the producer's batching and sending logic without a network: a fake client
// records every Produce request (header + payload decoded with records' decodeBatch)
// and answers when the test says so; vitest fake timers drive linger and backoff.
// Covers linger, batchBytes, murmur2 placement, offsets per message across batches,
// per-partition order across retries, maxInFlight, acks 0, errors, flush and close.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Client } from '../../src/client/client.js';
import type { Response } from '../../src/client/connection.js';
import { Producer, type ProducerConfig } from '../../src/client/producer.js';
import { partitionForKey } from '../../src/client/partitioner.js';
import { RetryPolicy } from '../../src/client/retry.js';
import { BatchLayout, decodeBatch, forEachBatch, readInt64 } from '../../src/records/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { Errors, SpoolError } from '../../src/util/errors.js';
import type { ProduceRequest } from '../../src/protocol/index.js';

interface SentRequest {
  header: ProduceRequest;
  /** Per partition entry: [producerId, baseSequence] of each batch. */
  stamps: Array<Array<[number, number]>>;
  /** Per partition entry: the values of its records, batch by batch. */
  batches: Array<Array<string[]>>;
  expectResponse: boolean;
  resolve(response: Response): void;
  reject(error: unknown): void;
}

class FakeClient {
  readonly requestTimeoutMs = 30_000;
  readonly retryPolicy = new RetryPolicy({ retries: 3, initialRetryTimeMs: 100, factor: 0 });
  readonly sent: SentRequest[] = [];
  private readonly partitions = new Map<string, number>();
  readonly metadata = {
    cachedPartitions: (topic: string) => this.partitions.get(topic),
    partitionCount: async (topic: string) => {
      const count = this.partitions.get(topic);
      if (count === undefined) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic ${topic} does not exist`);
      return count;
    },
    invalidate: () => undefined,
  };

  constructor(topics: Record<string, number>) {
    for (const [topic, count] of Object.entries(topics)) this.partitions.set(topic, count);
  }

  send(_apiKey: number, header: ProduceRequest, payload: Buffer[], options: { expectResponse?: boolean }): Promise<Response> {
    const whole = Buffer.concat(payload);
    const batches: Array<Array<string[]>> = [];
    const stamps: Array<Array<[number, number]>> = [];
    let position = 0;
    for (const entry of header.partitions) {
      const slice = whole.subarray(position, position + entry.size);
      position += entry.size;
      const values: Array<string[]> = [];
      const entryStamps: Array<[number, number]> = [];
      forEachBatch(slice, (_header, at) => {
        // verifyCrc: a stamped batch must still pass its CRC.
        const decoded = decodeBatch(slice, at, { verifyCrc: true });
        values.push(decoded.records.map((record) => record.value!.toString()));
        entryStamps.push([readInt64(slice, at + BatchLayout.PRODUCER_ID), slice.readInt32BE(at + BatchLayout.BASE_SEQUENCE)]);
      });
      batches.push(values);
      stamps.push(entryStamps);
    }
    return new Promise((resolve, reject) => {
      this.sent.push({ header, stamps, batches, expectResponse: options.expectResponse !== false, resolve, reject });
    });
  }

  /** InitProducerId: answered at once with producer id 7 + the number of earlier calls. */
  initCalls = 0;
  /** Set: InitProducerId answers this error code (an older broker: UNSUPPORTED_VERSION). */
  initErrorCode = 0;
  request(apiKey: number): Promise<Response> {
    if (apiKey !== ApiKey.InitProducerId) return Promise.reject(new Error(`the fake answers InitProducerId only, not ${apiKey}`));
    if (this.initErrorCode !== 0) return Promise.resolve({ header: { errorCode: this.initErrorCode, errorMessage: 'api key 40 is not supported' }, payload: Buffer.alloc(0) });
    return Promise.resolve({ header: { errorCode: 0, producerId: 7 + this.initCalls++, producerEpoch: 0 }, payload: Buffer.alloc(0) });
  }

  /** Answers request `index`'s only partition entry with an error code. */
  failEntry(index: number, errorCode: number): void {
    const request = this.sent[index]!;
    const entry = request.header.partitions[0]!;
    request.resolve({
      header: { errorCode: 0, partitions: [{ topic: entry.topic, partition: entry.partition, errorCode, errorMessage: 'refused', baseOffset: -1, logStartOffset: 0 }] },
      payload: Buffer.alloc(0),
    });
  }

  forget(): void {}

  /** Answers request `index` with success, base offsets per entry from `bases`. */
  ack(index: number, bases: number[]): void {
    const request = this.sent[index]!;
    request.resolve({
      header: {
        errorCode: 0,
        partitions: request.header.partitions.map((entry, at) => ({ topic: entry.topic, partition: entry.partition, errorCode: 0, baseOffset: bases[at] ?? 0, logStartOffset: 0 })),
      },
      payload: Buffer.alloc(0),
    });
  }
}

/** Non-idempotent unless the test says so: these tests pin batching (many batches per partition per request). */
function producer(client: FakeClient, config: ProducerConfig = {}): Producer {
  return new Producer(client as unknown as Client, { idempotent: false, ...config });
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Producer batching', () => {
  it('waits lingerMs, then sends one batch and resolves one offset per message', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 50, adaptiveLinger: false });
    const result = p.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    await vi.advanceTimersByTimeAsync(49);
    expect(client.sent).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0]!.header.acks).toBe(-1);
    expect(client.sent[0]!.batches).toEqual([[['a', 'b', 'c']]]);
    client.ack(0, [40]);
    await expect(result).resolves.toEqual([
      { topic: 't', partition: 0, offset: 40 },
      { topic: 't', partition: 0, offset: 41 },
      { topic: 't', partition: 0, offset: 42 },
    ]);
  });

  it('adaptive linger: a lone send goes out at once while nothing is in flight; sends made while a request is out linger and batch', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 50 });
    const first = p.send({ topic: 't', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(0); // no timer needed: the batch closed at the end of the turn
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0]!.batches).toEqual([[['a']]]);
    // A request is in flight: the next sends wait for lingerMs and share one batch.
    const second = p.send({ topic: 't', messages: [{ value: 'b' }] });
    const third = p.send({ topic: 't', messages: [{ value: 'c' }] });
    await vi.advanceTimersByTimeAsync(49);
    expect(client.sent).toHaveLength(1);
    client.ack(0, [0]);
    await expect(first).resolves.toEqual([{ topic: 't', partition: 0, offset: 0 }]);
    // Nothing in flight any more: the lingering batch goes at once, not when lingerMs is up.
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(2);
    expect(client.sent[1]!.batches).toEqual([[['b', 'c']]]);
    client.ack(1, [1]);
    expect((await Promise.all([second, third])).flat().map((entry) => entry.offset)).toEqual([1, 2]);
    // Idle again: the next lone send goes at once.
    void p.send({ topic: 't', messages: [{ value: 'd' }] });
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(3);
  });

  it('adaptive linger: a batch lingering behind a request goes out when that request is answered, not lingerMs later', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 10_000 });
    void p.send({ topic: 't', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(0);
    const second = p.send({ topic: 't', messages: [{ value: 'b' }] });
    await vi.advanceTimersByTimeAsync(1);
    expect(client.sent).toHaveLength(1); // 'a' is in flight: 'b' lingers
    client.ack(0, [0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(2);
    expect(client.sent[1]!.batches).toEqual([[['b']]]);
    client.ack(1, [1]);
    await expect(second).resolves.toEqual([{ topic: 't', partition: 0, offset: 1 }]);
  });

  it('lingerMs 0, backed up: sends made while a closed batch waits for room join one open batch instead of queueing one batch each', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 0 });
    const sends = [p.send({ topic: 't', messages: [{ value: 'a' }] })];
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(1); // 'a' in flight (one request per partition)
    for (const value of ['b', 'c', 'd']) {
      sends.push(p.send({ topic: 't', messages: [{ value }] }));
      await vi.advanceTimersByTimeAsync(0); // each in its own turn: the linger microtask runs between them
    }
    client.ack(0, [0]);
    await vi.advanceTimersByTimeAsync(0);
    // 'b' closed alone (nothing waited then); 'c' and 'd' waited behind it in one open batch.
    expect(client.sent[1]!.batches).toEqual([[['b']]]);
    client.ack(1, [1]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent[2]!.batches).toEqual([[['c', 'd']]]);
    client.ack(2, [2]);
    expect((await Promise.all(sends)).flat().map((entry) => entry.offset)).toEqual([0, 1, 2, 3]);
  });

  it('adaptive linger: a send made as soon as the previous one resolved goes out at once (the producer is idle by then)', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 50 });
    const loop = (async () => {
      await p.send({ topic: 't', messages: [{ value: 'a' }] });
      await p.send({ topic: 't', messages: [{ value: 'b' }] });
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(1);
    client.ack(0, [0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(2);
    client.ack(1, [1]);
    await loop;
  });

  it('closes a batch at batchBytes without waiting for linger', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 10_000, batchBytes: 300, adaptiveLinger: false });
    const value = 'x'.repeat(100);
    // ~105 bytes a record after a 61-byte header: a third record would pass 300 bytes.
    const result = p.send({ topic: 't', messages: [{ value }, { value }, { value }, { value }, { value }] });
    await vi.advanceTimersByTimeAsync(0);
    // Two full batches went out at once (one request: a partition has one request in flight).
    expect(client.sent).toHaveLength(1);
    expect(client.sent[0]!.batches[0]!.map((batch) => batch.length)).toEqual([2, 2]);
    client.ack(0, [0]);
    await vi.advanceTimersByTimeAsync(10_001); // the fifth record's batch goes on linger
    expect(client.sent[1]!.batches).toEqual([[['x'.repeat(100)]]]);
    client.ack(1, [4]);
    const offsets = (await result).map((entry) => entry.offset);
    expect(offsets).toEqual([0, 1, 2, 3, 4]);
  });

  it('puts keyed messages on their murmur2 partitions and keeps their order within each', async () => {
    const client = new FakeClient({ t: 4 });
    const p = producer(client, { lingerMs: 1 });
    const messages = Array.from({ length: 40 }, (_, index) => ({ key: `k${index % 7}`, value: `v${index}` }));
    const result = p.send({ topic: 't', messages });
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent).toHaveLength(1);
    const request = client.sent[0]!;
    request.header.partitions.forEach((entry, at) => {
      const expected = messages.filter((message) => partitionForKey(message.key, 4) === entry.partition).map((message) => message.value);
      expect(request.batches[at]!.flat()).toEqual(expected);
    });
    client.ack(0, request.header.partitions.map((entry) => entry.partition * 1000));
    const results = await result;
    const seen = new Map<number, number>();
    results.forEach((entry, index) => {
      expect(entry.partition).toBe(partitionForKey(messages[index]!.key, 4));
      const next = seen.get(entry.partition) ?? entry.partition * 1000;
      expect(entry.offset).toBe(next);
      seen.set(entry.partition, next + 1);
    });
  });

  it('sends null-key messages of one send to one sticky partition, and an explicit partition wins', async () => {
    const client = new FakeClient({ t: 8 });
    const p = producer(client, { lingerMs: 1 });
    const result = p.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { key: 'k', value: 'c', partition: 5 }] });
    await vi.advanceTimersByTimeAsync(2);
    client.ack(0, [0, 0]);
    const [a, b, c] = await result;
    expect(a!.partition).toBe(b!.partition);
    expect(c!.partition).toBe(5);
  });

  it('null keys stick to one partition per batch and move on when the batch closes', async () => {
    const client = new FakeClient({ t: 4 });
    const p = producer(client, { lingerMs: 1, batchBytes: 300 });
    const value = 'x'.repeat(100);
    const result = p.send({ topic: 't', messages: Array.from({ length: 8 }, () => ({ value })) });
    // Acknowledge every request as it comes (a partition that got two batches sends the second later).
    let settled = false;
    void result.finally(() => (settled = true));
    for (let acked = 0; !settled; ) {
      await vi.advanceTimersByTimeAsync(2);
      while (acked < client.sent.length) client.ack(acked++, [0, 0, 0, 0]);
    }
    const partitions = (await result).map((entry) => entry.partition);
    // Two records fit a batch: each closed batch moves the sticky partition elsewhere.
    for (let index = 0; index < 8; index += 2) expect(partitions[index + 1]).toBe(partitions[index]);
    for (let index = 2; index < 8; index += 2) expect(partitions[index]).not.toBe(partitions[index - 1]);
  });

  it('rejects a partition outside the topic before buffering anything', async () => {
    const client = new FakeClient({ t: 2 });
    const p = producer(client);
    await expect(p.send({ topic: 't', messages: [{ value: 'a', partition: 2 }] })).rejects.toMatchObject({ code: 'UNKNOWN_PARTITION' });
    await expect(p.send({ topic: 'missing', messages: [{ value: 'a' }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
  });
});

describe('Producer sending', () => {
  it('retries a retriable failure before any later batch of the partition is sent', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1 });
    const first = p.send({ topic: 't', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(2);
    const second = p.send({ topic: 't', messages: [{ value: 'b' }] });
    await vi.advanceTimersByTimeAsync(5);
    expect(client.sent).toHaveLength(1); // 'b' waits: the partition has a request in flight
    client.sent[0]!.reject(new SpoolError(Errors.NETWORK_ERROR, 'connection reset'));
    await vi.advanceTimersByTimeAsync(99);
    expect(client.sent).toHaveLength(1); // backoff: the partition stays blocked
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent).toHaveLength(2);
    expect(client.sent[1]!.batches[0]!.flat()).toEqual(['a', 'b']); // retried batch first, then the later one
    client.ack(1, [7]);
    expect((await first)[0]!.offset).toBe(7);
    expect((await second)[0]!.offset).toBe(8);
  });

  it('gives up after `retries` and rejects with the error, naming the attempts', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1, retries: 2 });
    const result = p.send({ topic: 't', messages: [{ value: 'a' }] });
    const settled = expect(result).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE', message: expect.stringContaining('3 attempts') });
    for (let attempt = 0; attempt < 3; attempt++) {
      await vi.advanceTimersByTimeAsync(1000);
      client.sent[attempt]!.reject(new SpoolError(Errors.BROKER_NOT_AVAILABLE, 'refused'));
    }
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
    expect(client.sent).toHaveLength(3);
  });

  it('fails at once on a partition error that is not retriable', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1 });
    const result = p.send({ topic: 't', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(2);
    client.sent[0]!.resolve({
      header: { errorCode: 0, partitions: [{ topic: 't', partition: 0, errorCode: Errors.MESSAGE_TOO_LARGE.code, errorMessage: 'too big', baseOffset: -1, logStartOffset: 0 }] },
      payload: Buffer.alloc(0),
    });
    await expect(result).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
  });

  it('keeps at most maxInFlight requests in flight', async () => {
    const client = new FakeClient({ t: 6 });
    const p = producer(client, { lingerMs: 1, maxInFlight: 2, maxRequestBytes: 1 });
    const results = [0, 1, 2, 3, 4, 5].map((partition) => p.send({ topic: 't', messages: [{ value: `p${partition}`, partition }] }));
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent).toHaveLength(2);
    client.ack(0, [0]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(3);
    for (let index = 1; index < 6; index++) {
      client.ack(index, [0]);
      await vi.advanceTimersByTimeAsync(0);
    }
    expect((await Promise.all(results)).map((entry) => entry[0]!.partition)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('acks 0: sends without waiting for an answer and resolves offsets as -1', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1, acks: 0 });
    const result = p.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent[0]!.header.acks).toBe(0);
    expect(client.sent[0]!.expectResponse).toBe(false);
    client.sent[0]!.resolve({ header: {}, payload: Buffer.alloc(0) }); // written
    expect((await result).map((entry) => entry.offset)).toEqual([-1, -1]);
  });

  it('per-send acks override the producer default and travel in separate requests', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1, acks: 'all' });
    const one = p.send({ topic: 't', messages: [{ value: 'a' }], acks: 1 });
    const all = p.send({ topic: 't', messages: [{ value: 'b' }] });
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent.map((request) => request.header.acks).sort()).toEqual([-1, 1]);
    client.ack(0, [0]);
    client.ack(1, [1]);
    await Promise.all([one, all]);
  });

  it('flush() sends at once and waits for the acknowledgement; close() delivers what is buffered', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 60_000 });
    const sent = p.send({ topic: 't', messages: [{ value: 'a' }] });
    let flushed = false;
    const flush = p.flush().then(() => (flushed = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(1);
    expect(flushed).toBe(false);
    client.ack(0, [3]);
    await flush;
    expect((await sent)[0]!.offset).toBe(3);

    const late = p.send({ topic: 't', messages: [{ value: 'b' }] });
    const closing = p.close();
    await vi.advanceTimersByTimeAsync(0);
    client.ack(1, [4]);
    await closing;
    expect((await late)[0]!.offset).toBe(4);
    await expect(p.send({ topic: 't', messages: [{ value: 'c' }] })).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gzip batches decode to the same records', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { lingerMs: 1, compression: 'gzip' });
    const result = p.send({ topic: 't', messages: [{ value: 'hello' }, { value: 'world' }] });
    await vi.advanceTimersByTimeAsync(2);
    expect(client.sent[0]!.batches).toEqual([[['hello', 'world']]]);
    client.ack(0, [0]);
    await result;
  });
});

describe('idempotent producer', () => {
  /** One send of one message per call, each closed into its own batch (lingerMs 0). */
  async function sendEach(p: Producer, values: string[]): Promise<Array<Promise<unknown>>> {
    const results = [];
    for (const value of values) {
      results.push(p.send({ topic: 't', messages: [{ value }, { value: `${value}2` }] }));
      await vi.advanceTimersByTimeAsync(0);
    }
    return results;
  }

  it('stamps the producer id and consecutive sequences, one batch per request, up to 5 requests per partition in flight', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { idempotent: true, lingerMs: 0, adaptiveLinger: false, maxInFlight: 10 });
    const results = await sendEach(p, ['a', 'b', 'c', 'd', 'e', 'f']);
    expect(client.initCalls).toBe(1);
    expect(client.sent).toHaveLength(5); // the sixth waits for a slot of its partition
    expect(client.sent.map((request) => request.stamps)).toEqual([0, 2, 4, 6, 8].map((sequence) => [[[7, sequence]]]));
    client.ack(0, [100]);
    await vi.advanceTimersByTimeAsync(0);
    expect(client.sent).toHaveLength(6);
    expect(client.sent[5]!.stamps).toEqual([[[7, 10]]]);
    for (let i = 1; i < 6; i++) client.ack(i, [100 + 2 * i]);
    await Promise.all(results);
  });

  it('after a network failure, resends every batch of the partition in sequence order with the same stamps', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { idempotent: true, lingerMs: 0, adaptiveLinger: false, maxInFlight: 10 });
    const results = await sendEach(p, ['a', 'b', 'c']);
    expect(client.sent).toHaveLength(3);
    // The connection breaks: every request in flight fails, the last one first.
    for (const index of [2, 1, 0]) client.sent[index]!.reject(new SpoolError(Errors.NETWORK_ERROR, 'reset'));
    await vi.advanceTimersByTimeAsync(0);
    const more = await sendEach(p, ['d']);
    expect(client.sent).toHaveLength(3); // blocked during the backoff, 'd' included
    await vi.advanceTimersByTimeAsync(150);
    expect(client.sent.slice(3).map((request) => [request.batches[0]!.flat(), request.stamps[0]![0]])).toEqual([
      [['a', 'a2'], [7, 0]],
      [['b', 'b2'], [7, 2]],
      [['c', 'c2'], [7, 4]],
      [['d', 'd2'], [7, 6]],
    ]);
    for (let i = 3; i < 7; i++) client.ack(i, [10 + 2 * (i - 3)]);
    expect(await Promise.all([...results, ...more])).toEqual(['a', 'b', 'c', 'd'].map((_, i) => [
      { topic: 't', partition: 0, offset: 10 + 2 * i },
      { topic: 't', partition: 0, offset: 11 + 2 * i },
    ]));
  });

  it('a batch refused for good gives its sequence to the batches after it, which the broker refused for the gap', async () => {
    const client = new FakeClient({ t: 1 });
    const p = producer(client, { idempotent: true, lingerMs: 0, adaptiveLinger: false, maxInFlight: 10 });
    const results = await sendEach(p, ['a', 'b', 'c']);
    const failed = expect(results[0]).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    client.failEntry(0, Errors.MESSAGE_TOO_LARGE.code);
    client.failEntry(1, Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    client.failEntry(2, Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code);
    await failed;
    await vi.advanceTimersByTimeAsync(150);
    expect(client.sent.slice(3).map((request) => [request.batches[0]!.flat(), request.stamps[0]![0]])).toEqual([
      [['b', 'b2'], [7, 0]],
      [['c', 'c2'], [7, 2]],
    ]);
    client.ack(3, [0]);
    client.ack(4, [2]);
    expect((await results[2]) as unknown).toEqual([{ topic: 't', partition: 0, offset: 2 }, { topic: 't', partition: 0, offset: 3 }]);
  });

  it('by default, against a broker without InitProducerId, falls back to unstamped batches; asked for explicitly, fails the sends', async () => {
    const client = new FakeClient({ t: 1 });
    client.initErrorCode = Errors.UNSUPPORTED_VERSION.code;
    const p = new Producer(client as unknown as Client, { lingerMs: 0, adaptiveLinger: false });
    const sent = p.send({ topic: 't', messages: [{ value: 'a' }] });
    await vi.advanceTimersByTimeAsync(0);
    expect(p.idempotent).toBe(false);
    expect(client.sent[0]!.stamps).toEqual([[[-1, -1]]]);
    client.ack(0, [3]);
    expect((await sent)[0]!.offset).toBe(3);
    const strict = producer(client, { idempotent: true, lingerMs: 0, adaptiveLinger: false });
    await expect(strict.send({ topic: 't', messages: [{ value: 'b' }] })).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });
});
