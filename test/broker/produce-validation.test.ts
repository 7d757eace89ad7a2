// Proves the broker refuses, on produce, batches whose CRC is valid but whose records a
// reader could not decode (and the other produce rules: offset deltas, timestamps), against
// a real broker process over TCP: each gets its named error code, nothing of that
// partition is stored, another partition of the same request is stored, and a consumer
// reading from offset 0 afterwards decodes everything.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { Errors } from '../../src/util/errors.js';
import { startBroker, randomTopic, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { compressRecords } from '../../src/records/compression.js';
import { XERIAL_MAGIC } from '../../src/records/codecs/snappy.js';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { craftBatch, encodeRecords } from '../records/craft.js';
import { readHexFixture } from '../records/helpers.js';
import { batchOf, recordsOf } from './records.js';

let broker: BrokerProcess;
let client: RawClient;
let topic: string;
let produced = 0;

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never'] });
  client = await RawClient.connect(broker.port);
  topic = randomTopic();
  expect((await client.createTopic(topic, 2, { 'message.timestamp.difference.max.ms': 3_600_000 })).topics[0]!.errorCode).toBe(0);
});

afterAll(async () => {
  await client?.close();
  expect(await broker.stop()).toBe(0);
  broker.cleanup();
});

async function produceRaw(parts: Array<{ partition: number; batch: Buffer }>): Promise<M.ProducePartitionResult[]> {
  const response = await client.request<M.ProduceResponse>(
    ApiKey.Produce,
    { acks: -1, timeoutMs: 1000, partitions: parts.map(({ partition, batch }) => ({ topic, partition, size: batch.length })) },
    parts.map(({ batch }) => batch),
  );
  return response.header.partitions;
}

async function expectPartitionZeroIntact(): Promise<void> {
  const good = await client.produce(topic, 0, batchOf([`good-${produced}`]));
  expect(good.baseOffset).toBe(produced);
  produced++;
  const { parts } = await client.fetch([{ topic, partition: 0, offset: 0 }]);
  expect(recordsOf(parts[0]!)).toEqual(Array.from({ length: produced }, (_, i) => ({ offset: i, value: `good-${i}` })));
}

describe('produce validates records, not only the header and CRC', () => {
  const now = Date.now();
  const cases: Array<[string, Buffer, string]> = [
    ['garbage records under a valid CRC', craftBatch(Buffer.alloc(40, 0xff), { recordCount: 2, baseTimestamp: now }), 'CORRUPT_MESSAGE'],
    ['gzip garbage under a valid CRC', craftBatch(Buffer.alloc(40, 0xff), { recordCount: 2, codec: 1, baseTimestamp: now }), 'CORRUPT_MESSAGE'],
    ['offset deltas 1, 2', craftBatch(encodeRecords([{ offsetDelta: 1 }, { offsetDelta: 2 }]), { recordCount: 2, baseTimestamp: now }), 'INVALID_RECORD'],
    ['gzip claiming 2^31 - 1 records', craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 2 ** 31 - 1, codec: 1, baseTimestamp: now }), 'INVALID_RECORD'],
    ['a negative timestamp', craftBatch(encodeRecords([{ offsetDelta: 0, timestampDelta: -10 }]), { recordCount: 1, baseTimestamp: 5 }), 'INVALID_TIMESTAMP'],
    ['a timestamp 2 h off (topic allows 1 h)', craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 1, baseTimestamp: now - 7_200_000 }), 'INVALID_TIMESTAMP'],
  ];
  for (const [name, batch, code] of cases) {
    it(`${name}: ${code}, nothing stored`, async () => {
      const [result] = await produceRaw([{ partition: 0, batch }]);
      expect(result).toMatchObject({ errorCode: Errors[code as keyof typeof Errors].code, baseOffset: -1 });
      expect(result!.errorMessage).toBeTruthy();
      await expectPartitionZeroIntact();
    });
  }

  it('per partition: a bad partition stores nothing, a good one in the same request is stored', async () => {
    const bad = craftBatch(encodeRecords([{ offsetDelta: 3 }]), { recordCount: 1, baseTimestamp: Date.now() });
    const [first, second] = await produceRaw([
      { partition: 0, batch: bad },
      { partition: 1, batch: batchOf(['other']) },
    ]);
    expect(first!.errorCode).toBe(Errors.INVALID_RECORD.code);
    expect(second).toMatchObject({ errorCode: 0, baseOffset: 0 });
    await expectPartitionZeroIntact();
  });
});

describe('produce accepts every codec Kafka clients write', () => {
  it('snappy (raw and xerial), lz4 and zstd batches are stored and read back', async () => {
    // The 20-record section the CLI-made fixtures hold (see test/records/codecs.test.ts).
    const records = Array.from({ length: 20 }, (_, i) => ({ key: `key-${i % 4}`, value: `value ${i} `.repeat(8), headers: { n: String(i) }, timestamp: Date.now() }));
    const plain = encodeBatch(records);
    const section = plain.subarray(61);
    const fromFixture = (codec: number, name: string): Buffer => {
      const compressed = readHexFixture(name);
      // The fixture's records carry fixed 2023 timestamps; the topic allows 1 h of skew.
      return craftBatch(section, { recordCount: 20, codec, compress: () => compressed, baseTimestamp: 1_700_000_000_000 });
    };
    const skewFree = randomTopic();
    expect((await client.createTopic(skewFree, 1)).topics[0]!.errorCode).toBe(0);
    const block = compressRecords(2, section);
    const xerialLength = Buffer.alloc(4);
    xerialLength.writeInt32BE(block.length);
    const xerial = Buffer.concat([XERIAL_MAGIC, Buffer.from('0000000100000001', 'hex'), xerialLength, block]);
    const batches = [
      encodeBatch(records, { compression: 'snappy' }),
      craftBatch(section, { recordCount: 20, codec: 2, compress: () => xerial, baseTimestamp: 1_700_000_000_000 }),
      encodeBatch(records, { compression: 'lz4' }),
      fromFixture(3, 'lz4-frame-section.hex'),
      fromFixture(4, 'zstd-streaming-section.hex'),
    ];
    for (const batch of batches) await client.produce(skewFree, 0, batch);
    const { parts } = await client.fetch([{ topic: skewFree, partition: 0, offset: 0 }]);
    const values: string[] = [];
    for (let at = 0; at < parts[0]!.length; ) {
      const decoded = decodeBatch(parts[0]!, at, { verifyCrc: true });
      values.push(...decoded.records.map((r) => r.value!.toString()));
      at += decoded.header.totalBytes;
    }
    expect(values).toEqual(batches.flatMap(() => records.map((r) => r.value)));
  });
});
