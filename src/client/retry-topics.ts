// Retry topics for consumer and classic groups (the share groups' release-with-delay and
// dead-letter queue, for users who stay on partitions for their ordering):
//
//   const retries = new RetryTopics(client, { topic: 'orders', groupId: 'billing', delaysMs: [1_000, 30_000] });
//   await retries.createTopics();                       // orders.retry.1, orders.retry.2, billing.dlq
//   await consumer.subscribe({ topics: retries.topics() });
//   await consumer.run({ eachMessage: retries.handler(consumer, async ({ message, attempt }) => bill(message)) });
//
// A handler that throws does not block its partition: the message is produced to
// `<topic>.retry.<n>` (n = 1 for the first failure) with the headers below, and the
// consumer moves on. A message read from a retry topic before its not-before time pauses
// that retry partition, seeks back to it and resumes when it is due (every message of one
// retry topic has the same delay, so they come due in order); then the handler runs again
// with `attempt` n. After the last retry fails, the message goes to the dead-letter topic
// (default `<groupId>.dlq`, like a share group's) with the share DLQ's provenance headers.
// The produce is awaited before the handler returns, so the offset is committed only once
// the message is safe in its next topic (at least once: a crash in between retries it).
//
// Headers (values are decimal text, except topic/group/error), on retry and DLQ records:
//   spool.dlq.topic / .partition / .offset   where the message was first consumed
//   spool.dlq.group                          the consumer's group ('' without one)
//   spool.dlq.delivery-count                 handler runs so far (1 after the first failure)
//   spool.dlq.error                          the last error's message (at most 4,096 chars)
// and on retry records only:
//   spool.retry.attempt                      n, the retry this record is for
//   spool.retry.not-before                   ms since the epoch before which it is not handled
// The original key, value, timestamp and other headers are kept.

import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import type { ConsumedMessage, Consumer, EachMessagePayload } from './consumer.js';
import type { HeaderValue } from './headers.js';
import type { Producer } from './producer.js';
import { DlqHeaders } from '../protocol/dead-letter.js';

export const RetryHeaders = {
  ...DlqHeaders,
  ATTEMPT: 'spool.retry.attempt',
  NOT_BEFORE: 'spool.retry.not-before',
} as const;

/** Retry stages at most (each one a topic). */
export const MAX_RETRY_STAGES = 10;
/** Longest error text carried in spool.dlq.error (as the share DLQ). */
const MAX_ERROR_CHARS = 4096;

export interface RetryTopicsConfig {
  /** The topic whose failed messages are retried. */
  topic: string;
  /** The consuming group: written in spool.dlq.group, and names the default dead-letter topic. */
  groupId?: string;
  /** Delay of each retry stage, ms (1..10 stages; 0..86,400,000 each): retry n waits delaysMs[n-1] after the failure. */
  delaysMs: number[];
  /** Where a message goes after its last retry failed. Default `<groupId>.dlq` (`<topic>.dlq` without a group). */
  deadLetterTopic?: string;
}

export interface RetryEachMessagePayload extends EachMessagePayload {
  /** 0 for the first run, n when the message comes from `<topic>.retry.<n>`. */
  attempt: number;
  /** The topic the message was first consumed from (= topic on the first run). */
  originTopic: string;
}

export class RetryTopics {
  readonly topic: string;
  readonly groupId: string;
  readonly delaysMs: readonly number[];
  readonly deadLetterTopic: string;
  private producer: Producer | undefined;
  /** Resume timers of paused retry partitions, by "topic\0partition". */
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly client: Client,
    config: RetryTopicsConfig,
  ) {
    if (typeof config?.topic !== 'string' || config.topic === '') throw new SpoolError(Errors.INVALID_TOPIC, 'RetryTopics needs a topic');
    const delays = config.delaysMs;
    if (!Array.isArray(delays) || delays.length < 1 || delays.length > MAX_RETRY_STAGES || delays.some((delay) => !Number.isInteger(delay) || delay < 0 || delay > 86_400_000)) {
      throw new SpoolError(Errors.INVALID_REQUEST, `RetryTopics delaysMs must be 1..${MAX_RETRY_STAGES} integer delays of 0..86,400,000 ms`);
    }
    this.topic = config.topic;
    this.groupId = config.groupId ?? '';
    this.delaysMs = [...delays];
    this.deadLetterTopic = config.deadLetterTopic ?? `${this.groupId === '' ? this.topic : this.groupId}.dlq`;
  }

  /** `<topic>.retry.<n>` for n = 1..stages. */
  retryTopic(attempt: number): string {
    return `${this.topic}.retry.${attempt}`;
  }

  /** The topic and its retry topics: what the consumer subscribes to. */
  topics(): string[] {
    return [this.topic, ...this.delaysMs.map((_, index) => this.retryTopic(index + 1))];
  }

  /** Creates the retry topics (the origin's partition count) and the dead-letter topic (1 partition) that do not exist yet. */
  async createTopics(): Promise<void> {
    const partitions = await this.client.metadata.partitionCount(this.topic);
    const admin = this.client.admin();
    const existing = new Set(await admin.listTopics());
    const wanted = [
      ...this.delaysMs.map((_, index) => ({ topic: this.retryTopic(index + 1), numPartitions: partitions })),
      { topic: this.deadLetterTopic, numPartitions: 1 },
    ].filter((spec) => !existing.has(spec.topic));
    for (const spec of wanted) {
      try {
        await admin.createTopics({ topics: [spec] });
      } catch (error) {
        // Another member created it meanwhile: that is what we wanted.
        if (!(error instanceof SpoolError) || error.errorCode !== Errors.TOPIC_ALREADY_EXISTS.code) throw error;
      }
    }
  }

  /**
   * Wraps an eachMessage handler: messages of the retry topics wait for their time, a
   * handler that throws sends its message to the next retry topic or the dead-letter topic.
   */
  handler(consumer: Consumer, eachMessage: (payload: RetryEachMessagePayload) => Promise<void> | void): (payload: EachMessagePayload) => Promise<void> {
    return async (payload) => {
      const { message } = payload;
      const attempt = this.attemptOf(payload.topic, message);
      if (attempt > 0) {
        const notBeforeMs = Number(message.headers[RetryHeaders.NOT_BEFORE]?.toString() ?? 0);
        const waitMs = notBeforeMs - Date.now();
        if (waitMs > 0) {
          this.waitFor(consumer, payload.topic, payload.partition, message.offset, waitMs);
          return;
        }
      }
      const originTopic = attempt === 0 ? payload.topic : (message.headers[RetryHeaders.TOPIC]?.toString() ?? this.topic);
      try {
        await eachMessage({ ...payload, attempt, originTopic });
      } catch (error) {
        await this.forward(payload, attempt, error);
      }
    };
  }

  /** Stops the resume timers and the producer (the consumer is closed by its owner). */
  async close(): Promise<void> {
    for (const timer of this.resumeTimers.values()) clearTimeout(timer);
    this.resumeTimers.clear();
    await this.producer?.close();
    this.producer = undefined;
  }

  private attemptOf(topic: string, message: ConsumedMessage): number {
    if (topic === this.topic) return 0;
    const prefix = `${this.topic}.retry.`;
    if (!topic.startsWith(prefix)) return 0;
    const fromName = Number(topic.slice(prefix.length));
    const fromHeader = Number(message.headers[RetryHeaders.ATTEMPT]?.toString() ?? fromName);
    return Number.isInteger(fromHeader) && fromHeader > 0 ? fromHeader : fromName;
  }

  /** Not due yet: pause this retry partition, go back to the message, resume when it is due. */
  private waitFor(consumer: Consumer, topic: string, partition: number, offset: number, waitMs: number): void {
    const key = `${topic}\u0000${partition}`;
    consumer.pause([{ topic, partition }]);
    // Not awaited: the seek takes effect at once (the position is set), its fetch follows.
    consumer.seek({ topic, partition, offset }).catch(() => undefined);
    clearTimeout(this.resumeTimers.get(key));
    const timer = setTimeout(() => {
      this.resumeTimers.delete(key);
      try {
        consumer.resume([{ topic, partition }]);
      } catch {
        // The partition was revoked meanwhile: its new owner reads it (from the committed offset).
      }
    }, waitMs);
    timer.unref?.();
    this.resumeTimers.set(key, timer);
  }

  /** Produces the failed message to its next retry topic, or the dead-letter topic after the last. */
  private async forward(payload: EachMessagePayload, attempt: number, error: unknown): Promise<void> {
    const { message } = payload;
    const next = attempt + 1;
    const toDeadLetter = next > this.delaysMs.length;
    const headers: Array<[string, HeaderValue]> = [];
    for (const [name, value] of message.headerList) {
      if (name === RetryHeaders.ATTEMPT || name === RetryHeaders.NOT_BEFORE || name === RetryHeaders.ERROR || name === RetryHeaders.DELIVERY_COUNT || name === RetryHeaders.GROUP) continue;
      // The origin headers are written once, on the first failure, and kept from then on.
      if (attempt === 0 && (name === RetryHeaders.TOPIC || name === RetryHeaders.PARTITION || name === RetryHeaders.OFFSET)) continue;
      headers.push([name, value]);
    }
    if (attempt === 0) {
      headers.push([RetryHeaders.TOPIC, payload.topic], [RetryHeaders.PARTITION, String(payload.partition)], [RetryHeaders.OFFSET, String(message.offset)]);
    }
    const text = error instanceof Error ? error.message : String(error);
    headers.push(
      [RetryHeaders.DELIVERY_COUNT, String(next)],
      [RetryHeaders.GROUP, this.groupId],
      [RetryHeaders.ERROR, text.length > MAX_ERROR_CHARS ? text.slice(0, MAX_ERROR_CHARS) : text],
    );
    if (!toDeadLetter) headers.push([RetryHeaders.ATTEMPT, String(next)], [RetryHeaders.NOT_BEFORE, String(Date.now() + this.delaysMs[next - 1]!)]);
    this.producer ??= this.client.producer({ lingerMs: 0 });
    await this.producer.send({
      topic: toDeadLetter ? this.deadLetterTopic : this.retryTopic(next),
      messages: [{ key: message.key, value: message.value, headers, timestamp: message.timestamp }],
    });
  }
}
