// Proves, through a broker over the native protocol, that an idempotent producer's retry of
// its last batch is still answered as a duplicate (same offsets, nothing written) after the
// log cleaner compacted every record of that producer away and the broker restarted with
// its producer state rebuilt from the batch headers (the snapshot removed, as after a crash
// before it was written), and that the producer's next sequence is accepted. The broker runs
// in this process (port 0, temp dir, fsync never) so the test can run one cleaning pass;
// a RawClient sends the frames.

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker, silentLogger, type Broker } from '../../src/broker/index.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { encodeBatch, setProducerFields } from '../../src/records/index.js';
import { compactPartition } from '../../src/storage/compaction.js';
import { nodeStorageFs } from '../../src/storage/fs.js';
import type { PartitionLogImpl } from '../../src/storage/index.js';
import { PRODUCER_SNAPSHOT_FILE } from '../../src/storage/producer-state.js';
import { randomTopic, tempDir, waitFor } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

const dataDir = tempDir();
let broker: Broker | undefined;
let raw: RawClient | undefined;

afterEach(async () => {
  raw?.socket.destroy();
  await broker?.close();
  broker = undefined;
  rmSync(dataDir, { recursive: true, force: true });
});

async function up(): Promise<RawClient> {
  broker = await startBroker({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger });
  raw = await RawClient.connect(broker.port);
  return raw;
}

async function produce(client: RawClient, topic: string, bytes: Buffer): Promise<M.ProducePartitionResult> {
  const response = await client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 5000, partitions: [{ topic, partition: 0, size: bytes.length }] }, bytes);
  return response.header.partitions[0]!;
}

function batch(values: Array<[string, string]>, producer?: { id: number; sequence: number }): Buffer {
  const bytes = Buffer.from(encodeBatch(values.map(([key, value]) => ({ key, value }))));
  if (producer) setProducerFields(bytes, 0, producer.id, 0, producer.sequence);
  return bytes;
}

describe('idempotent produce after compaction', () => {
  it('answers a retry of the last batch as a duplicate after compaction and a restart without snapshot', async () => {
    let client = await up();
    const topic = randomTopic('idem-compact');
    // A tiny segment.bytes: every batch rolls into a segment of its own, so each is cleanable.
    const created = await client.request<M.CreateTopicsResponse>(ApiKey.CreateTopics, { topics: [{ name: topic, partitions: 1, config: { 'cleanup.policy': 'compact', 'segment.bytes': 128 } }] });
    expect(created.header.topics[0]!.errorCode).toBe(0);
    const init = await client.request<M.InitProducerIdResponse>(ApiKey.InitProducerId, {});
    const producerId = init.header.producerId;
    const sent: Array<{ bytes: Buffer; baseOffset: number }> = [];
    for (let sequence = 0; sequence < 6; sequence += 2) {
      const bytes = batch([['k', `v${sequence}`], ['j', `w${sequence}`]], { id: producerId, sequence });
      const answer = await produce(client, topic, bytes);
      expect(answer.errorCode).toBe(0);
      sent.push({ bytes, baseOffset: answer.baseOffset });
    }
    // Plain writes shadow every record of the producer; one more so those sit in closed segments.
    expect(await produce(client, topic, batch([['k', 'plain'], ['j', 'plain']]))).toMatchObject({ errorCode: 0, baseOffset: 6 });
    expect(await produce(client, topic, batch([['z', 'last']]))).toMatchObject({ errorCode: 0, baseOffset: 8 });
    const log = broker!.context.logs.getPartition(topic, 0) as PartitionLogImpl;
    await waitFor(() => log.recoveryPoint() >= 8);
    const result = await compactPartition(log, nodeStorageFs, Date.now());
    expect(result.recordsRemoved).toBe(6);

    raw!.socket.destroy();
    await broker!.close();
    rmSync(join(dataDir, `${topic}-0`, PRODUCER_SNAPSHOT_FILE));
    client = await up();
    const last = sent.at(-1)!;
    expect(await produce(client, topic, last.bytes)).toMatchObject({ errorCode: 0, baseOffset: last.baseOffset });
    expect(await produce(client, topic, batch([['k', 'next']], { id: producerId, sequence: 6 }))).toMatchObject({ errorCode: 0, baseOffset: 9 });
  }, 30_000);
});
