// The dead-letter path of share groups: the only place the broker decodes a record of a
// share-partition. A record archived by reject or by the delivery limit is copied to the
// group's dead-letter topic `<group>.dlq` (one partition, created on first use) with its
// original key, value, headers and timestamp, plus provenance headers:
//
//   spool.dlq.topic          origin topic
//   spool.dlq.partition      origin partition (decimal)
//   spool.dlq.offset         origin offset (decimal)
//   spool.dlq.delivery-count deliveries made (decimal)
//   spool.dlq.group          the share group
//   spool.dlq.error          the last error text the consumer gave ('' when none)

import { decodeBatch, encodeBatch, forEachBatch, type RecordInput } from '../records/index.js';
import type { LogManager } from '../storage/types.js';
import { isSpoolError } from '../util/errors.js';
import type { DeadLetter } from './share-partition.js';
import type { DeadLetterSink } from './share-persister.js';

import { DLQ_SUFFIX, DlqHeaders } from '../protocol/dead-letter.js';

export { DLQ_SUFFIX, DlqHeaders };

export function deadLetterTopic(groupId: string): string {
  return `${groupId}${DLQ_SUFFIX}`;
}

/** Dead letters of one share-partition. */
export interface DeadLetterBatch {
  topic: string;
  partition: number;
  letters: DeadLetter[];
}

/** Creates `<group>.dlq` when missing (async: do this before the synchronous append). */
export async function ensureDeadLetterTopic(logs: LogManager, groupId: string): Promise<void> {
  const topic = deadLetterTopic(groupId);
  if (logs.getTopic(topic) !== undefined) return;
  try {
    await logs.createTopic(topic, 1);
  } catch (error) {
    // Another acknowledgement created it meanwhile: that is what we wanted.
    if (!isSpoolError(error) || logs.getTopic(topic) === undefined) throw error;
  }
}

/** `<group>.dlq` in this broker's own logs (a single node). */
export class LocalDeadLetterSink implements DeadLetterSink {
  constructor(private readonly logs: LogManager) {}

  async append(groupId: string, records: RecordInput[]): Promise<void> {
    await ensureDeadLetterTopic(this.logs, groupId);
    await this.logs.getPartition(deadLetterTopic(groupId), 0).append(encodeBatch(records));
  }
}

/**
 * Builds the dead-letter records, reading the originals from this broker's log (the
 * share-partition leader leads the data partition). A record that retention already
 * removed is skipped with a warning: there is nothing left to copy.
 */
export function buildDeadLetters(logs: LogManager, groupId: string, batches: readonly DeadLetterBatch[], warn: (message: string) => void): RecordInput[] {
  const inputs: RecordInput[] = [];
  for (const batch of batches) {
    const log = logs.getPartition(batch.topic, batch.partition);
    for (const letter of batch.letters) {
      if (letter.offset < log.logStartOffset) {
        warn(`share group ${groupId}: ${batch.topic}-${batch.partition} offset ${letter.offset} is gone (retention); not dead-lettered`);
        continue;
      }
      const { bytes } = log.read(letter.offset, 1);
      let original: ReturnType<typeof decodeBatch>['records'][number] | undefined;
      forEachBatch(bytes, (_header, position) => {
        if (original === undefined) original = decodeBatch(bytes, position).records.find((record) => record.offset === letter.offset);
      });
      // A hole of a compacted batch was never delivered to anyone; it is never archived here.
      if (original === undefined) continue;
      inputs.push({
        key: original.key,
        value: original.value,
        timestamp: original.timestamp,
        headers: [
          ...original.headers,
          [DlqHeaders.TOPIC, batch.topic],
          [DlqHeaders.PARTITION, String(batch.partition)],
          [DlqHeaders.OFFSET, String(letter.offset)],
          [DlqHeaders.DELIVERY_COUNT, String(letter.deliveryCount)],
          [DlqHeaders.GROUP, groupId],
          [DlqHeaders.ERROR, letter.lastError],
        ],
      });
    }
  }
  return inputs;
}
