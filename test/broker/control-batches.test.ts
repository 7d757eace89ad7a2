// Proves a client cannot produce a control batch (attributes bit 5) or a transactional batch
// (bit 4) on either listener, while an idempotent producer's batch (a producer id, no
// transactional bit) is still stored. One real broker process with the Kafka listener on;
// raw frames over TCP (native RawClient, Kafka KafkaWire), no client library in between:
//   - native: a control batch and a transactional batch are each answered INVALID_RECORD
//     with a message naming the bit, and a good partition in the same request is stored;
//   - Kafka: a control batch is answered INVALID_RECORD (87) as Kafka's LogValidator does,
//     and a transactional batch without a transactional id is answered
//     TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) on every partition of the request (Kafka's
//     KafkaApis.handleProduceRequest), a good partition in it included;
// and after each, nothing of a refused partition is stored: both partitions read back, by
// native Fetch from offset 0, exactly the good records acknowledged so far.

import { beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, KafkaErrors } from '../../src/kafka/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { Attributes, BatchLayout, CRC_START, crc32c, encodeBatch, setProducerFields } from '../../src/records/index.js';
import { Errors } from '../../src/util/errors.js';
import { randomTopic } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { useBroker } from '../helpers/use-broker.js';
import { KafkaWire } from '../kafka-clients/raw-kafka.js';
import { recordsOf } from './records.js';

const shared = useBroker(['--fsync', 'never', '--kafka-listener', '127.0.0.1:0']);
let topic: string;
/** Per partition: the values acknowledged, in offset order. */
const stored: string[][] = [[], []];
let sequence = 0;

function batchWith(attributeBits: number, value = `bad-${sequence++}`): Buffer {
  const bytes = Buffer.from(encodeBatch([{ key: 'k', value }]));
  bytes.writeInt16BE(bytes.readInt16BE(BatchLayout.ATTRIBUTES) | attributeBits, BatchLayout.ATTRIBUTES);
  bytes.writeUInt32BE(crc32c(bytes, CRC_START, bytes.length), BatchLayout.CRC);
  return bytes;
}

function goodBatch(partition: number): { batch: Buffer; value: string } {
  const value = `good-${partition}-${sequence++}`;
  return { batch: encodeBatch([{ key: 'k', value }]), value };
}

async function nativeProduce(client: RawClient, parts: Array<{ partition: number; batch: Buffer }>): Promise<M.ProducePartitionResult[]> {
  const response = await client.request<M.ProduceResponse>(
    ApiKey.Produce,
    { acks: -1, timeoutMs: 5000, partitions: parts.map(({ partition, batch }) => ({ topic, partition, size: batch.length })) },
    parts.map(({ batch }) => batch),
  );
  return response.header.partitions;
}

async function expectOnlyGoodRecordsStored(client: RawClient): Promise<void> {
  const { parts } = await client.fetch([0, 1].map((partition) => ({ topic, partition, offset: 0 })));
  for (const partition of [0, 1]) {
    expect(recordsOf(parts[partition]!)).toEqual(stored[partition]!.map((value, offset) => ({ offset, value })));
  }
}

beforeAll(async () => {
  topic = randomTopic('control');
  const client = await RawClient.connect(shared.broker().port);
  expect((await client.createTopic(topic, 2)).topics[0]!.errorCode).toBe(0);
  await client.close();
});

describe('native listener', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['a control batch', Attributes.CONTROL, /control/],
    ['a transactional batch', Attributes.TRANSACTIONAL, /transactional/],
    ['a transactional control batch (a transaction marker)', Attributes.CONTROL | Attributes.TRANSACTIONAL, /control/],
  ];
  for (const [name, bits, message] of cases) {
    it(`${name}: INVALID_RECORD with a message, nothing of it stored, the other partition stored`, async () => {
      const client = await RawClient.connect(shared.broker().port);
      const good = goodBatch(1);
      const [refused, accepted] = await nativeProduce(client, [
        { partition: 0, batch: batchWith(bits) },
        { partition: 1, batch: good.batch },
      ]);
      expect(refused).toMatchObject({ errorCode: Errors.INVALID_RECORD.code, baseOffset: -1 });
      expect(refused!.errorMessage).toMatch(message);
      expect(accepted).toMatchObject({ errorCode: 0, baseOffset: stored[1]!.length });
      stored[1]!.push(good.value);
      await expectOnlyGoodRecordsStored(client);
      await client.close();
    });
  }

  it("an idempotent producer's batch (producer id, no transactional bit) is stored", async () => {
    const client = await RawClient.connect(shared.broker().port);
    const init = await client.request<M.InitProducerIdResponse>(ApiKey.InitProducerId, {});
    const good = goodBatch(0);
    const batch = Buffer.from(good.batch);
    setProducerFields(batch, 0, init.header.producerId, 0, 0);
    const [result] = await nativeProduce(client, [{ partition: 0, batch }]);
    expect(result).toMatchObject({ errorCode: 0, baseOffset: stored[0]!.length });
    stored[0]!.push(good.value);
    await expectOnlyGoodRecordsStored(client);
    await client.close();
  });
});

describe('Kafka listener', () => {
  async function kafkaProduce(parts: Array<{ partition: number; batch: Buffer }>): Promise<Array<{ index: number; errorCode: number; baseOffset: number }>> {
    const wire = await KafkaWire.connect(shared.kafka());
    const body = await wire.request(ApiKeys.Produce, 7, {
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic, partitionData: parts.map(({ partition, batch }) => ({ index: partition, records: batch })) }],
    });
    await wire.close();
    return body.responses[0]!.partitionResponses;
  }

  it('a control batch: INVALID_RECORD (87), as Kafka answers; the other partition stored', async () => {
    expect(KafkaErrors.INVALID_RECORD).toBe(87);
    const good = goodBatch(1);
    const [refused, accepted] = await kafkaProduce([
      { partition: 0, batch: batchWith(Attributes.CONTROL) },
      { partition: 1, batch: good.batch },
    ]);
    expect(refused).toMatchObject({ index: 0, errorCode: KafkaErrors.INVALID_RECORD, baseOffset: -1 });
    expect(accepted).toMatchObject({ index: 1, errorCode: KafkaErrors.NONE, baseOffset: stored[1]!.length });
    stored[1]!.push(good.value);
    const client = await RawClient.connect(shared.broker().port);
    await expectOnlyGoodRecordsStored(client);
    await client.close();
  });

  it('a transactional batch without a transactional id: TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53) on every partition, nothing stored', async () => {
    expect(KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED).toBe(53);
    const answers = await kafkaProduce([
      { partition: 0, batch: goodBatch(0).batch },
      { partition: 1, batch: batchWith(Attributes.TRANSACTIONAL) },
    ]);
    expect(answers).toEqual([
      expect.objectContaining({ index: 0, errorCode: KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, baseOffset: -1 }),
      expect.objectContaining({ index: 1, errorCode: KafkaErrors.TRANSACTIONAL_ID_AUTHORIZATION_FAILED, baseOffset: -1 }),
    ]);
    const client = await RawClient.connect(shared.broker().port);
    await expectOnlyGoodRecordsStored(client);
    await client.close();
  });
});
