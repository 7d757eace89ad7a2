// Proves the consumer surfaces partition errors instead of hanging or stopping silently.
// Offline: an in-process broker whose injected storage fs fails writes to one partition
// with ENOSPC; the consumer's onFetchError listener is told NOT_ENOUGH_SPACE naming topic,
// partition and offset, it keeps retrying that partition without failing the reader, and
// the healthy partition is still read. Poison: a batch with a valid CRC and garbage
// records is written into the segment file of a stopped child broker, which is then
// restarted; the iterator (and run()) reject with a CORRUPT_MESSAGE PartitionFetchError
// naming the batch's offsets and its nextOffset, later data of the partition is not
// delivered past it, and after seek({ offset: nextOffset }) the later records are read.
// A non-retriable error the broker answers for one partition (UNKNOWN_PARTITION) stops
// that partition only: the reader gets the data fetched before it, then the error.

import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startBroker as startInProcess, silentLogger } from '../../src/broker/index.js';
import { Client, PartitionFetchError, type ConsumedMessage } from '../../src/client/index.js';
import { BatchLayout, crc32c } from '../../src/records/index.js';
import { nodeStorageFs, type StorageFs } from '../../src/storage/index.js';
import { randomTopic, startBroker, tempDir, waitFor } from '../helpers/broker.js';
import { take } from '../helpers/take.js';

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

function clientFor(address: string): Client {
  // Short backoffs: the failing produce and the consumer's retries of the offline partition are quick.
  const client = new Client({ brokers: [address], retry: { initialRetryTimeMs: 20, maxRetryTimeMs: 100 } });
  cleanups.push(() => client.close());
  return client;
}

const values = (messages: ConsumedMessage[]): string[] => messages.map((message) => message.value!.toString());

describe('offline partition', () => {
  it('reports NOT_ENOUGH_SPACE with topic, partition and offset, keeps retrying, and reads the healthy partition', async () => {
    const topic = randomTopic();
    let diskFull = false;
    const pathOf = new Map<number, string>();
    const fs: StorageFs = {
      ...nodeStorageFs,
      openSync(path, flags) {
        const fd = nodeStorageFs.openSync(path, flags);
        pathOf.set(fd, path);
        return fd;
      },
      writeSync(fd, buffer, offset, length, position) {
        if (diskFull && (pathOf.get(fd) ?? '').includes(`${topic}-0`)) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
        return nodeStorageFs.writeSync(fd, buffer, offset, length, position);
      },
    };
    const dataDir = tempDir();
    const broker = await startInProcess({ dataDir, port: 0, fsync: { kind: 'never' }, logger: silentLogger, storageFs: fs });
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    cleanups.push(() => broker.close());
    const client = clientFor(`127.0.0.1:${broker.port}`);
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'before', partition: 0 }] });
    diskFull = true;
    await expect(producer.send({ topic, messages: [{ value: 'lost', partition: 0 }] })).rejects.toMatchObject({ code: 'NOT_ENOUGH_SPACE' });

    const consumer = client.consumer({ maxWaitMs: 100 });
    cleanups.push(() => consumer.close());
    const errors: PartitionFetchError[] = [];
    consumer.onFetchError((error) => errors.push(error));
    await consumer.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 1, offset: 0 },
    ]);
    const received = take(consumer, 1);
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(PartitionFetchError);
    expect(errors[0]).toMatchObject({ code: 'NOT_ENOUGH_SPACE', retriable: true, topic, partition: 0, offset: 0 });
    // The reader is not failed: the other partition is still read.
    await producer.send({ topic, messages: [{ value: 'healthy', partition: 1 }] });
    expect(values(await received)).toEqual(['healthy']);
    expect(errors.length).toBe(1); // once per episode, not once per retry
    await producer.close();
  });
});

describe('non-retriable partition error from the broker', () => {
  it('stops that partition only and rejects the reader after the data fetched before it', async () => {
    const broker = await startBroker({ args: ['--fsync', 'never'] });
    cleanups.push(() => broker.cleanup());
    cleanups.push(() => broker.stop());
    const client = clientFor(broker.address);
    const topic = randomTopic();
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer({ lingerMs: 0 });
    await producer.send({ topic, messages: [{ value: 'first', partition: 0 }] });
    const consumer = client.consumer({ maxWaitMs: 100 });
    cleanups.push(() => consumer.close());
    const reported: PartitionFetchError[] = [];
    consumer.onFetchError((error) => reported.push(error));
    // Partition 7 does not exist: the broker answers UNKNOWN_PARTITION for it alone.
    await consumer.assign([
      { topic, partition: 0, offset: 0 },
      { topic, partition: 7, offset: 0 },
    ]);
    const seen: string[] = [];
    let failure: unknown;
    try {
      for await (const message of consumer) seen.push(message.value!.toString());
    } catch (error) {
      failure = error;
    }
    expect(seen).toEqual(['first']);
    expect(failure).toBeInstanceOf(PartitionFetchError);
    expect(failure).toMatchObject({ code: 'UNKNOWN_PARTITION', topic, partition: 7, offset: 0, nextOffset: null });
    expect(reported).toEqual([failure]);
    // The healthy partition is still fetched: a new loop reads what comes next.
    await producer.send({ topic, messages: [{ value: 'second', partition: 0 }] });
    expect(values(await take(consumer, 1))).toEqual(['second']);
    await producer.close();
  });
});

/** Rewrites the records of the batch at `position` of a segment file with garbage, keeping its CRC valid. */
function poisonBatch(segmentPath: string, position: number): void {
  const bytes = readFileSync(segmentPath);
  const batchEnd = position + 12 + bytes.readInt32BE(position + BatchLayout.BATCH_LENGTH);
  bytes.fill(0xff, position + BatchLayout.RECORDS, batchEnd);
  bytes.writeUInt32BE(crc32c(bytes, position + BatchLayout.ATTRIBUTES, batchEnd), position + BatchLayout.CRC);
  writeFileSync(segmentPath, bytes);
}

describe('poison batch', () => {
  it('throws CORRUPT_MESSAGE naming the offsets; seek to nextOffset skips it and later records are read', async () => {
    const first = await startBroker({ args: ['--fsync', 'never'] });
    cleanups.push(() => first.cleanup());
    const topic = randomTopic();
    {
      const client = new Client({ brokers: [first.address] });
      await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
      const producer = client.producer({ lingerMs: 0 });
      // One send per batch: offsets 0-1, 2-3 (to be poisoned), 4-5.
      for (const value of ['a', 'b', 'c']) await producer.send({ topic, messages: [{ value: `${value}0`, partition: 0 }, { value: `${value}1`, partition: 0 }] });
      await producer.close();
      await client.close();
    }
    await first.stop();
    const segment = join(first.dataDir, `${topic}-0`, '00000000000000000000.log');
    const stored = readFileSync(segment);
    const secondBatchAt = 12 + stored.readInt32BE(BatchLayout.BATCH_LENGTH);
    poisonBatch(segment, secondBatchAt);

    const broker = await startBroker({ dataDir: first.dataDir, args: ['--fsync', 'never'] });
    cleanups.push(() => broker.stop());
    const client = clientFor(broker.address);
    const consumer = client.consumer({ maxWaitMs: 100 });
    cleanups.push(() => consumer.close());
    const reported: PartitionFetchError[] = [];
    consumer.onFetchError((error) => reported.push(error));
    await consumer.assign([{ topic, partition: 0, offset: 0 }]);

    const seen: string[] = [];
    let failure: unknown;
    try {
      for await (const message of consumer) seen.push(message.value!.toString());
    } catch (error) {
      failure = error;
    }
    expect(seen).toEqual(['a0', 'a1']);
    expect(failure).toBeInstanceOf(PartitionFetchError);
    const error = failure as PartitionFetchError;
    expect(error).toMatchObject({ code: 'CORRUPT_MESSAGE', topic, partition: 0, offset: 2, nextOffset: 4 });
    expect(error.message).toContain(`${topic}/0`);
    expect(error.message).toContain('2..3');
    expect(reported).toEqual([error]);

    // Not skipped silently: without a seek the partition stays stopped (a later read waits).
    await consumer.seek({ topic, partition: 0, offset: error.nextOffset! });
    expect(values(await take(consumer, 2))).toEqual(['c0', 'c1']);
  });
});
