// Redis Streams through ioredis. Server: appendonly yes, appendfsync everysec (see
// servers.sh). A reply to XADD means the entry is in memory and its AOF record was
// written to the OS before the reply went out (Redis flushes the AOF buffer before
// answering clients); fsync happens once a second in the background.
//
// Throughput: one connection; each publish call is one explicit pipeline of
// `XADD stream * v <payload>` commands executed with a single write; several pipelines are
// in flight at once (ioredis keeps commands in order on the connection).
// Latency (W4): one XADD per message, written immediately, not waiting for the previous.
// Replay: XRANGE in pages of REPLAY_PAGE entries, each page starting after the last id.

import { Redis } from 'ioredis';
import type { ProducerMode, ReplayRequest, Target, TargetProducer, TargetSettings } from '../harness/workloads.js';

const REPLAY_PAGE = 5_000;

export interface RedisTuning {
  batchMessages: number;
  maxInFlightMessages: number;
}

export const REDIS_TUNING: RedisTuning = { batchMessages: 200, maxInFlightMessages: 4_000 };

export class RedisTarget implements Target {
  readonly name = 'Redis Streams';
  readonly settings: TargetSettings;
  private redis: Redis | undefined;

  constructor(
    private readonly port: number,
    private readonly tuning: RedisTuning = REDIS_TUNING,
    versions: { server?: string; client?: string } = {},
  ) {
    this.settings = {
      fsyncMode: 'appendonly yes, appendfsync everysec',
      acks: 'XADD reply (in memory + AOF written to the OS)',
      driving:
        `ioredis, one connection; throughput: pipelines of ${tuning.batchMessages} XADD, ` +
        `<= ${tuning.maxInFlightMessages} msgs in flight; W4: one XADD per message; ` +
        `replay: XRANGE pages of ${REPLAY_PAGE}`,
    };
    if (versions.server) this.settings.serverVersion = versions.server;
    if (versions.client) this.settings.clientVersion = versions.client;
  }

  private get client(): Redis {
    if (!this.redis) throw new Error('RedisTarget: setup() first');
    return this.redis;
  }

  async setup(): Promise<void> {
    this.redis = new Redis({ host: '127.0.0.1', port: this.port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    await this.redis.connect();
  }

  async createStream(stream: string): Promise<void> {
    // A Redis stream exists from its first XADD; start from nothing.
    await this.client.del(stream);
  }

  async deleteStream(stream: string): Promise<void> {
    await this.client.del(stream);
  }

  async producer(stream: string, mode: ProducerMode): Promise<TargetProducer> {
    const redis = this.client;
    if (mode === 'latency') {
      return {
        batchMessages: 1,
        maxInFlightMessages: Number.MAX_SAFE_INTEGER,
        async publish(payload: Buffer): Promise<void> {
          await redis.xadd(stream, '*', 'v', payload);
        },
        async close() {},
      };
    }
    const { batchMessages, maxInFlightMessages } = this.tuning;
    return {
      batchMessages,
      maxInFlightMessages,
      async publish(payload: Buffer, count: number): Promise<void> {
        const pipeline = redis.pipeline();
        for (let index = 0; index < count; index++) pipeline.xadd(stream, '*', 'v', payload);
        const results = await pipeline.exec();
        for (const [error] of results ?? []) if (error) throw error;
      },
      async close() {},
    };
  }

  async replay(request: ReplayRequest): Promise<void> {
    const redis = this.client;
    let start = '-';
    let received = 0;
    while (received < request.messages && Date.now() < request.deadline) {
      const page = await redis.xrangeBuffer(request.stream, start, '+', 'COUNT', REPLAY_PAGE);
      if (page.length === 0) break; // The stream holds fewer entries than asked for.
      let bytes = 0;
      for (const [, fields] of page) bytes += fields[1]?.length ?? 0;
      received += page.length;
      request.onMessages(page.length, bytes);
      const last = page[page.length - 1];
      if (!last) break;
      start = `(${last[0].toString()}`;
    }
  }

  async close(): Promise<void> {
    if (this.redis) {
      await this.redis.quit().catch(() => undefined); // Closing anyway; a failed QUIT changes nothing.
      this.redis = undefined;
    }
  }
}
