// RabbitMQ Streams through rabbitmq-stream-js-client (the stream protocol, port from
// servers.sh, plugin rabbitmq_stream). A publish confirm means the chunk was written to the
// stream's segment file by the (single-node) stream leader; RabbitMQ streams do not fsync
// per message (durability comes from replication, and here there is one node).
//
// Throughput: one publisher; publisher.send() per message (the client queues messages and
// flushes up to maxChunkLength per publish frame, on a setImmediate or when the queue is
// full); confirms arrive as `publish_confirm` events with publishing ids. Up to
// maxInFlightMessages unconfirmed. Latency (W4): the same, one message per call.
// Replay: a consumer from Offset.first() with the client's default credit policy.
//
// Compatibility shim: Debian 12 ships RabbitMQ 3.10.8, and every published version of
// rabbitmq-stream-js-client (0.4 .. 1.0) sends ExchangeCommandVersions (stream command 27,
// added in RabbitMQ 3.11) while opening a connection, which a 3.10 server answers by
// closing the connection. For servers older than 3.11 the shim skips that one exchange
// (the client then uses the version-1 commands every 3.9+ server has; it needs the newer
// ones only for filtering, which it turns off below 3.13 anyway). Nothing else is patched.

import { createRequire } from 'node:module';
import { connect, Offset, type Client, type Publisher } from 'rabbitmq-stream-js-client';

interface PatchableConnection {
  peerProperties?: Record<string, string>;
  exchangeCommandVersions(): Promise<boolean>;
}

function olderThan311(version: string | undefined): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version ?? '');
  if (!match) return false;
  const major = Number(match[1]);
  const minor = Number(match[2]);
  return major < 3 || (major === 3 && minor < 11);
}

let shimInstalled = false;
function installPre311Shim(): void {
  if (shimInstalled) return;
  shimInstalled = true;
  const require = createRequire(import.meta.url);
  const { Connection } = require('rabbitmq-stream-js-client/dist/connection.js') as { Connection: { prototype: PatchableConnection } };
  const original = Connection.prototype.exchangeCommandVersions;
  Connection.prototype.exchangeCommandVersions = async function (this: PatchableConnection): Promise<boolean> {
    if (olderThan311(this.peerProperties?.['version'])) return true;
    return original.call(this);
  };
}
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';
import { AckTracker, ReplayTally } from './common.js';

export interface RabbitTuning {
  batchMessages: number;
  maxInFlightMessages: number;
  /** Messages per publish frame (the client's maxChunkLength; its default is 100). */
  maxChunkLength: number;
}

export const RABBIT_TUNING: RabbitTuning = { batchMessages: 200, maxInFlightMessages: 4_000, maxChunkLength: 500 };

export class RabbitTarget implements Target {
  readonly name = 'RabbitMQ Streams';
  readonly settings: TargetSettings;
  private client: Client | undefined;

  constructor(
    private readonly port: number,
    private readonly tuning: RabbitTuning = RABBIT_TUNING,
    versions: { server?: string; client?: string } = {},
  ) {
    this.settings = {
      fsyncMode: 'stream segment written, no per-message fsync (single node)',
      acks: 'publish confirm per message',
      driving:
        `rabbitmq-stream-js-client, one publisher; send() per message, maxChunkLength ${tuning.maxChunkLength}, ` +
        `<= ${tuning.maxInFlightMessages} unconfirmed (W4: same, paced); replay: consumer from Offset.first()`,
    };
    if (versions.server) this.settings.serverVersion = versions.server;
    if (versions.client) this.settings.clientVersion = versions.client;
  }

  private get rabbit(): Client {
    if (!this.client) throw new Error('RabbitTarget: setup() first');
    return this.client;
  }

  async setup(): Promise<void> {
    installPre311Shim();
    this.client = await connect({
      hostname: '127.0.0.1',
      port: this.port,
      username: 'guest',
      password: 'guest',
      vhost: '/',
      // Publishers and consumers open their own connections to the address the server
      // advertises: servers.sh sets stream.advertised_host = 127.0.0.1 for that.
    });
  }

  async createStream(stream: string): Promise<void> {
    await this.deleteStream(stream);
    await this.rabbit.createStream({ stream });
  }

  async deleteStream(stream: string): Promise<void> {
    try {
      await this.rabbit.deleteStream({ stream });
    } catch (error) {
      // A stream that does not exist is the expected case for a fresh name.
      if (!/does not exist|not exist|STREAM_DOES_NOT_EXIST|\b2\b/i.test(String(error))) throw error;
    }
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const publisher: Publisher = await this.rabbit.declarePublisher({ stream, maxChunkLength: this.tuning.maxChunkLength });
    const tracker = new AckTracker();
    publisher.on('publish_confirm', (error, publishingIds) => {
      if (error !== null) tracker.fail(new Error(`RabbitMQ publish error code ${error}`));
      else tracker.confirm(publishingIds.length);
    });
    const latency = mode === 'latency';
    return {
      batchMessages: latency ? 1 : this.tuning.batchMessages,
      maxInFlightMessages: latency ? Number.MAX_SAFE_INTEGER : this.tuning.maxInFlightMessages,
      async publish(payload: Buffer, count: number): Promise<void> {
        const confirmed = tracker.expect(count);
        const sends: Array<Promise<unknown>> = [];
        for (let index = 0; index < count; index++) sends.push(publisher.send(payload));
        await Promise.all(sends);
        await confirmed;
      },
      async close() {
        await publisher.close();
      },
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const tally = new ReplayTally(request);
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const consumer = await this.rabbit.declareConsumer({ stream: request.stream, offset: Offset.first() }, (message) => {
      if (tally.done) return;
      if (tally.add(message.content.length)) finish();
    });
    const timer = setTimeout(finish, Math.max(0, request.deadline - Date.now()));
    try {
      await done;
      tally.flush();
    } finally {
      clearTimeout(timer);
      await consumer.close();
    }
  }

  async close(): Promise<void> {
    if (this.client) {
      await this.client.close().catch(() => undefined); // Closing anyway.
      this.client = undefined;
    }
  }
}
