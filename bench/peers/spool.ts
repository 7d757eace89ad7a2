// spool through its own SDK (the built package, dist/client/index.js, so the measured code
// is the compiled JS users run). The broker runs as a separate process
// (`node dist/cli/main.js serve --port 0 --fsync 1000`, started by servers.sh): acks 'all'
// means written to the log and acknowledged per that fsync policy (fsync every 1000 ms,
// the same promise as Redis' appendfsync everysec).
//
// Throughput: one producer (lingerMs 5, batchBytes 256 KiB: the defaults); each publish call
// is one send() of batchMessages messages, several sends in flight at once (the producer
// batches them per partition and pipelines Produce requests). Latency (W4): one send() of
// one message per call with lingerMs 0, so no message waits for company.
// Replay: a consumer without a group, assigned partition 0 from 'earliest', read with
// run({ eachBatch }) and 4 MiB fetches (the SDK's fast path).
//
// The SDK is loaded with a dynamic import and typed here by the few members used, so this
// file type-checks whether or not dist/ is built.

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';
import { ReplayTally } from './common.js';

interface SpoolMessage {
  value: Buffer | null;
}
interface SpoolProducer {
  send(record: { topic: string; messages: Array<{ value: Buffer }> }): Promise<unknown>;
  close(): Promise<void>;
}
interface SpoolConsumer {
  assign(assignments: Array<{ topic: string; partition: number; offset?: number | 'earliest' | 'latest' }>): unknown;
  run(handlers: { eachBatch: (payload: { batch: { messages: SpoolMessage[] } }) => void }): Promise<void>;
  close(): Promise<void>;
}
interface SpoolAdmin {
  createTopics(request: { topics: Array<{ topic: string; numPartitions: number }> }): Promise<unknown>;
  deleteTopics(request: { topics: string[] }): Promise<unknown>;
}
interface SpoolClient {
  producer(config: Record<string, unknown>): SpoolProducer;
  consumer(config: Record<string, unknown>): SpoolConsumer;
  admin(): SpoolAdmin;
  close(): Promise<void>;
}
type SpoolClientConstructor = new (config: { brokers: string[]; clientId?: string } & Record<string, unknown>) => SpoolClient;

const REPLAY_FETCH_BYTES = 4 * 1024 * 1024;

export const SPOOL_CLIENT_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/client/index.js');

export interface SpoolTuning {
  batchMessages: number;
  maxInFlightMessages: number;
}

export const SPOOL_TUNING: SpoolTuning = { batchMessages: 1_000, maxInFlightMessages: 20_000 };

/**
 * Optional overrides (bench/kafka-listener.ts): a table name, and the throughput producer's
 * config (default `{ acks: 'all' }`, i.e. lingerMs 5, batchBytes 256 KiB) with a one-line
 * description of it for the `driving` setting; and (bench/security.ts) extra Client options
 * such as ssl and sasl.
 */
export interface SpoolTargetVariant {
  name: string;
  producerConfig: Record<string, unknown>;
  producerText: string;
  clientConfig?: Record<string, unknown>;
}

export class SpoolTarget implements Target {
  readonly name: string;
  readonly settings: TargetSettings;
  private client: SpoolClient | undefined;
  private readonly producerConfig: Record<string, unknown>;
  private readonly clientConfig: Record<string, unknown>;

  constructor(
    private readonly port: number,
    fsync: string,
    private readonly tuning: SpoolTuning = SPOOL_TUNING,
    versions: { server?: string; client?: string } = {},
    variant?: SpoolTargetVariant,
  ) {
    this.name = variant?.name ?? 'spool';
    this.producerConfig = variant?.producerConfig ?? { acks: 'all' };
    this.clientConfig = variant?.clientConfig ?? {};
    this.settings = {
      fsyncMode: `--fsync ${fsync}`,
      acks: "acks 'all' (written, acknowledged per the fsync policy)",
      driving:
        `spool SDK, one producer (${variant?.producerText ?? 'lingerMs 5, batchBytes 256 KiB'}); send() of ${tuning.batchMessages} msgs per call, ` +
        `<= ${tuning.maxInFlightMessages} msgs in flight; W4: send() of 1 msg, lingerMs 0; replay: assign(earliest) + run({ eachBatch }), 4 MiB fetches`,
    };
    if (versions.server) this.settings.serverVersion = versions.server;
    if (versions.client) this.settings.clientVersion = versions.client;
  }

  private get spool(): SpoolClient {
    if (!this.client) throw new Error('SpoolTarget: setup() first');
    return this.client;
  }

  async setup(): Promise<void> {
    if (!existsSync(SPOOL_CLIENT_PATH)) throw new Error(`${SPOOL_CLIENT_PATH} missing: run npx tsc -p tsconfig.json first`);
    const module = (await import(pathToFileURL(SPOOL_CLIENT_PATH).href)) as { Client?: SpoolClientConstructor };
    if (typeof module.Client !== 'function') throw new Error('dist/client/index.js does not export Client');
    this.client = new module.Client({ ...this.clientConfig, brokers: [`127.0.0.1:${this.port}`], clientId: 'bench-peers' });
  }

  async createStream(stream: string): Promise<void> {
    await this.deleteStream(stream);
    await this.spool.admin().createTopics({ topics: [{ topic: stream, numPartitions: 1 }] });
  }

  async deleteStream(stream: string): Promise<void> {
    try {
      await this.spool.admin().deleteTopics({ topics: [stream] });
    } catch (error) {
      // UNKNOWN_TOPIC is the expected answer for a fresh name; anything else is real.
      if ((error as { code?: unknown }).code !== 'UNKNOWN_TOPIC') throw error;
    }
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const latency = mode === 'latency';
    const producer = this.spool.producer(latency ? { acks: 'all', lingerMs: 0 } : this.producerConfig);
    // One message array per batch size, reused: the SDK reads it and does not keep it.
    const cache = new Map<number, Array<{ value: Buffer }>>();
    const messagesOf = (payload: Buffer, count: number): Array<{ value: Buffer }> => {
      let messages = cache.get(count);
      if (!messages || messages[0]?.value !== payload) {
        messages = Array.from({ length: count }, () => ({ value: payload }));
        cache.set(count, messages);
      }
      return messages;
    };
    return {
      batchMessages: latency ? 1 : this.tuning.batchMessages,
      maxInFlightMessages: latency ? Number.MAX_SAFE_INTEGER : this.tuning.maxInFlightMessages,
      async publish(payload: Buffer, count: number): Promise<void> {
        await producer.send({ topic: stream, messages: messagesOf(payload, count) });
      },
      async close() {
        await producer.close();
      },
    };
  }

  // Replay with run({ eachBatch }), the SDK's documented fast path for reading a topic (as
  // Redis is read with XRANGE pages and NATS with consume()), 4 MiB per fetch.
  async replay(request: ReplayRequest): Promise<void> {
    const consumer = this.spool.consumer({ maxBytesPerPartition: REPLAY_FETCH_BYTES });
    await consumer.assign([{ topic: request.stream, partition: 0, offset: 'earliest' }]);
    const tally = new ReplayTally(request);
    const timer = setTimeout(() => void consumer.close(), Math.max(0, request.deadline - Date.now()));
    try {
      await consumer.run({
        eachBatch: ({ batch }) => {
          if (tally.done) return;
          for (const message of batch.messages) if (tally.add(message.value?.length ?? 0)) break;
          if (tally.done) void consumer.close();
        },
      });
      tally.flush();
    } finally {
      clearTimeout(timer);
      await consumer.close();
    }
  }

  async close(): Promise<void> {
    if (this.client) {
      await this.client.close();
      this.client = undefined;
    }
  }
}
