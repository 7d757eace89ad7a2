// kcat (Debian's kcat, librdkafka 2.0.2), a client nobody here wrote, against spool's Kafka
// listener: it lists metadata (-L), produces 10,000 keyed messages with headers (-P), reads
// them all back (-C -o beginning -e) with the same keys, values and headers, and two kcat
// processes in one balanced consumer group (-G) split a 4-partition topic and between them
// read every message once, committing offsets the native admin then sees.
// What must survive: every acknowledged message, readable by both kcat and the native SDK.

import { describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { parseKcatJson, run, start, useKafkaBroker } from './helpers.js';

const KCAT = 'kcat';

describe('kcat against the Kafka listener', () => {
  const shared = useKafkaBroker();

  it('lists metadata with -L: this broker, its topics and partitions', async () => {
    const topic = randomTopic('kcat-meta');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const result = await run(KCAT, ['-b', shared.kafka(), '-L', '-J']);
    expect(result.code, result.stderr).toBe(0);
    const metadata = JSON.parse(result.stdout) as {
      brokers: Array<{ id: number; name: string }>;
      topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>;
    };
    expect(metadata.brokers).toEqual([{ id: 0, name: shared.kafka() }]);
    const listed = metadata.topics.find((entry) => entry.topic === topic);
    expect(listed?.partitions.map((p) => [p.partition, p.leader])).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
    ]);
    expect(metadata.topics.some((entry) => entry.topic.startsWith('__'))).toBe(false);
  });

  it('produces 10,000 keyed messages with headers and consumes them back byte for byte', async () => {
    const topic = randomTopic('kcat-rt');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const count = 10_000;
    const lines = Array.from({ length: count }, (_, i) => `key-${i}:value-${i}-${'x'.repeat(i % 50)}`);
    const produced = await run(KCAT, ['-b', shared.kafka(), '-t', topic, '-P', '-K', ':', '-H', 'app=spool', '-H', 'trace=abc'], {
      stdin: lines.join('\n') + '\n',
    });
    expect(produced.code, produced.stderr).toBe(0);

    const consumed = await run(KCAT, ['-b', shared.kafka(), '-C', '-t', topic, '-o', 'beginning', '-e', '-J']);
    expect(consumed.code, consumed.stderr).toBe(0);
    const messages = parseKcatJson(consumed.stdout);
    expect(messages).toHaveLength(count);
    const byKey = new Map(messages.map((m) => [m.key, m]));
    for (let i = 0; i < count; i++) {
      const message = byKey.get(`key-${i}`);
      expect(message?.payload).toBe(`value-${i}-${'x'.repeat(i % 50)}`);
      expect(message?.headers).toEqual(['app', 'spool', 'trace', 'abc']);
    }
    // Per partition, offsets are dense from 0 and in order.
    for (let partition = 0; partition < 4; partition++) {
      const offsets = messages.filter((m) => m.partition === partition).map((m) => m.offset);
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
  });

  it('two kcat -G members share a 4-partition topic and read every message once', async () => {
    const topic = randomTopic('kcat-group');
    const group = randomTopic('kcat-g');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 4 }] });
    const member = () =>
      start(KCAT, ['-b', shared.kafka(), '-G', group, '-J', '-u', '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', topic]);
    const members = [member(), member()];
    try {
      // Both joined and the four partitions split between them (kcat prints each rebalance).
      const assigned = (stderr: string): number[] => {
        const lines = stderr.split('\n').filter((line) => line.includes('rebalanced'));
        const last = lines[lines.length - 1] ?? '';
        if (!last.includes('assigned:')) return [];
        return [...last.matchAll(/\[(\d+)\]/g)].map((match) => Number(match[1]));
      };
      await waitFor(() => {
        const [a, b] = members.map((m) => assigned(m.stderr()));
        return a!.length > 0 && b!.length > 0 && new Set([...a!, ...b!]).size === 4;
      }, 40_000, 100);

      const count = 2000;
      const lines = Array.from({ length: count }, (_, i) => `k${i}:v${i}`);
      const produced = await run(KCAT, ['-b', shared.kafka(), '-t', topic, '-P', '-K', ':'], { stdin: lines.join('\n') + '\n' });
      expect(produced.code, produced.stderr).toBe(0);

      await waitFor(() => members.reduce((sum, m) => sum + parseKcatJson(m.stdout()).length, 0) >= count, 30_000, 100);
      const [first, second] = members.map((m) => parseKcatJson(m.stdout()));
      expect(first!.length).toBeGreaterThan(0);
      expect(second!.length).toBeGreaterThan(0);
      const firstPartitions = new Set(first!.map((m) => m.partition));
      for (const message of second!) expect(firstPartitions.has(message.partition)).toBe(false);
      const values = new Set([...first!, ...second!].map((m) => m.payload));
      expect(values.size).toBe(count);
    } finally {
      await Promise.all(members.map((m) => m.stop()));
    }
    // The members committed what they read: the native admin sees it.
    const committed = await waitFor(async () => {
      const offsets = await shared.client().admin().fetchOffsets({ groupId: group });
      const total = offsets.filter((o) => o.topic === topic).reduce((sum, o) => sum + Math.max(0, o.offset), 0);
      return total === 2000 ? offsets : null;
    }, 15_000, 200);
    expect(committed!.length).toBe(4);
  });
});
