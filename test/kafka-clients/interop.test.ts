// The same bytes through both wires: what kcat (librdkafka) writes through the Kafka
// listener, the native SDK reads with byte-identical keys, values, headers and timestamps;
// what the native SDK writes, kcat reads the same way. Both store Kafka's RecordBatch v2, so
// this is the proof that the Kafka listener translates a protocol and never the records.

import { describe, expect, it } from 'vitest';
import { randomTopic } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { parseKcatJson, run, useKafkaBroker } from './helpers.js';

describe('native SDK and kcat read each other', () => {
  const shared = useKafkaBroker();

  it('the native SDK reads what kcat wrote', async () => {
    const topic = randomTopic('interop-k2n');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const lines = Array.from({ length: 200 }, (_, i) => `key-${i}|value \u00e9 ${i}`);
    const produced = await run('kcat', ['-b', shared.kafka(), '-t', topic, '-P', '-K', '|', '-H', 'h1=one', '-H', 'h2=two'], { stdin: lines.join('\n') + '\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const viaKcat = parseKcatJson((await run('kcat', ['-b', shared.kafka(), '-C', '-t', topic, '-o', 'beginning', '-e', '-J'])).stdout);
    expect(viaKcat).toHaveLength(200);

    const consumer = shared.client().consumer({ autoOffsetReset: 'earliest' });
    await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
    const viaNative = await take(consumer, 200);
    await consumer.close();
    for (let i = 0; i < 200; i++) {
      const native = viaNative[i]!;
      const kcat = viaKcat[i]!;
      expect(native.offset).toBe(kcat.offset);
      expect(native.key?.toString()).toBe(kcat.key);
      expect(native.value?.toString()).toBe(kcat.payload);
      expect(native.timestamp).toBe(kcat.ts);
      expect(Object.entries(native.headers).flatMap(([k, v]) => [k, v.toString()])).toEqual(kcat.headers);
    }
  });

  it('kcat reads what the native SDK wrote', async () => {
    const topic = randomTopic('interop-n2k');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = shared.client().producer({ acks: 'all', lingerMs: 1 });
    const base = Date.UTC(2026, 0, 2, 3, 4, 5);
    const messages = Array.from({ length: 300 }, (_, i) => ({
      key: i % 7 === 0 ? null : `k${i}`,
      value: i % 11 === 0 ? null : `v${i} \u00fc`,
      headers: { trace: `t${i}`, app: 'native' },
      timestamp: base + i,
    }));
    await producer.send({ topic, messages });
    const result = await run('kcat', ['-b', shared.kafka(), '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
    expect(result.code, result.stderr).toBe(0);
    const viaKcat = parseKcatJson(result.stdout);
    expect(viaKcat).toHaveLength(300);
    for (let i = 0; i < 300; i++) {
      const sent = messages[i]!;
      const read = viaKcat[i]!;
      expect(read.offset).toBe(i);
      expect(read.key).toBe(sent.key);
      expect(read.payload).toBe(sent.value);
      expect(read.ts).toBe(sent.timestamp);
      expect(read.headers).toEqual(['trace', `t${i}`, 'app', 'native']);
    }
  });

  // librdkafka compresses with each codec Kafka has; spool stores the batches untouched and
  // the native SDK decodes all four.
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`the native SDK reads kcat's ${codec} batches`, async () => {
      const topic = randomTopic(`interop-${codec}`);
      await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const lines = Array.from({ length: 500 }, (_, i) => `k${i}|${codec} value ${i} ${'z'.repeat(i % 40)}`);
      const produced = await run('kcat', ['-b', shared.kafka(), '-t', topic, '-P', '-K', '|', '-z', codec, '-X', 'linger.ms=50'], { stdin: lines.join('\n') + '\n' });
      expect(produced.code, produced.stderr).toBe(0);
      const consumer = shared.client().consumer({ autoOffsetReset: 'earliest' });
      await consumer.assign([{ topic, partition: 0, offset: 'earliest' }]);
      const messages = await take(consumer, 500);
      await consumer.close();
      expect(messages.map((m) => `${m.key?.toString()}|${m.value?.toString()}`)).toEqual(lines);
      // And kcat reads its own batches back from spool.
      const viaKcat = parseKcatJson((await run('kcat', ['-b', shared.kafka(), '-C', '-t', topic, '-o', 'beginning', '-e', '-J'])).stdout);
      expect(viaKcat.map((m) => `${m.key}|${m.payload}`)).toEqual(lines);
    });
  }
});
