// Produce: validate each partition's batches (magic, lengths, CRC, sizes; no record is
// decoded; storage's append does it), append them with one append call per partition, wake parked fetches, and
// answer per acks: 0 no response, 1 after the write, -1 (all) after the append promise
// resolves (fsync per the broker's policy; storage group-commits concurrent appends).
//
// The request bytes are read only while handleProduce runs synchronously: the connection
// reuses the frame's memory as soon as it returns (pooled frame assembly). The one path
// that appends after an await (auto-creation) works on its own copy.
//
// Order: appends happen synchronously while the request is handled, so requests on one
// connection reach the log in request order. Only auto-creation awaits, and it does so
// before any append of the request.

import { splitPayload } from '../protocol/body.js';
import { errorFields } from '../protocol/errors.js';
import type { ProducePartitionResult, ProduceRequest } from '../protocol/messages.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import type { BrokerContext, HandlerResponse } from './context.js';
import { quoted } from './logger.js';

export function handleProduce(ctx: BrokerContext, request: ProduceRequest, payload: Buffer): HandlerResponse | null | Promise<HandlerResponse | null> {
  const sizes = request.partitions.map((entry) => entry.size);
  const parts = splitPayload(payload, sizes);
  if (ctx.options.autoCreateTopics && request.partitions.some((entry) => !ctx.logs.getTopic(entry.topic))) {
    // Appends after an await: copy, since the caller reuses `payload` once this returns.
    const owned = splitPayload(Buffer.from(payload), sizes);
    return autoCreateTopics(ctx, request).then((creationErrors) => appendAll(ctx, request, owned, creationErrors));
  }
  return appendAll(ctx, request, parts, new Map());
}

/** Appends every partition synchronously; a promise only when the answer must wait. */
function appendAll(
  ctx: BrokerContext,
  request: ProduceRequest,
  parts: Buffer[],
  creationErrors: Map<string, SpoolError>,
): HandlerResponse | null | Promise<HandlerResponse | null> {
  const results: ProducePartitionResult[] = [];
  const waits: Array<Promise<void>> = [];
  for (let i = 0; i < request.partitions.length; i++) {
    const entry = request.partitions[i]!;
    const result: ProducePartitionResult = { errorCode: 0, topic: entry.topic, partition: entry.partition, baseOffset: -1, logStartOffset: -1 };
    results.push(result);
    try {
      const creationError = creationErrors.get(entry.topic);
      if (creationError) throw creationError;
      const wait = appendPartition(ctx, entry.topic, entry.partition, parts[i]!, request.acks, result);
      if (wait) waits.push(wait);
    } catch (error) {
      setError(ctx, result, error);
    }
  }
  const respond = (): HandlerResponse | null => (request.acks === 0 ? null : { header: { errorCode: 0, partitions: results } });
  return waits.length > 0 ? Promise.all(waits).then(respond) : respond();
}

/** Appends synchronously; returns a promise when the answer must wait for the append to settle. */
function appendPartition(
  ctx: BrokerContext,
  topic: string,
  partition: number,
  batches: Buffer,
  acks: ProduceRequest['acks'],
  result: ProducePartitionResult,
): Promise<void> | null {
  const info = ctx.logs.getTopic(topic);
  if (!info) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist`);
  if (info.internal) throw new SpoolError(Errors.INVALID_TOPIC, `topic '${topic}' is internal: clients cannot produce to it`);
  const log = ctx.logs.getPartition(topic, partition);
  // Validation (magic, lengths, CRC, max.message.bytes, producer offset deltas) is done once,
  // by storage's append, before anything is written: the CRC is most of a produce's broker
  // CPU, so checking here as well would pay it twice. Its SpoolError (CORRUPT_MESSAGE,
  // MESSAGE_TOO_LARGE) comes back through `appended` and lands in the partition's result.
  const logEndBefore = log.logEndOffset;
  const appended = log.append(batches);
  const written = log.logEndOffset > logEndBefore;
  if (written) {
    ctx.waiters.notify(topic, partition);
    // Per partition of the request, not per message: the offsets the append assigned are its records.
    ctx.metrics.produced(topic, batches.length, log.logEndOffset - logEndBefore);
  }
  const settle = appended.then(
    (append) => {
      result.baseOffset = append.baseOffset;
      result.logStartOffset = log.logStartOffset;
    },
    (error: unknown) => {
      setError(ctx, result, error);
    },
  );
  if (acks === -1 || !written) return settle;
  // acks 0 and 1: the bytes are in the log (the OS has them); answer now. A later
  // failure of the flush is storage's to report (the partition goes offline, sticky).
  result.baseOffset = logEndBefore;
  result.logStartOffset = log.logStartOffset;
  return null;
}

function setError(ctx: BrokerContext, result: ProducePartitionResult, error: unknown): void {
  if (!isSpoolError(error)) {
    ctx.logger.error(`produce to ${quoted(result.topic)} partition ${result.partition} failed with a bug`, error, { api: 'Produce', topic: result.topic, partition: result.partition });
  }
  Object.assign(result, errorFields(error), { baseOffset: -1, logStartOffset: -1 });
}

/** Creates the unknown topics of a produce request; returns the creation errors by topic. */
async function autoCreateTopics(ctx: BrokerContext, request: ProduceRequest): Promise<Map<string, SpoolError>> {
  const errors = new Map<string, SpoolError>();
  const missing = new Set(request.partitions.map((entry) => entry.topic).filter((topic) => !ctx.logs.getTopic(topic)));
  await Promise.all(
    [...missing].map(async (topic) => {
      if (topic.startsWith('__')) {
        errors.set(topic, new SpoolError(Errors.INVALID_TOPIC, `topic names starting with '__' are reserved for internal topics`));
        return;
      }
      let creation = ctx.creatingTopics.get(topic);
      if (!creation) {
        creation = ctx.logs.createTopic(topic, ctx.options.defaultPartitions).then(
          () => {
            ctx.logger.info(`auto-created topic ${quoted(topic)} with ${ctx.options.defaultPartitions} partition(s)`);
          },
          (error: unknown) => {
            if (!isSpoolError(error, Errors.TOPIC_ALREADY_EXISTS)) throw error;
          },
        );
        const settled = creation.finally(() => ctx.creatingTopics.delete(topic));
        settled.catch(() => {}); // Safe: the error is observed through `creation` below.
        ctx.creatingTopics.set(topic, creation);
      }
      try {
        await creation;
      } catch (error) {
        errors.set(topic, isSpoolError(error) ? error : new SpoolError(Errors.UNKNOWN, `auto-creating topic '${topic}' failed`, { cause: error }));
        if (!isSpoolError(error)) ctx.logger.error(`auto-creating topic ${quoted(topic)} failed`, error);
      }
    }),
  );
  return errors;
}
