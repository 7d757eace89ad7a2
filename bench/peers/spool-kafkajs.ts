// spool through kafkajs 2.2.4 (a dev dependency) against the broker's Kafka listener
// (`spool serve --kafka-listener 127.0.0.1:0`): the same W1/W3 work as the native SDK
// target (spool.ts), with kafkajs' own calls.
//
// Throughput (W1, W2): one kafkajs producer, acks -1 (all), no compression, not idempotent;
// each publish call is one producer.send() of batchMessages messages. kafkajs has no linger:
// every send() becomes its own Produce request holding one RecordBatch of exactly that many
// records, and it pipelines those requests (maxInFlightRequests unlimited by default), so
// the runner's window of 20,000 is 20 requests of 1,000 in flight.
// Latency (W4): send() of one message.
// Replay (W3): kafkajs has no assign(): a consumer in a fresh group (classic JoinGroup and
// SyncGroup, fromBeginning), run({ eachBatch }) with autoCommit off (the native replay
// commits nothing either) and 4 MiB per partition per fetch, as the native replay.
// The clock of the replay starts at the request, so it includes connecting and joining
// the group; `lastJoinMs` says how long that took (time to the first batch).

import { Kafka, logLevel, Partitioners, type Admin, type Producer } from 'kafkajs';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';
import { ReplayTally } from './common.js';

const REPLAY_FETCH_BYTES = 4 * 1024 * 1024;

export interface KafkajsTuning {
  batchMessages: number;
  maxInFlightMessages: number;
}

/** The same driving as the native target (spool.ts): 1,000 messages per call, 20,000 in flight. */
export const KAFKAJS_TUNING: KafkajsTuning = { batchMessages: 1_000, maxInFlightMessages: 20_000 };

export class KafkajsTarget implements Target {
  readonly name: string;
  readonly settings: TargetSettings;
  /** Milliseconds from the last replay() call to its first batch (connect, join, sync, offsets). */
  lastJoinMs: number | undefined;
  private kafka: Kafka | undefined;
  private adminClient: Admin | undefined;

  constructor(
    /** "127.0.0.1:<port>" of the Kafka listener. */
    private readonly address: string,
    fsync: string,
    private readonly tuning: KafkajsTuning = KAFKAJS_TUNING,
    options: { name?: string; serverVersion?: string; clientVersion?: string } = {},
  ) {
    this.name = options.name ?? 'spool (kafkajs, Kafka listener)';
    this.settings = {
      fsyncMode: `--fsync ${fsync}`,
      acks: 'acks -1 (all), as the native target',
      driving:
        `kafkajs, one producer (no linger: one request per send()), send() of ${tuning.batchMessages} msgs per call, ` +
        `<= ${tuning.maxInFlightMessages} msgs in flight; W4: send() of 1 msg; replay: fresh group, fromBeginning, run({ eachBatch }), autoCommit off, 4 MiB per partition`,
    };
    if (options.serverVersion) this.settings.serverVersion = options.serverVersion;
    if (options.clientVersion) this.settings.clientVersion = options.clientVersion;
  }

  private get client(): Kafka {
    if (!this.kafka) throw new Error('KafkajsTarget: setup() first');
    return this.kafka;
  }

  private get admin(): Admin {
    if (!this.adminClient) throw new Error('KafkajsTarget: setup() first');
    return this.adminClient;
  }

  async setup(): Promise<void> {
    this.kafka = new Kafka({ clientId: 'bench-kafkajs', brokers: [this.address], logLevel: logLevel.ERROR, retry: { retries: 3 } });
    this.adminClient = this.kafka.admin();
    await this.adminClient.connect();
  }

  async createStream(stream: string): Promise<void> {
    await this.deleteStream(stream);
    await this.admin.createTopics({ topics: [{ topic: stream, numPartitions: 1 }], waitForLeaders: true });
  }

  async deleteStream(stream: string): Promise<void> {
    // Listing first: a fresh name is the usual case and not an error.
    if (!(await this.admin.listTopics()).includes(stream)) return;
    await this.admin.deleteTopics({ topics: [stream] });
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const latency = mode === 'latency';
    // DefaultPartitioner named explicitly: kafkajs 2 prints a warning otherwise. Every
    // message here has no key and the topic one partition, so it picks partition 0 anyway.
    const producer: Producer = this.client.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
    await producer.connect();
    // One message array per batch size, reused: kafkajs encodes it inside send() before
    // the request is written and does not keep it.
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
        await producer.send({ topic: stream, acks: -1, messages: messagesOf(payload, count) });
      },
      async close() {
        await producer.disconnect();
      },
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const started = performance.now();
    this.lastJoinMs = undefined;
    const groupId = `bench-replay-${Math.random().toString(36).slice(2, 10)}`;
    const consumer = this.client.consumer({ groupId, maxBytesPerPartition: REPLAY_FETCH_BYTES, maxBytes: 2 * REPLAY_FETCH_BYTES, maxWaitTimeInMs: 500 });
    const tally = new ReplayTally(request);
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(finish, Math.max(0, request.deadline - Date.now()));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [request.stream], fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          this.lastJoinMs ??= performance.now() - started;
          if (tally.done) return;
          for (const message of batch.messages) if (tally.add(message.value?.length ?? 0)) break;
          // Stopping from inside eachBatch would wait for this very batch: stop outside.
          if (tally.done) finish();
        },
      });
      await finished;
      tally.flush();
    } finally {
      clearTimeout(timer);
      // The group is left behind (empty, no offsets): the bench broker is thrown away after the run.
      await consumer.disconnect();
    }
  }

  async close(): Promise<void> {
    if (this.adminClient) {
      await this.adminClient.disconnect();
      this.adminClient = undefined;
    }
    this.kafka = undefined;
  }
}
