// spool's two listeners driven with (almost) no client work, for bench/kafka-listener.ts:
// the client encodes one RecordBatch per distinct (payload, count) once and sends it again
// and again as the records of a Produce request, one request per publish call, pipelined
// up to the runner's window (20 requests of 1,000 in flight); the replay fetches 4 MiB per
// request and counts records from the batch headers (recordCount) without decoding them.
// What is left to measure is the broker and the wire: the same batches and the same
// request pattern on both listeners, so a difference is the listener's own.
//
//   RawNativeTarget  native protocol (test/helpers/raw-client.ts): Produce, Fetch.
//   RawKafkaTarget   Kafka protocol on --kafka-listener (src/kafka codec): Produce v7,
//                    Fetch v11, the versions kafkajs 2.2.4 uses.
//
// Topics are created and deleted through the native SDK (SpoolTarget). Replay bytes are
// records x the W1 value size (values are not decoded).

import { connect, type Socket } from 'node:net';
import { ApiKey } from '../../src/protocol/apis.js';
import type { FetchResponse, ProduceResponse } from '../../src/protocol/messages.js';
import { ApiKeys, decodeResponse, encodeRequest, KafkaErrors } from '../../src/kafka/index.js';
import { encodeBatch, forEachBatch } from '../../src/records/index.js';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';
import { RawClient } from '../../test/helpers/raw-client.js';
import { SpoolTarget } from './spool.js';

const FETCH_BYTES = 4 * 1024 * 1024;
const BATCH_MESSAGES = 1_000;
const IN_FLIGHT_MESSAGES = 20_000;

/** The one RecordBatch a raw producer sends for `count` messages of `payload` (encoded once). */
function batchCache(): (payload: Buffer, count: number) => Buffer {
  const batches = new Map<number, { payload: Buffer; batch: Buffer }>();
  return (payload, count) => {
    let entry = batches.get(count);
    if (!entry || entry.payload !== payload) {
      entry = { payload, batch: encodeBatch(Array.from({ length: count }, () => ({ value: payload }))) };
      batches.set(count, entry);
    }
    return entry.batch;
  };
}

/** Adds the records of `records` to `tally`; returns the offset after the last batch (or `offset` when none). */
function countRecords(records: Buffer, offset: number, request: ReplayRequest, valueBytes: number): number {
  let next = offset;
  let count = 0;
  forEachBatch(records, (header) => {
    // A fetch may start inside the first batch: count only the records at or after `offset`.
    const end = header.baseOffset + header.lastOffsetDelta + 1;
    if (end <= next) return;
    count += Math.min(header.recordCount, end - next);
    next = end;
  });
  if (count > 0) request.onMessages(count, count * valueBytes);
  return next;
}

/**
 * Holds each publish call until its messages are due at `msgsPerSec` (0: no pacing), so a
 * raw client can be run at the rate kafkajs reaches: the broker's CPU per message depends
 * on the rate (fewer, smaller socket reads per wake-up at a low rate).
 */
function pacer(msgsPerSec: number): (count: number) => Promise<void> {
  let startMs: number | undefined;
  let scheduled = 0;
  return async (count) => {
    if (msgsPerSec <= 0) return;
    startMs ??= performance.now();
    const dueMs = startMs + (scheduled / msgsPerSec) * 1000;
    scheduled += count;
    const waitMs = dueMs - performance.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  };
}

abstract class RawTarget implements Target {
  abstract readonly name: string;
  abstract readonly settings: TargetSettings;
  protected readonly admin: SpoolTarget;

  constructor(
    protected readonly nativePort: number,
    protected readonly fsync: string,
    protected readonly valueBytes: number,
    /** Produce pacing in msg/s; 0: as fast as the window allows. */
    protected readonly paceMsgsPerSec = 0,
  ) {
    this.admin = new SpoolTarget(nativePort, fsync);
  }

  protected nameFor(listener: string): string {
    return `spool (raw requests${this.paceMsgsPerSec > 0 ? ` paced at ${this.paceMsgsPerSec.toLocaleString('en-US')} msg/s` : ''}, ${listener} listener)`;
  }

  protected settingsFor(protocol: string): TargetSettings {
    return {
      fsyncMode: `--fsync ${this.fsync}`,
      acks: 'acks -1 (all)',
      driving:
        `raw ${protocol} requests: one pre-encoded RecordBatch of ${BATCH_MESSAGES} per Produce, <= ${IN_FLIGHT_MESSAGES} msgs in flight` +
        (this.paceMsgsPerSec > 0 ? `, paced at ${this.paceMsgsPerSec} msg/s` : '') +
        `; replay: 4 MiB fetches, records counted from batch headers (not decoded)`,
    };
  }

  setup(): Promise<void> {
    return this.admin.setup();
  }

  createStream(stream: string): Promise<void> {
    return this.admin.createStream(stream);
  }

  deleteStream(stream: string): Promise<void> {
    return this.admin.deleteStream(stream);
  }

  close(): Promise<void> {
    return this.admin.close();
  }

  abstract producer(stream: string, mode: ProducerMode): Promise<TargetProducer>;
  abstract replay(request: ReplayRequest): Promise<void>;
}

export class RawNativeTarget extends RawTarget {
  readonly name = this.nameFor('native');
  readonly settings = this.settingsFor('native');

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const client = await RawClient.connect(this.nativePort);
    const batchOf = batchCache();
    const pace = pacer(this.paceMsgsPerSec);
    return {
      batchMessages: mode === 'latency' ? 1 : BATCH_MESSAGES,
      maxInFlightMessages: mode === 'latency' ? Number.MAX_SAFE_INTEGER : IN_FLIGHT_MESSAGES,
      async publish(payload: Buffer, count: number): Promise<void> {
        await pace(count);
        const batch = batchOf(payload, count);
        const response = await client.request<ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 30_000, partitions: [{ topic: stream, partition: 0, size: batch.length }] }, batch);
        const code = response.header.errorCode || response.header.partitions[0]?.errorCode;
        if (code) throw new Error(`produce failed: ${JSON.stringify(response.header)}`);
      },
      close: () => client.close(),
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const client = await RawClient.connect(this.nativePort);
    let offset = 0;
    let received = 0;
    const onMessages = (count: number, bytes: number): void => {
      received += count;
      request.onMessages(count, bytes);
    };
    try {
      while (received < request.messages && Date.now() < request.deadline) {
        const { header, parts } = await client.fetch([{ topic: request.stream, partition: 0, offset, maxBytes: FETCH_BYTES }], { maxWaitMs: 500, maxBytes: FETCH_BYTES });
        const code = (header as FetchResponse).errorCode || header.partitions[0]?.errorCode;
        if (code) throw new Error(`fetch failed: ${JSON.stringify(header)}`);
        offset = countRecords(parts[0] ?? Buffer.alloc(0), offset, { ...request, onMessages }, this.valueBytes);
      }
    } finally {
      await client.close();
    }
  }
}

/** One Kafka-protocol connection: pipelined requests, responses matched by correlation id. */
class KafkaConnection {
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, { apiKey: number; version: number; resolve: (body: unknown) => void; reject: (error: Error) => void }>();
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static open(address: string): Promise<KafkaConnection> {
    const [host, port] = address.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port), noDelay: true }, () => resolve(new KafkaConnection(socket)));
      socket.once('error', reject);
    });
  }

  request<K extends (typeof ApiKeys)[keyof typeof ApiKeys]>(apiKey: K, version: number, body: Parameters<typeof encodeRequest<K>>[4]): Promise<ReturnType<typeof decodeResponse<K>>['body']> {
    const correlationId = this.nextCorrelationId++;
    const frame = encodeRequest(apiKey, version, correlationId, 'bench-raw', body);
    for (const chunk of frame.chunks) this.socket.write(chunk);
    return new Promise((resolve, reject) => this.waiting.set(correlationId, { apiKey, version, resolve: resolve as (body: unknown) => void, reject }));
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bufferedBytes += chunk.length;
    // Joins the chunks only once a whole frame is there (a 4 MiB fetch comes in many reads).
    while (this.bufferedBytes >= 4) {
      if (this.chunks[0]!.length < 4) this.chunks = [Buffer.concat(this.chunks, this.bufferedBytes)];
      const size = this.chunks[0]!.readInt32BE(0);
      if (this.bufferedBytes < 4 + size) return;
      const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bufferedBytes);
      const frame = joined.subarray(4, 4 + size);
      const rest = joined.subarray(4 + size);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.bufferedBytes = rest.length;
      const correlationId = frame.readInt32BE(0);
      const waiter = this.waiting.get(correlationId);
      if (!waiter) throw new Error(`unexpected correlation id ${correlationId}`);
      this.waiting.delete(correlationId);
      waiter.resolve(decodeResponse(waiter.apiKey as never, waiter.version, frame).body);
    }
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }

  close(): void {
    this.socket.destroy();
  }
}

export class RawKafkaTarget extends RawTarget {
  readonly name = this.nameFor('Kafka');
  readonly settings = this.settingsFor('Kafka (Produce v7, Fetch v11)');

  constructor(
    nativePort: number,
    private readonly kafkaAddress: string,
    fsync: string,
    valueBytes: number,
    paceMsgsPerSec = 0,
  ) {
    super(nativePort, fsync, valueBytes, paceMsgsPerSec);
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const connection = await KafkaConnection.open(this.kafkaAddress);
    const batchOf = batchCache();
    const pace = pacer(this.paceMsgsPerSec);
    return {
      batchMessages: mode === 'latency' ? 1 : BATCH_MESSAGES,
      maxInFlightMessages: mode === 'latency' ? Number.MAX_SAFE_INTEGER : IN_FLIGHT_MESSAGES,
      async publish(payload: Buffer, count: number): Promise<void> {
        await pace(count);
        const response = await connection.request(ApiKeys.Produce, 7, {
          transactionalId: null,
          acks: -1,
          timeoutMs: 30_000,
          topicData: [{ name: stream, partitionData: [{ index: 0, records: batchOf(payload, count) }] }],
        });
        const code = response.responses[0]?.partitionResponses[0]?.errorCode;
        if (code !== KafkaErrors.NONE) throw new Error(`produce failed: Kafka error ${code}`);
      },
      async close() {
        connection.close();
      },
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const connection = await KafkaConnection.open(this.kafkaAddress);
    let offset = 0;
    let received = 0;
    const onMessages = (count: number, bytes: number): void => {
      received += count;
      request.onMessages(count, bytes);
    };
    try {
      while (received < request.messages && Date.now() < request.deadline) {
        const response = await connection.request(ApiKeys.Fetch, 11, {
          replicaId: -1,
          maxWaitMs: 500,
          minBytes: 1,
          maxBytes: FETCH_BYTES,
          isolationLevel: 0,
          sessionId: 0,
          sessionEpoch: -1,
          topics: [{ topic: request.stream, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: FETCH_BYTES }] }],
          forgottenTopicsData: [],
          rackId: '',
        });
        const partition = response.responses[0]?.partitions[0];
        if (response.errorCode !== KafkaErrors.NONE || !partition || partition.errorCode !== KafkaErrors.NONE) throw new Error(`fetch failed: ${JSON.stringify({ errorCode: response.errorCode, partition: partition?.errorCode })}`);
        const records = partition.records ?? Buffer.alloc(0);
        // Decoded responses hold one Buffer; the chunk list is the encoder's side of the type.
        offset = countRecords(Buffer.isBuffer(records) ? records : Buffer.concat(records), offset, { ...request, onMessages }, this.valueBytes);
      }
    } finally {
      connection.close();
    }
  }
}
