// Proves the broker side of the idempotent producer over the native protocol: InitProducerId
// hands out distinct ids that stay distinct after a restart (the durable counter); the same
// batch sent twice (same producer id, epoch and sequence, as a retry after a lost answer
// would) is stored once and both answers carry the same offsets, also after a graceful
// restart and after kill -9 (state rebuilt from the snapshot or the batch headers); a gap in
// sequences is answered OUT_OF_ORDER_SEQUENCE_NUMBER and an older epoch INVALID_PRODUCER_EPOCH.
// A spool broker child process on port 0 with a temp dir; a RawClient sends the frames.

import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { encodeBatch, setProducerFields } from '../../src/records/index.js';
import { Errors } from '../../src/util/errors.js';
import { randomTopic, startBroker, tempDir, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: BrokerProcess | undefined;
let raw: RawClient | undefined;
const dataDir = tempDir();

afterEach(async () => {
  raw?.socket.destroy();
  await broker?.stop();
  broker = undefined;
});

async function up(): Promise<RawClient> {
  raw?.socket.destroy();
  broker = await startBroker({ dataDir });
  raw = await RawClient.connect(broker.port);
  return raw;
}

function batch(producerId: number, epoch: number, sequence: number, records = 3): Buffer {
  const inputs = [];
  for (let i = 0; i < records; i++) inputs.push({ key: `k${sequence + i}`, value: `v${sequence + i}` });
  const bytes = Buffer.from(encodeBatch(inputs));
  setProducerFields(bytes, 0, producerId, epoch, sequence);
  return bytes;
}

async function produce(client: RawClient, topic: string, bytes: Buffer): Promise<M.ProducePartitionResult> {
  const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 5000, partitions: [{ topic, partition: 0, size: bytes.length }] }, bytes);
  return response.header.partitions[0]!;
}

async function initProducerId(client: RawClient): Promise<number> {
  const response = await client.request<M.InitProducerIdResponse>(ApiKey.InitProducerId, {});
  expect(response.header.errorCode).toBe(0);
  expect(response.header.producerEpoch).toBe(0);
  return response.header.producerId;
}

describe('idempotent produce (native)', () => {
  it('dedups retries, refuses gaps and old epochs, and keeps both across restarts', async () => {
    let client = await up();
    const topic = randomTopic('idem');
    await client.request(ApiKey.CreateTopics, { topics: [{ name: topic, partitions: 1 }] });
    const first = await initProducerId(client);
    const second = await initProducerId(client);
    expect(second).not.toBe(first);
    const transactional = await client.request<M.InitProducerIdResponse>(ApiKey.InitProducerId, { transactionalId: 'tx' });
    expect(transactional.header.errorCode).toBe(Errors.INVALID_REQUEST.code);

    const original = await produce(client, topic, batch(first, 0, 0));
    expect(original).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(client, topic, batch(first, 0, 0))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(client, topic, batch(first, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    expect(await produce(client, topic, batch(first, 0, 9))).toMatchObject({ errorCode: Errors.OUT_OF_ORDER_SEQUENCE_NUMBER.code });
    expect(await produce(client, topic, batch(second, 0, 0))).toMatchObject({ errorCode: 0, baseOffset: 6 });

    // Graceful restart: the snapshot carries the state; producer ids keep growing.
    await broker!.stop();
    client = await up();
    expect(await produce(client, topic, batch(first, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 3 });
    const third = await initProducerId(client);
    expect(third).toBeGreaterThan(second);
    expect(await produce(client, topic, batch(first, 1, 0))).toMatchObject({ errorCode: 0, baseOffset: 9 });
    expect(await produce(client, topic, batch(first, 0, 6))).toMatchObject({ errorCode: Errors.INVALID_PRODUCER_EPOCH.code });

    // kill -9: the batch headers after the last snapshot are replayed.
    expect(await produce(client, topic, batch(second, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 12 });
    await broker!.kill();
    client = await up();
    expect(await produce(client, topic, batch(second, 0, 3))).toMatchObject({ errorCode: 0, baseOffset: 12 });
    expect(await produce(client, topic, batch(first, 1, 0))).toMatchObject({ errorCode: 0, baseOffset: 9 });
    // An id handed out before the kill is never handed out again.
    expect(await initProducerId(client)).toBeGreaterThan(third);
    const latest = await client.request<M.ListOffsetsResponse>(ApiKey.ListOffsets, { partitions: [{ topic, partition: 0, timestamp: -1 }] });
    expect(latest.header.partitions[0]).toMatchObject({ offset: 15 });
    await broker!.stop();
    broker!.cleanup();
  }, 60_000);
});
