// Proves bad input on the Kafka port never crashes the broker, never touches a log and
// never wedges a connection: against a real broker process (--kafka-listener on 127.0.0.1
// port 0, --max-request-bytes 1 MiB), raw frames built with the codec's encodeRequest and
// mutated by hand go over a plain net.Socket: truncated frames, unknown api keys and
// versions, lying and negative/huge size prefixes, garbage in tagged fields and after a
// valid header, Produce with a corrupt CRC or records that are null or not a batch, a
// Produce, Fetch, CreateTopics or CreatePartitions naming a partition or topic twice, a
// Metadata naming 10,000 topics, acks=0 produce (and its failure), requests pipelined behind
// one that closes the connection (they must not run). Each gets a
// Kafka error code where the client can still be told (in the API's own schema, or the
// front's bare `correlationId errorCode` answer) or a closed connection where the stream
// cannot be trusted. After each: a fresh ApiVersions and Metadata round trip works, a new
// produce lands on every partition at the next offset (none is offline), and every log
// reads back whole, byte for byte (batches via Kafka Fetch, records via the native SDK).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeys, KafkaErrors, decodeResponse } from '../../src/kafka/index.js';
import { encodeBatch, forEachBatch } from '../../src/records/index.js';
import { randomTopic } from '../helpers/broker.js';
import { take } from '../helpers/take.js';
import { run, useKafkaBroker } from './helpers.js';
import { bareError, KafkaWire } from './raw-kafka.js';

const MAX_REQUEST_BYTES = 1024 * 1024;
const PARTITIONS = 2;
/** Short, so the lying-length case that waits for it stays fast; every other frame here completes at once. */
const REQUEST_READ_TIMEOUT_MS = 1500;

interface Sent {
  key: string;
  value: string;
  timestamp: number;
  header: string;
}

const shared = useKafkaBroker(['--fsync', 'never', '--max-request-bytes', String(MAX_REQUEST_BYTES), '--request-read-timeout-ms', String(REQUEST_READ_TIMEOUT_MS)]);
let topic: string;
/** Per partition: what was acknowledged, in offset order, and the batches as sent. */
const stored: Array<{ records: Sent[]; batches: Buffer[] }> = Array.from({ length: PARTITIONS }, () => ({ records: [], batches: [] }));
let sequence = 0;

function goodBatch(count = 3): { batch: Buffer; records: Sent[] } {
  const records = Array.from({ length: count }, () => {
    const n = sequence++;
    return { key: `k${n}`, value: `value-${n}-\u00e9`, timestamp: Date.UTC(2026, 0, 1) + n, header: `h${n}` };
  });
  const batch = encodeBatch(records.map((r) => ({ key: r.key, value: r.value, timestamp: r.timestamp, headers: { trace: r.header } })));
  return { batch, records };
}

/** A batch nobody may store: produced by the bad cases, never in any log. */
function poisonBatch(): Buffer {
  return encodeBatch([{ key: 'poison', value: 'must never be stored' }]);
}

async function produceGood(wire: KafkaWire, partition: number): Promise<void> {
  const { batch, records } = goodBatch();
  const body = await wire.request(ApiKeys.Produce, 7, { acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records: batch }] }] });
  const answer = body.responses[0]!.partitionResponses[0]!;
  expect(answer).toMatchObject({ index: partition, errorCode: KafkaErrors.NONE, baseOffset: stored[partition]!.records.length });
  stored[partition]!.records.push(...records);
  stored[partition]!.batches.push(batch);
}

beforeAll(async () => {
  topic = randomTopic('kafka-bad');
  await shared.client().admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
  const wire = await KafkaWire.connect(shared.kafka());
  for (let partition = 0; partition < PARTITIONS; partition++) await produceGood(wire, partition);
  await wire.close();
});

afterAll(() => {
  // Nothing above may have been a bug: no handler failure, no assertion (which would exit).
  expect(shared.broker().stderr()).not.toMatch(/with a bug|dispatch rejected|encoding a response failed|AssertionError/);
});

/**
 * The broker still serves and every log is as acknowledged: a fresh connection gets
 * ApiVersions and Metadata, produces to every partition at the next offset, and reads every
 * partition back: the batches byte for byte (from the batch length on; the broker writes
 * baseOffset and may write the leader epoch) and the records through the native SDK.
 */
async function expectIntact(): Promise<void> {
  expect(shared.broker().child.exitCode).toBeNull();
  const wire = await KafkaWire.connect(shared.kafka());
  const versions = await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'bad-input', clientSoftwareVersion: '1' });
  expect(versions.errorCode).toBe(KafkaErrors.NONE);
  const metadata = await wire.request(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
  expect(metadata.topics).toHaveLength(1);
  expect(metadata.topics[0]!.errorCode).toBe(KafkaErrors.NONE);
  expect(metadata.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.leaderId])).toEqual(
    Array.from({ length: PARTITIONS }, (_, i) => [i, KafkaErrors.NONE, 0]),
  );
  for (let partition = 0; partition < PARTITIONS; partition++) await produceGood(wire, partition);

  const fetched = await wire.request(ApiKeys.Fetch, 11, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 16 * 1024 * 1024,
    topics: [{ topic, partitions: Array.from({ length: PARTITIONS }, (_, partition) => ({ partition, fetchOffset: 0, partitionMaxBytes: 8 * 1024 * 1024 })) }],
  });
  for (const partition of fetched.responses[0]!.partitions) {
    const expected = stored[partition.partitionIndex]!;
    expect(partition.errorCode).toBe(KafkaErrors.NONE);
    expect(partition.highWatermark).toBe(expected.records.length);
    const records = Buffer.isBuffer(partition.records) ? partition.records : Buffer.concat(partition.records ?? []);
    const batches: Buffer[] = [];
    forEachBatch(records, (header, position) => batches.push(records.subarray(position, position + 12 + header.batchLength)));
    expect(batches.map((b) => b.subarray(8, 12).toString('hex') + b.subarray(16).toString('hex'))).toEqual(
      expected.batches.map((b) => b.subarray(8, 12).toString('hex') + b.subarray(16).toString('hex')),
    );
  }
  await wire.close();

  const consumer = shared.client().consumer({ autoOffsetReset: 'earliest' });
  try {
    await consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    const total = stored.reduce((sum, p) => sum + p.records.length, 0);
    const messages = await take(consumer, total);
    for (let partition = 0; partition < PARTITIONS; partition++) {
      const read = messages.filter((m) => m.partition === partition);
      expect(
        read.map((m) => ({ offset: m.offset, key: m.key?.toString(), value: m.value?.toString(), timestamp: m.timestamp, header: m.headers['trace']?.toString() })),
      ).toEqual(stored[partition]!.records.map((r, offset) => ({ offset, ...r })));
    }
  } finally {
    await consumer.close();
  }
}

/** Waits for the broker to close `wire` and returns the frames it wrote first. */
async function closedWith(wire: KafkaWire): Promise<Buffer[]> {
  await wire.closed;
  return wire.frames;
}

function sizePrefix(size: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(size >>> 0);
  return bytes;
}

describe('frames the stream cannot be trusted after: the connection closes', () => {
  it('a truncated frame, then the client goes away: nothing stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { bytes } = wire.frame(ApiKeys.Produce, 7, { acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    wire.write(bytes.subarray(0, bytes.length - 7));
    // The broker has the bytes before the client goes away (an ApiVersions on another
    // connection is answered after the socket delivered ours: same event loop, in order).
    await (await KafkaWire.connect(shared.kafka())).request(ApiKeys.ApiVersions, 0, {}).catch(() => null);
    wire.destroy();
    await wire.closed;
    expect(wire.frames).toHaveLength(0);
    await expectIntact();
  });

  it('a frame too short for a request header: closed, no answer', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    wire.write(Buffer.concat([sizePrefix(6), Buffer.from('001200000001', 'hex')]));
    expect(await closedWith(wire)).toHaveLength(0);
    await expectIntact();
  });

  it('a header whose clientId length runs past the frame: closed, no answer', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { bytes } = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    bytes.writeInt16BE(0x7000, 12);
    wire.write(bytes);
    expect(await closedWith(wire)).toHaveLength(0);
    await expectIntact();
  });

  it('an api key Kafka does not have (1000, -1): closed, no answer', async () => {
    for (const apiKey of [1000, -1]) {
      const wire = await KafkaWire.connect(shared.kafka());
      const { bytes } = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
      bytes.writeInt16BE(apiKey, 4);
      wire.write(bytes);
      expect(await closedWith(wire)).toHaveLength(0);
    }
    await expectIntact();
  });

  it('HTTP on the Kafka port: the "size" is far over the limit, closed at once', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    wire.write(Buffer.from('GET / HTTP/1.1\r\nHost: spool\r\n\r\n'));
    expect(await closedWith(wire)).toHaveLength(0);
    await expectIntact();
  });

  it('a size prefix that is negative, zero, or over --max-request-bytes: closed before any body arrives', async () => {
    for (const size of [-1, -2147483648, 0, MAX_REQUEST_BYTES + 1, 0x7fffffff]) {
      const wire = await KafkaWire.connect(shared.kafka());
      // Only the size: the broker decides on it alone, without waiting for (or allocating) the body.
      wire.write(sizePrefix(size));
      expect(await closedWith(wire)).toHaveLength(0);
    }
    expect(shared.broker().stderr()).toMatch(/larger than the limit/);
    await expectIntact();
  });

  it('a lying length (larger than what follows), then the client goes away: nothing stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { bytes } = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 1, records: poisonBatch() }] }] });
    bytes.writeInt32BE(bytes.length - 4 + 500, 0);
    wire.write(bytes);
    await (await KafkaWire.connect(shared.kafka())).request(ApiKeys.ApiVersions, 0, {});
    wire.destroy();
    await wire.closed;
    expect(wire.frames).toHaveLength(0);
    await expectIntact();
  });

  it('a lying length, then the client sends more: the requests swallowed are never answered or run, and the connection closes', async () => {
    // The first frame's size also covers a Produce that follows it; that Produce is then a
    // tail of the first frame, not a request, and whatever comes next is read from the
    // middle of a frame. Nothing swallowed may run, and the connection must not be left
    // waiting forever on a size read from the middle of a frame.
    const wire = await KafkaWire.connect(shared.kafka());
    const first = wire.frame(ApiKeys.ApiVersions, 0, {});
    const swallowed = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    const after = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    first.bytes.writeInt32BE(first.bytes.length - 4 + swallowed.bytes.length - 9, 0);
    wire.write(Buffer.concat([first.bytes, swallowed.bytes, after.bytes]));
    const frames = await closedWith(wire);
    for (const frame of frames) expect(frame.readInt32BE(0)).not.toBe(swallowed.correlationId);
    await expectIntact();
  });

  it('a lying length that swallows exactly the next request: that request never runs (its bytes are the first one\'s tail, ignored as Kafka does), the stream goes on', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const first = wire.frame(ApiKeys.ApiVersions, 0, {});
    const swallowed = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    first.bytes.writeInt32BE(first.bytes.length - 4 + swallowed.bytes.length, 0);
    wire.write(Buffer.concat([first.bytes, swallowed.bytes]));
    const answer = decodeResponse(ApiKeys.ApiVersions, 0, (await wire.next())!);
    expect(answer.correlationId).toBe(first.correlationId);
    expect((await wire.request(ApiKeys.Metadata, 1, { topics: [{ name: topic }] })).topics[0]!.errorCode).toBe(KafkaErrors.NONE);
    expect(wire.frames.map((frame) => frame.readInt32BE(0))).not.toContain(swallowed.correlationId);
    await wire.close();
    await expectIntact();
  });

  it('a lying length, then more bytes that still do not complete it and silence: closed by the request read timeout, nothing run', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const first = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    const more = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    first.bytes.writeInt32BE(first.bytes.length - 4 + 4096, 0);
    wire.write(first.bytes);
    wire.write(more.bytes);
    const startedMs = Date.now();
    expect(await closedWith(wire)).toHaveLength(0);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(REQUEST_READ_TIMEOUT_MS - 200);
    expect(shared.broker().stderr()).toMatch(/was not completed within/);
    await expectIntact();
  });
});

describe('unknown api keys and versions', () => {
  it('a known key at a version not served (Metadata v10, Produce v2, Fetch v13): bare UNSUPPORTED_VERSION, then closed', async () => {
    for (const [apiKey, apiVersion] of [
      [ApiKeys.Metadata, 10],
      [ApiKeys.Produce, 2],
      [ApiKeys.Fetch, 13],
      [ApiKeys.Fetch, -1],
    ] as const) {
      const wire = await KafkaWire.connect(shared.kafka());
      const { bytes, correlationId } = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
      bytes.writeInt16BE(apiKey, 4);
      bytes.writeInt16BE(apiVersion, 6);
      wire.write(bytes);
      const frames = await closedWith(wire);
      expect(frames.map(bareError)).toEqual([{ correlationId, errorCode: KafkaErrors.UNSUPPORTED_VERSION }]);
    }
    await expectIntact();
  });

  it('a Kafka api spool does not serve (AddPartitionsToTxn, key 24) and an unassigned key (99): bare UNSUPPORTED_VERSION, then closed', async () => {
    for (const apiKey of [24, 99]) {
      const wire = await KafkaWire.connect(shared.kafka());
      const { bytes, correlationId } = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
      bytes.writeInt16BE(apiKey, 4);
      wire.write(bytes);
      expect((await closedWith(wire)).map(bareError)).toEqual([{ correlationId, errorCode: KafkaErrors.UNSUPPORTED_VERSION }]);
    }
    await expectIntact();
  });

  it('ApiVersions v4+ (newer than served): a v0 answer with UNSUPPORTED_VERSION and our table, and the connection stays usable', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    for (const apiVersion of [4, 9]) {
      // A v4 request has header v2 and a flexible body we do not know: the answer must not depend on it.
      const { bytes, correlationId } = wire.frame(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'future', clientSoftwareVersion: '9' });
      bytes.writeInt16BE(apiVersion, 6);
      wire.write(bytes);
      const frame = (await wire.next())!;
      const answer = decodeResponse(ApiKeys.ApiVersions, 0, frame);
      expect(answer.correlationId).toBe(correlationId);
      expect(answer.body.errorCode).toBe(KafkaErrors.UNSUPPORTED_VERSION);
      expect(answer.body.apiKeys.find((api) => api.apiKey === ApiKeys.ApiVersions)).toEqual({ apiKey: ApiKeys.ApiVersions, minVersion: 0, maxVersion: 3 });
      expect(answer.body.apiKeys.find((api) => api.apiKey === ApiKeys.Fetch)).toEqual({ apiKey: ApiKeys.Fetch, minVersion: 4, maxVersion: 12 });
    }
    // KIP-511: the body of a version we do not know is not parsed, so even garbage there gets the same answer.
    const garbled = wire.frame(ApiKeys.ApiVersions, 3, {});
    const bytes = Buffer.concat([garbled.bytes.subarray(0, 4 + 10 + 'bad-input'.length + 1), Buffer.from('ffffffffdeadbeef', 'hex')]);
    bytes.writeInt32BE(bytes.length - 4, 0);
    bytes.writeInt16BE(7, 6);
    wire.write(bytes);
    const fallback = decodeResponse(ApiKeys.ApiVersions, 0, (await wire.next())!);
    expect([fallback.correlationId, fallback.body.errorCode]).toEqual([garbled.correlationId, KafkaErrors.UNSUPPORTED_VERSION]);
    // The client retries at the highest version listed, on the same connection.
    expect((await wire.request(ApiKeys.ApiVersions, 3, { clientSoftwareName: 'future', clientSoftwareVersion: '9' })).errorCode).toBe(KafkaErrors.NONE);
    expect((await wire.request(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false })).topics[0]!.errorCode).toBe(KafkaErrors.NONE);
    expect(wire.isClosed).toBe(false);
    await wire.close();
    await expectIntact();
  });
});

describe('malformed bodies: bare INVALID_REQUEST, then closed', () => {
  /** Sends `bytes` on a new connection and expects the bare INVALID_REQUEST answer, then the close. */
  async function expectInvalidRequest(mutate: (wire: KafkaWire) => { bytes: Buffer; correlationId: number }): Promise<void> {
    const wire = await KafkaWire.connect(shared.kafka());
    const { bytes, correlationId } = mutate(wire);
    wire.write(bytes);
    expect((await closedWith(wire)).map(bareError)).toEqual([{ correlationId, errorCode: KafkaErrors.INVALID_REQUEST }]);
  }

  /** The frame with `tail` in place of its last `cut` bytes, its size fixed to match. */
  function retail(bytes: Buffer, cut: number, tail: Buffer): Buffer {
    const out = Buffer.concat([bytes.subarray(0, bytes.length - cut), tail]);
    out.writeInt32BE(out.length - 4, 0);
    return out;
  }

  it('garbage in the tagged fields of Metadata v9 (request and header v2)', async () => {
    // The body's final tagged-field count claims 200 fields in the 0 bytes left.
    await expectInvalidRequest((wire) => {
      const frame = wire.frame(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
      return { ...frame, bytes: retail(frame.bytes, 1, Buffer.from([0xc8, 0x01])) };
    });
    // A tagged field whose size runs past the frame.
    await expectInvalidRequest((wire) => {
      const frame = wire.frame(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
      return { ...frame, bytes: retail(frame.bytes, 1, Buffer.from([0x01, 0x07, 0x7f, 0x00])) };
    });
    // Header v2's own tagged fields claim more than the frame holds: the header does not
    // parse, so (as Kafka does) the connection closes without an answer.
    {
      const wire = await KafkaWire.connect(shared.kafka());
      const frame = wire.frame(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
      frame.bytes[4 + 10 + 'bad-input'.length] = 0x7f;
      wire.write(frame.bytes);
      expect(await closedWith(wire)).toHaveLength(0);
    }
    // A varint of six bytes as the tagged-field count.
    await expectInvalidRequest((wire) => {
      const frame = wire.frame(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
      return { ...frame, bytes: retail(frame.bytes, 1, Buffer.from([0x81, 0x81, 0x81, 0x81, 0x81, 0x01])) };
    });
    await expectIntact();
  });

  it('garbage in the tagged fields of Fetch v12: a known tag (0, clusterId) whose string overruns its own size', async () => {
    await expectInvalidRequest((wire) => {
      const frame = wire.frame(ApiKeys.Fetch, 12, {
        maxWaitMs: 0,
        minBytes: 0,
        topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }],
      });
      // tag 0, size 1, holding a compact string length of 4 (its 3 bytes would come from outside the field).
      return { ...frame, bytes: retail(frame.bytes, 1, Buffer.from([0x01, 0x00, 0x01, 0x05, 0x41, 0x41, 0x41])) };
    });
    await expectIntact();
  });

  it('an unknown tag in a flexible request is skipped by its size, as Kafka does: answered normally', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const frame = wire.frame(ApiKeys.Metadata, 9, { topics: [{ name: topic }], allowAutoTopicCreation: false });
    wire.write(retail(frame.bytes, 1, Buffer.from([0x01, 0x63, 0x03, 0xde, 0xad, 0xbe])));
    const answer = decodeResponse(ApiKeys.Metadata, 9, (await wire.next())!);
    expect(answer.correlationId).toBe(frame.correlationId);
    expect(answer.body.topics[0]!.errorCode).toBe(KafkaErrors.NONE);
    await wire.close();
  });

  it('garbage after a valid header (Metadata v1, Produce v7, Fetch v11, OffsetCommit v2)', async () => {
    const garbage = Buffer.from('7fffffff7fff7fffffff0102', 'hex');
    for (const make of [
      (wire: KafkaWire) => wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] }),
      (wire: KafkaWire) => wire.frame(ApiKeys.Produce, 7, { acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] }),
      (wire: KafkaWire) => wire.frame(ApiKeys.Fetch, 11, { maxWaitMs: 0, topics: [{ topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1024 }] }] }),
      (wire: KafkaWire) => wire.frame(ApiKeys.OffsetCommit, 2, { groupId: 'g', topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1 }] }] }),
    ]) {
      await expectInvalidRequest((wire) => {
        const frame = make(wire);
        const headerBytes = 4 + 10 + 'bad-input'.length;
        const bytes = Buffer.concat([frame.bytes.subarray(0, headerBytes), garbage]);
        bytes.writeInt32BE(bytes.length - 4, 0);
        return { ...frame, bytes };
      });
    }
    await expectIntact();
  });
});

describe('a request that closes the connection: nothing pipelined after it runs, nothing before it is lost', () => {
  it('good requests, a malformed one, then a Produce, in one write: the good ones answered in order, bare INVALID_REQUEST, closed, the Produce never runs', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { batch, records } = goodBatch();
    const good = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 1, records: batch }] }] });
    const metadata = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    const bad = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    bad.bytes.writeInt32BE(0x7fffffff, 4 + 10 + 'bad-input'.length); // topics count far past the frame
    const after = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    wire.write(Buffer.concat([good.bytes, metadata.bytes, bad.bytes, after.bytes]));
    const frames = await closedWith(wire);
    expect(frames).toHaveLength(3);
    const produced = decodeResponse(ApiKeys.Produce, 7, frames[0]!);
    expect(produced.correlationId).toBe(good.correlationId);
    expect(produced.body.responses[0]!.partitionResponses[0]).toMatchObject({ errorCode: KafkaErrors.NONE, baseOffset: stored[1]!.records.length });
    stored[1]!.records.push(...records);
    stored[1]!.batches.push(batch);
    expect(decodeResponse(ApiKeys.Metadata, 1, frames[1]!).correlationId).toBe(metadata.correlationId);
    expect(bareError(frames[2]!)).toEqual({ correlationId: bad.correlationId, errorCode: KafkaErrors.INVALID_REQUEST });
    await expectIntact();
  });

  it('an unsupported version, then a Produce, in one write: bare UNSUPPORTED_VERSION, closed, the Produce never runs', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const unsupported = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    unsupported.bytes.writeInt16BE(10, 6);
    const after = wire.frame(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: poisonBatch() }] }] });
    wire.write(Buffer.concat([unsupported.bytes, after.bytes]));
    expect((await closedWith(wire)).map(bareError)).toEqual([{ correlationId: unsupported.correlationId, errorCode: KafkaErrors.UNSUPPORTED_VERSION }]);
    await expectIntact();
  });

  it('a failed acks=0 produce, then a Metadata, in one write: closed without a single answer', async () => {
    // The produce's failure is known only once storage's append settles (a microtask later),
    // so a request pipelined behind it has been dispatched already; its answer is not written.
    const wire = await KafkaWire.connect(shared.kafka());
    const failing = wire.frame(ApiKeys.Produce, 7, { acks: 0, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: Buffer.alloc(80, 0x11) }] }] });
    const after = wire.frame(ApiKeys.Metadata, 1, { topics: [{ name: topic }] });
    wire.write(Buffer.concat([failing.bytes, after.bytes]));
    expect(await closedWith(wire)).toHaveLength(0);
    await expectIntact();
  });
});

describe('request-level bad input gets its error in the API schema; the connection stays open', () => {
  it('Produce with a corrupt CRC: CORRUPT_MESSAGE, nothing stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const batch = poisonBatch();
    batch[batch.length - 1]! ^= 0xff;
    const body = await wire.request(ApiKeys.Produce, 7, { acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
    expect(body.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: KafkaErrors.CORRUPT_MESSAGE, baseOffset: -1 });
    expect((await wire.request(ApiKeys.ApiVersions, 3, {})).errorCode).toBe(KafkaErrors.NONE);
    await wire.close();
    await expectIntact();
  });

  it('Produce whose records are null, empty, not a batch, or a batch with a torn tail: CORRUPT_MESSAGE, nothing stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const torn = Buffer.concat([poisonBatch(), poisonBatch().subarray(0, 30)]);
    for (const records of [null, Buffer.alloc(0), Buffer.alloc(100, 0x5a), torn, poisonBatch().subarray(0, 61)]) {
      const body = await wire.request(ApiKeys.Produce, 7, { acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records }] }] });
      expect(body.responses[0]!.partitionResponses[0]).toMatchObject({ index: 0, errorCode: KafkaErrors.CORRUPT_MESSAGE, baseOffset: -1 });
    }
    await wire.close();
    await expectIntact();
  });

  it('Produce naming a partition twice: each entry answered in its place, the second mention INVALID_REQUEST and not stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { batch, records } = goodBatch();
    const body = await wire.request(ApiKeys.Produce, 7, {
      acks: -1,
      timeoutMs: 1000,
      topicData: [
        { name: topic, partitionData: [{ index: 0, records: batch }, { index: 1, records: null }] },
        { name: topic, partitionData: [{ index: 0, records: poisonBatch() }, { index: 1, records: poisonBatch() }] },
      ],
    });
    const answers = body.responses.flatMap((t) => t.partitionResponses.map((p) => [p.index, p.errorCode, p.baseOffset]));
    expect(answers).toEqual([
      [0, KafkaErrors.NONE, stored[0]!.records.length],
      [1, KafkaErrors.CORRUPT_MESSAGE, -1],
      [0, KafkaErrors.INVALID_REQUEST, -1],
      [1, KafkaErrors.INVALID_REQUEST, -1],
    ]);
    stored[0]!.records.push(...records);
    stored[0]!.batches.push(batch);
    await wire.close();
    await expectIntact();
  });

  it('Fetch naming a partition twice: the first mention is served, the second answered INVALID_REQUEST', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    for (const version of [11, 12]) {
      const body = await wire.request(ApiKeys.Fetch, version, {
        maxWaitMs: 0,
        minBytes: 0,
        topics: [
          { topic, partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
          { topic, partitions: [{ partition: 0, fetchOffset: 1, partitionMaxBytes: 1 << 20 }, { partition: 1, fetchOffset: 0, partitionMaxBytes: 1 << 20 }] },
        ],
      });
      expect(body.errorCode).toBe(KafkaErrors.NONE);
      const [first, second, other] = [body.responses[0]!.partitions[0]!, body.responses[1]!.partitions[0]!, body.responses[1]!.partitions[1]!];
      expect(first).toMatchObject({ partitionIndex: 0, errorCode: KafkaErrors.NONE, highWatermark: stored[0]!.records.length });
      expect(second).toMatchObject({ partitionIndex: 0, errorCode: KafkaErrors.INVALID_REQUEST });
      expect(other).toMatchObject({ partitionIndex: 1, errorCode: KafkaErrors.NONE, highWatermark: stored[1]!.records.length });
    }
    await wire.close();
    await expectIntact();
  });

  it('Metadata naming 10,000 topics: INVALID_REQUEST per topic, none auto-created', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const names = Array.from({ length: 10_000 }, (_, i) => `${topic}-many-${i}`);
    const before = (await wire.request(ApiKeys.Metadata, 9, { topics: null })).topics.length;
    for (const version of [1, 9]) {
      const body = await wire.request(ApiKeys.Metadata, version, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: true });
      expect(body.topics).toHaveLength(names.length);
      expect(new Set(body.topics.map((t) => t.errorCode))).toEqual(new Set([KafkaErrors.INVALID_REQUEST]));
    }
    expect((await wire.request(ApiKeys.Metadata, 9, { topics: null })).topics.length).toBe(before);
    await wire.close();
    await expectIntact();
  });
});

describe('admin requests naming a topic twice', () => {
  it('CreateTopics and CreatePartitions: every mention of the duplicate INVALID_REQUEST, none acted on (as Kafka); the others go ahead', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const [twice, once] = [randomTopic('twice'), randomTopic('once')];
    const created = await wire.request(ApiKeys.CreateTopics, 5, {
      topics: [
        { name: twice, numPartitions: 0, replicationFactor: 1 },
        { name: once, numPartitions: 1, replicationFactor: 1 },
        { name: twice, numPartitions: 1, replicationFactor: 1 },
      ],
      timeoutMs: 1000,
    });
    expect(created.topics.map((t) => [t.name, t.errorCode])).toEqual([
      [twice, KafkaErrors.INVALID_REQUEST],
      [once, KafkaErrors.NONE],
      [twice, KafkaErrors.INVALID_REQUEST],
    ]);
    const grown = await wire.request(ApiKeys.CreatePartitions, 1, {
      topics: [
        { name: topic, count: 1, assignments: null },
        { name: once, count: 2, assignments: null },
        { name: topic, count: PARTITIONS + 1, assignments: null },
      ],
      timeoutMs: 1000,
      validateOnly: false,
    });
    expect(grown.results.map((r) => [r.name, r.errorCode])).toEqual([
      [topic, KafkaErrors.INVALID_REQUEST],
      [once, KafkaErrors.NONE],
      [topic, KafkaErrors.INVALID_REQUEST],
    ]);
    const metadata = await wire.request(ApiKeys.Metadata, 9, { topics: [{ name: twice }, { name: once }, { name: topic }], allowAutoTopicCreation: false });
    expect(metadata.topics.map((t) => [t.name, t.errorCode, t.partitions.length])).toEqual([
      [twice, KafkaErrors.UNKNOWN_TOPIC_OR_PARTITION, 0],
      [once, KafkaErrors.NONE, 2],
      [topic, KafkaErrors.NONE, PARTITIONS],
    ]);
    await wire.close();
    await expectIntact();
  });
});

describe('with --auto-create-topics', () => {
  const creating = useKafkaBroker(['--fsync', 'never', '--auto-create-topics']);

  it('Metadata naming topics that cannot be created: INVALID_TOPIC_EXCEPTION (not retried), not UNKNOWN_TOPIC_OR_PARTITION (retried until the client times out)', async () => {
    const wire = await KafkaWire.connect(creating.kafka());
    const valid = randomTopic('auto');
    const names = ['', 'a/b', 'x'.repeat(300), '__reserved', valid];
    const body = await wire.request(ApiKeys.Metadata, 9, { topics: names.map((name) => ({ name })), allowAutoTopicCreation: true });
    expect(body.topics.map((t) => [t.name, t.errorCode])).toEqual([
      ...names.slice(0, 4).map((name) => [name, KafkaErrors.INVALID_TOPIC_EXCEPTION]),
      [valid, KafkaErrors.NONE],
    ]);
    const all = await wire.request(ApiKeys.Metadata, 9, { topics: null });
    expect(all.topics.map((t) => t.name)).toEqual([valid]);
    await wire.close();
  });
});

describe('acks=0 produce', () => {
  it('gets no response at all, yet the data is stored; the next request on the connection is answered first', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const { batch, records } = goodBatch();
    const produce = wire.frame(ApiKeys.Produce, 7, { acks: 0, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
    const versions = wire.frame(ApiKeys.ApiVersions, 0, {});
    wire.write(Buffer.concat([produce.bytes, versions.bytes]));
    const frame = (await wire.next())!;
    expect(decodeResponse(ApiKeys.ApiVersions, 0, frame).correlationId).toBe(versions.correlationId);
    expect(wire.frames).toHaveLength(1);
    stored[0]!.records.push(...records);
    stored[0]!.batches.push(batch);
    await wire.close();
    expect(wire.frames).toHaveLength(1);
    await expectIntact();
  });

  it('with a corrupt CRC: not stored, no response, and the connection is closed so the client learns (as Kafka does); a good partition beside it is stored', async () => {
    const wire = await KafkaWire.connect(shared.kafka());
    const corrupt = poisonBatch();
    corrupt[corrupt.length - 1]! ^= 0xff;
    const { batch, records } = goodBatch();
    const partitionData = [
      { index: 0, records: corrupt },
      { index: 1, records: batch },
    ];
    wire.write(wire.frame(ApiKeys.Produce, 7, { acks: 0, timeoutMs: 1000, topicData: [{ name: topic, partitionData }] }).bytes);
    expect(await closedWith(wire)).toHaveLength(0);
    stored[1]!.records.push(...records);
    stored[1]!.batches.push(batch);
    expect(shared.broker().stderr()).toMatch(/acks=0 produce failed \(1 of 2 partitions failed\)/);
    await expectIntact();
  });

  it('to an unknown topic or partition: no response, and the connection is closed', async () => {
    for (const [name, index] of [
      [randomTopic('nope'), 0],
      [topic, 99],
    ] as const) {
      const wire = await KafkaWire.connect(shared.kafka());
      wire.write(wire.frame(ApiKeys.Produce, 7, { acks: 0, timeoutMs: 1000, topicData: [{ name, partitionData: [{ index, records: poisonBatch() }] }] }).bytes);
      expect(await closedWith(wire)).toHaveLength(0);
    }
    await expectIntact();
  });
});

describe('after all of the above', () => {
  it('kcat -L on a fresh connection lists the topic with every partition led by this broker', async () => {
    const result = await run('kcat', ['-b', shared.kafka(), '-L', '-J', '-t', topic], { timeoutMs: 20_000 });
    expect(result.code, result.stderr).toBe(0);
    const metadata = JSON.parse(result.stdout) as { topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }> };
    expect(metadata.topics.find((t) => t.topic === topic)?.partitions.map((p) => [p.partition, p.leader])).toEqual(
      Array.from({ length: PARTITIONS }, (_, i) => [i, 0]),
    );
    await expectIntact();
  });
});
