// Kafka ListOffsets v0-5 over core/admin.ts listOffset: -1 latest, -2 earliest, otherwise
// the first offset with a timestamp at or after the one asked. v0 answers in
// oldStyleOffsets (an array of at most maxNumOffsets offsets; we give the one), v1+ in
// timestamp + offset. Sliced like the native handler: a time lookup decodes a batch.

import { KafkaErrors, type ListOffsetsPartitionResponse, type ListOffsetsRequest, type ListOffsetsResponse } from '../../kafka/index.js';
import { RequestLimits } from '../../protocol/validate.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { listOffset } from '../core/admin.js';
import type { Outcome } from '../front.js';
import { mapInSlices, thenMaybe } from '../slices.js';
import { answer, itemError, type KafkaAnswer, type KafkaScope } from './answer.js';

export function handleListOffsets(ctx: BrokerContext, request: ListOffsetsRequest, scope: KafkaScope): Outcome<KafkaAnswer> {
  const entries = request.topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
  const tooMany = entries.length > RequestLimits.maxPartitionsPerRequest;
  const results = mapInSlices(entries, ({ topic, partition }): ListOffsetsPartitionResponse => {
    const base = { partitionIndex: partition.partitionIndex, leaderEpoch: 0 };
    try {
      if (tooMany) throw new SpoolError(Errors.INVALID_REQUEST, `a ListOffsets may name at most ${RequestLimits.maxPartitionsPerRequest} partitions`);
      const found = listOffset(ctx, topic, partition.partitionIndex, partition.timestamp, scope.session);
      if (scope.apiVersion === 0) return { ...base, errorCode: KafkaErrors.NONE, oldStyleOffsets: partition.maxNumOffsets > 0 ? [found.offset] : [] };
      return { ...base, errorCode: KafkaErrors.NONE, timestamp: found.timestamp, offset: found.offset };
    } catch (error) {
      const { errorCode } = itemError(ctx, 'offsets', error);
      return { ...base, errorCode, oldStyleOffsets: [], timestamp: -1, offset: -1 };
    }
  });
  return thenMaybe(results, (done) => {
    let next = 0;
    const topics = request.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.map(() => done[next++]!) }));
    return answer({ throttleTimeMs: 0, topics } satisfies ListOffsetsResponse);
  });
}
