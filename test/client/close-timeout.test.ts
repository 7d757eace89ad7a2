// Proves client.close({ timeoutMs }) is bounded with the broker gone (it used to take ~19 s
// while the producer's batches ran through their retries): a broker process is SIGKILLed with
// a send() buffered, close({ timeoutMs: 500 }) returns within about that time, the send()
// rejects with REQUEST_TIMED_OUT saying close gave up on it, and a group consumer's run() ends.
import { afterEach, describe, expect, it } from 'vitest';
import { Client, SpoolError } from '../../src/client/index.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';

let broker: BrokerProcess | undefined;
afterEach(() => broker?.cleanup());

describe('client.close({ timeoutMs })', () => {
  it('gives up on unsent batches at the deadline with a clear error to their send() callers', async () => {
    broker = await startBroker({ args: ['--fsync', 'never'] });
    const client = new Client({ brokers: [broker.address], connectTimeoutMs: 1000 });
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic }] });
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'before' }] });
    const consumer = client.consumer({ groupId: `g-${topic}`, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    const reading = consumer.run({ eachMessage: () => undefined }).catch((error: unknown) => error);
    await broker.kill();
    const pending = producer.send({ topic, messages: [{ value: 'after' }] });
    const outcome = pending.then(
      () => null,
      (error: unknown) => error,
    );
    const started = performance.now();
    await client.close({ timeoutMs: 500 });
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeLessThan(2000);
    const error = await outcome;
    expect(error).toBeInstanceOf(SpoolError);
    expect((error as SpoolError).code).toBe('REQUEST_TIMED_OUT');
    expect((error as SpoolError).message).toMatch(/close\(\{ timeoutMs: 500 \}\) before this send\(\) was acknowledged/);
    await expect(producer.send({ topic, messages: [{ value: 'later' }] })).rejects.toThrow(/closed/);
    await reading;
  });

  it('with a live broker, close() still delivers what is buffered', async () => {
    broker = await startBroker({ args: ['--fsync', 'never'] });
    const client = new Client({ brokers: [broker.address] });
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic }] });
    const producer = client.producer({ lingerMs: 1000, adaptiveLinger: false });
    const sent = producer.send({ topic, messages: [{ value: 'lingering' }] });
    await client.close({ timeoutMs: 5000 });
    await expect(sent).resolves.toEqual([{ topic, partition: 0, offset: 0 }]);
    await broker.stop();
  });
});
