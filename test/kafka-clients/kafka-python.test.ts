// kafka-python 2.0.2 (Debian's python3-kafka, run with /usr/bin/python3), a client nobody
// here wrote, against spool's Kafka listener: a KafkaProducer sends keyed messages with
// headers (acks=all), a KafkaConsumer in a group reads every one of them and commits; the
// committed offsets are the native group's offsets.
// What must survive: every acknowledged message, read once by the group.

import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomTopic } from '../helpers/broker.js';
import { run, useKafkaBroker } from './helpers.js';

const SCRIPT = fileURLToPath(new URL('./kafka_python_client.py', import.meta.url));

describe('kafka-python against the Kafka listener', () => {
  const shared = useKafkaBroker();

  it('KafkaProducer and a KafkaConsumer group round-trip every message', async () => {
    const topic = randomTopic('kpy');
    const group = randomTopic('kpy-group');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const count = 1000;
    const result = await run('/usr/bin/python3', [SCRIPT, shared.kafka(), topic, group, String(count)], { timeoutMs: 90_000 });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout.trim().split('\n').pop()!)).toEqual({ produced: count, consumed: count });
    const offsets = await shared.client().admin().fetchOffsets({ groupId: group });
    expect(offsets.filter((o) => o.topic === topic).reduce((sum, o) => sum + o.offset, 0)).toBe(count);
  });
});
