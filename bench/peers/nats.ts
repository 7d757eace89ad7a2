// NATS JetStream through the `nats` client. Server: JetStream with file storage in a temp
// dir (see servers.sh). A PubAck means the server stored the message in the stream's file
// store; nats-server 2.9 fsyncs file-store blocks on its own schedule (not per message).
//
// Throughput: one connection (noAsyncTraces: true); js.publish() per message (request/reply with PubAck),
// not awaiting one before the next: up to maxInFlightMessages outstanding, the client
// coalescing writes on the socket. Latency (W4): the same, one message per call.
// Replay: an ordered consumer (js.consumers.get(stream)) with consume() pulling up to
// REPLAY_BATCH messages per pull request, the client's recommended way to read a stream.

import { connect, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';

const REPLAY_BATCH = 10_000;

export interface NatsTuning {
  batchMessages: number;
  maxInFlightMessages: number;
}

export const NATS_TUNING: NatsTuning = { batchMessages: 20, maxInFlightMessages: 256 };

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
        `nats.js (noAsyncTraces), one connection; js.publish per message, <= ${tuning.maxInFlightMessages} PubAcks outstanding ` +
        `(W4: same, paced); replay: ordered consumer consume() max_messages ${REPLAY_BATCH}`,
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
    const js = this.js;
    const subject = subjectOf(stream);
    const latency = mode === 'latency';
    return {
      batchMessages: latency ? 1 : this.tuning.batchMessages,
      maxInFlightMessages: latency ? Number.MAX_SAFE_INTEGER : this.tuning.maxInFlightMessages,
      async publish(payload: Buffer, count: number): Promise<void> {
        if (count === 1) {
          await js.publish(subject, payload);
          return;
        }
        const acks: Array<Promise<unknown>> = [];
        for (let index = 0; index < count; index++) acks.push(js.publish(subject, payload));
        await Promise.all(acks);
      },
      async close() {},
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const consumer = await this.js.consumers.get(request.stream);
    const messages = await consumer.consume({ max_messages: REPLAY_BATCH });
    let received = 0;
    const timer = setTimeout(() => void messages.close(), Math.max(0, request.deadline - Date.now()));
    try {
      let pendingCount = 0;
      let pendingBytes = 0;
      for await (const message of messages) {
        received++;
        pendingCount++;
        pendingBytes += message.data.length;
        if (pendingCount === 1000 || received >= request.messages) {
          request.onMessages(pendingCount, pendingBytes);
          pendingCount = 0;
          pendingBytes = 0;
        }
        if (received >= request.messages) break;
      }
      if (pendingCount > 0) request.onMessages(pendingCount, pendingBytes);
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
