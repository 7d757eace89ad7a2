// Idempotent producers nobody here wrote against spool's Kafka listener: kcat (librdkafka
// 2.0.2) with `-X enable.idempotence=true` and kafkajs with `idempotent: true` call
// InitProducerId, stamp producer ids and sequences, and every message they send is stored
// exactly once (the partitions' end offsets sum to the count sent; every stored batch
// carries the producer id the broker handed out, read from the batch headers over the
// native Fetch). On the raw Kafka wire: InitProducerId v4 answers a producer id, the same
// stamped batch produced twice is stored once and both answers carry its base offset, and a
// gap in sequences is OUT_OF_ORDER_SEQUENCE_NUMBER (45), an older epoch INVALID_PRODUCER_EPOCH (47).

import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { BatchLayout, encodeBatch, forEachBatch, readInt64, setProducerFields } from '../../src/records/index.js';
import { KafkaWire } from './raw-kafka.js';
import { randomTopic } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { run, useKafkaBroker } from './helpers.js';

describe('idempotent Kafka producers', () => {
  const shared = useKafkaBroker();
  const kafka = (): Kafka => new Kafka({ clientId: 'spool-idem', brokers: [shared.kafka()], logLevel: logLevel.NOTHING, retry: { retries: 5 } });

  /** Per partition: the end offset and the set of producer ids in its stored batch headers. */
  async function stored(topic: string, partitions: number): Promise<Array<{ endOffset: number; producerIds: Set<number> }>> {
    const raw = await RawClient.connect(shared.broker().port);
    try {
      const out = [];
      for (let partition = 0; partition < partitions; partition++) {
        const producerIds = new Set<number>();
        let offset = 0;
        let endOffset = 0;
        for (;;) {
          const response = await raw.request<M.FetchResponse>(ApiKey.Fetch, { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 22, partitions: [{ topic, partition, offset, maxBytes: 1 << 22 }] });
          const result = response.header.partitions[0]!;
          endOffset = result.highWatermark;
          if (response.payload.length === 0) break;
          forEachBatch(response.payload, (header, position) => {
            producerIds.add(readInt64(response.payload, position + BatchLayout.PRODUCER_ID));
            offset = header.baseOffset + header.lastOffsetDelta + 1;
          });
          if (offset >= endOffset) break;
        }
        out.push({ endOffset, producerIds });
      }
      return out;
    } finally {
      raw.socket.destroy();
    }
  }

  it('kcat with enable.idempotence=true: 20,000 messages stored exactly once, under one producer id', async () => {
    const topic = randomTopic('idem-kcat');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const count = 20_000;
    const lines = Array.from({ length: count }, (_, i) => `k${i}:v${i}`);
    const produced = await run('kcat', ['-b', shared.kafka(), '-t', topic, '-P', '-K', ':', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'], { stdin: lines.join('\n') + '\n' });
    expect(produced.code, produced.stderr).toBe(0);
    const partitions = await stored(topic, 3);
    expect(partitions.reduce((sum, p) => sum + p.endOffset, 0)).toBe(count);
    const ids = new Set(partitions.flatMap((p) => [...p.producerIds]));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('kafkajs with idempotent: true: 5,000 messages stored exactly once, under one producer id', async () => {
    const topic = randomTopic('idem-kjs');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const producer = kafka().producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const count = 5000;
    for (let from = 0; from < count; from += 500) {
      const messages = [];
      for (let i = from; i < from + 500; i++) messages.push({ key: `k${i}`, value: `v${i}` });
      await producer.send({ topic, messages });
    }
    await producer.disconnect();
    const partitions = await stored(topic, 3);
    expect(partitions.reduce((sum, p) => sum + p.endOffset, 0)).toBe(count);
    const ids = new Set(partitions.flatMap((p) => [...p.producerIds]));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('raw Kafka wire: InitProducerId, a duplicate answered with the original offset, gaps and old epochs refused', async () => {
    const topic = randomTopic('idem-raw');
    await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const wire = await KafkaWire.connect(shared.kafka());
    const init = await wire.request(ApiKeys.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 });
    expect(init).toMatchObject({ errorCode: KafkaErrors.NONE, producerEpoch: 0 });
    const batch = (epoch: number, sequence: number): Buffer => {
      const bytes = Buffer.from(encodeBatch([{ value: `s${sequence}` }, { value: `s${sequence + 1}` }]));
      setProducerFields(bytes, 0, init.producerId!, epoch, sequence);
      return bytes;
    };
    const produce = async (bytes: Buffer): Promise<{ errorCode: number; baseOffset: number }> => {
      const body = await wire.request(ApiKeys.Produce, 7, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: bytes }] }] });
      return body.responses[0]!.partitionResponses[0]!;
    };
    await produce(batch(0, 0));
    expect(await produce(batch(0, 2))).toMatchObject({ errorCode: KafkaErrors.NONE, baseOffset: 2 });
    expect(await produce(batch(0, 2))).toMatchObject({ errorCode: KafkaErrors.NONE, baseOffset: 2 });
    expect(await produce(batch(0, 9))).toMatchObject({ errorCode: KafkaErrors.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(batch(1, 0))).toMatchObject({ errorCode: KafkaErrors.NONE, baseOffset: 4 });
    expect(await produce(batch(0, 4))).toMatchObject({ errorCode: KafkaErrors.INVALID_PRODUCER_EPOCH });
    await wire.close();
    expect((await stored(topic, 1))[0]!.endOffset).toBe(6);
  });
});
