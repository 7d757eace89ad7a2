// NATS JetStream through the `nats` client. Server: JetStream with file storage in a temp
// dir (see servers.sh). A PubAck means the server stored the message in the stream's file
// store; nats-server 2.9 fsyncs file-store blocks on its own schedule (not per message).
//
// Throughput: asynchronous publishing, like the Go client's PublishAsync: core
// publish to the stream subject with a reply inbox, PubAcks counted by one subscription
// (each parsed and checked), up to maxInFlightMessages outstanding. On this machine that
// gave 3-5x the rate of js.publish() per message (a promise, a timer and a muxed request
// each), and it is used for W4 too (one message per call, paced). js.publish() remains
// the simple call; it is what the first runs used (see README).
// Replay: an ordered consumer (js.consumers.get(stream)) with consume() pulling up to
// REPLAY_BATCH messages per pull request, the client's recommended way to read a stream.

import { connect, createInbox, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';
import { AckTracker, ReplayTally } from './common.js';

const REPLAY_BATCH = 10_000;

export interface NatsTuning {
  batchMessages: number;
  maxInFlightMessages: number;
}

export const NATS_TUNING: NatsTuning = { batchMessages: 20, maxInFlightMessages: 256 };

const decoder = new TextDecoder();

function subjectOf(stream: string): string {
  return `bench.${stream}`;
}

export class NatsTarget implements Target {
  readonly name = 'NATS JetStream';
  readonly settings: TargetSettings;
  private connection: NatsConnection | undefined;
  private jetstream: JetStreamClient | undefined;
  private manager: JetStreamManager | undefined;

  constructor(
    private readonly port: number,
    private readonly tuning: NatsTuning = NATS_TUNING,
    versions: { server?: string; client?: string } = {},
  ) {
    this.settings = {
      fsyncMode: 'JetStream file store, server default sync',
      acks: 'PubAck per message (stored in the file store)',
      driving:
        `nats.js (noAsyncTraces), one connection; async publish (publish with reply inbox, PubAcks counted), ` +
        `<= ${tuning.maxInFlightMessages} outstanding (W4: same, one per message, paced); replay: ordered consumer consume() max_messages ${REPLAY_BATCH}`,
    };
    if (versions.server) this.settings.serverVersion = versions.server;
    if (versions.client) this.settings.clientVersion = versions.client;
  }

  async setup(): Promise<void> {
    // noAsyncTraces: the client otherwise captures an Error (a stack trace) per request to
    // decorate a possible timeout; with a PubAck request per message that capture was the
    // largest cost in a CPU profile (2.4x fewer msgs/s). It is the client's documented
    // option for exactly this.
    this.connection = await connect({ servers: `127.0.0.1:${this.port}`, maxReconnectAttempts: 0, noAsyncTraces: true });
    this.jetstream = this.connection.jetstream({ timeout: 60_000 });
    this.manager = await this.connection.jetstreamManager();
  }

  private get nc(): NatsConnection {
    if (!this.connection) throw new Error('NatsTarget: setup() first');
    return this.connection;
  }

  private get js(): JetStreamClient {
    if (!this.jetstream) throw new Error('NatsTarget: setup() first');
    return this.jetstream;
  }

  private get jsm(): JetStreamManager {
    if (!this.manager) throw new Error('NatsTarget: setup() first');
    return this.manager;
  }

  async createStream(stream: string): Promise<void> {
    await this.deleteStream(stream);
    await this.jsm.streams.add({
      name: stream,
      subjects: [subjectOf(stream)],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      num_replicas: 1,
    });
  }

  async deleteStream(stream: string): Promise<void> {
    try {
      await this.jsm.streams.delete(stream);
    } catch (error) {
      // "stream not found" is the expected case for a fresh name; anything else is real.
      if (!/not found/i.test(String(error))) throw error;
    }
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const subject = subjectOf(stream);
    const latency = mode === 'latency';
    // Asynchronous publishing: the stream subject with one reply inbox per producer and a
    // subscription that receives the PubAcks, which come back in publish order (one
    // connection, one stream). Each PubAck is parsed and checked, so "acknowledged" means
    // the same as for js.publish.
    const connection = this.nc;
    const inbox = createInbox();
    const tracker = new AckTracker();
    const subscription = connection.subscribe(inbox, {
      callback: (error, message) => {
        if (error) return tracker.fail(error);
        const ack = JSON.parse(decoder.decode(message.data)) as { error?: { description?: string }; seq?: number };
        if (ack.error || typeof ack.seq !== 'number') tracker.fail(new Error(`JetStream publish failed: ${ack.error?.description ?? 'no seq'}`));
        else tracker.confirm(1);
      },
    });
    await connection.flush(); // The subscription is known to the server before the first publish.
    return {
      batchMessages: latency ? 1 : this.tuning.batchMessages,
      maxInFlightMessages: latency ? Number.MAX_SAFE_INTEGER : this.tuning.maxInFlightMessages,
      async publish(payload: Buffer, count: number): Promise<void> {
        const acked = tracker.expect(count);
        for (let index = 0; index < count; index++) connection.publish(subject, payload, { reply: inbox });
        await acked;
      },
      async close() {
        subscription.unsubscribe();
      },
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const consumer = await this.js.consumers.get(request.stream);
    const messages = await consumer.consume({ max_messages: REPLAY_BATCH });
    const tally = new ReplayTally(request);
    const timer = setTimeout(() => void messages.close(), Math.max(0, request.deadline - Date.now()));
    try {
      for await (const message of messages) {
        if (tally.add(message.data.length)) break;
      }
      tally.flush();
    } finally {
      clearTimeout(timer);
      await messages.close();
      await consumer.delete().catch(() => undefined); // The ordered consumer is ephemeral; the server removes it anyway.
    }
  }

  async close(): Promise<void> {
    if (this.connection) {
      await this.connection.drain().catch(() => undefined); // Closing anyway.
      this.connection = undefined;
    }
  }
}
