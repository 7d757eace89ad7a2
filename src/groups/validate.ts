// Request checks shared by the group handlers. Each returns a Problem (the error kind
// and a message for the client) or undefined.

import type * as M from '../protocol/messages.js';
import { Errors, type ErrorKind } from '../util/errors.js';
import { isAssignorName } from './assignors/index.js';
import { MAX_GROUP_ID_BYTES } from './offset-codec.js';

export type Problem = [ErrorKind, string];

/** Returns an error message when the group id is not acceptable. */
export function checkGroupId(groupId: unknown): string | undefined {
  if (typeof groupId !== 'string' || groupId.length === 0) return 'the group id must be a non-empty string';
  if (Buffer.byteLength(groupId, 'utf8') > MAX_GROUP_ID_BYTES) return `the group id is longer than ${MAX_GROUP_ID_BYTES} bytes`;
  return undefined;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function isTopicPartitionsList(value: unknown): value is M.TopicPartitions[] {
  return (
    Array.isArray(value) &&
    value.every((entry: unknown) => {
      const candidate = entry as Partial<M.TopicPartitions> | null;
      return (
        typeof candidate === 'object' &&
        candidate !== null &&
        typeof candidate.topic === 'string' &&
        Array.isArray(candidate.partitions) &&
        candidate.partitions.every((partition) => Number.isInteger(partition) && partition >= 0)
      );
    })
  );
}

/** Shape and limit checks of a ConsumerGroupHeartbeat, before any state is looked at. */
export function checkHeartbeat(
  request: M.ConsumerGroupHeartbeatRequest,
  minSessionTimeoutMs: number,
  maxSessionTimeoutMs: number,
): Problem | undefined {
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return [Errors.INVALID_GROUP_ID, groupError];
  if (typeof request.memberId !== 'string' || !Number.isInteger(request.memberEpoch) || request.memberEpoch < -1) {
    return [Errors.INVALID_REQUEST, 'memberId must be a string and memberEpoch an integer >= -1'];
  }
  if (request.topics !== undefined && !isStringArray(request.topics)) {
    return [Errors.INVALID_REQUEST, 'topics must be an array of topic names'];
  }
  if (request.ownedPartitions !== undefined && !isTopicPartitionsList(request.ownedPartitions)) {
    return [Errors.INVALID_REQUEST, 'ownedPartitions must be a list of { topic, partitions }'];
  }
  if (request.assignor !== undefined && !isAssignorName(request.assignor)) {
    return [Errors.UNSUPPORTED_ASSIGNOR, `unknown assignor ${String(request.assignor)}; use uniform or range`];
  }
  const session = request.sessionTimeoutMs;
  if (session !== undefined && !(Number.isInteger(session) && session >= minSessionTimeoutMs && session <= maxSessionTimeoutMs)) {
    return [
      Errors.INVALID_SESSION_TIMEOUT,
      `sessionTimeoutMs ${session} is outside ${minSessionTimeoutMs}..${maxSessionTimeoutMs}`,
    ];
  }
  return undefined;
}
