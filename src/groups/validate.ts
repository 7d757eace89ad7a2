// Checks of request values against the coordinator's rules and limits (group id
// length, session timeout bounds, known assignors). The shape of a request (types,
// required fields) is checked by the front that decoded it, before it gets here.
// Each check returns a Problem (the error kind and a message for the client) or undefined.

import { Errors } from '../util/errors.js';
import { isAssignorName } from './assignors/index.js';
import type { Problem } from './group-kind.js';
import { MAX_GROUP_ID_BYTES } from './offset-codec.js';
import type { ConsumerHeartbeat } from './types.js';

export type { Problem } from './group-kind.js';

/** Returns an error message when the group id is not acceptable. */
export function checkGroupId(groupId: unknown): string | undefined {
  if (typeof groupId !== 'string' || groupId.length === 0) return 'the group id must be a non-empty string';
  if (Buffer.byteLength(groupId, 'utf8') > MAX_GROUP_ID_BYTES) return `the group id is longer than ${MAX_GROUP_ID_BYTES} bytes`;
  return undefined;
}

/** Value and limit checks of a ConsumerGroupHeartbeat, before any state is looked at. */
export function checkHeartbeat(
  request: ConsumerHeartbeat,
  minSessionTimeoutMs: number,
  maxSessionTimeoutMs: number,
): Problem | undefined {
  const groupError = checkGroupId(request.groupId);
  if (groupError !== undefined) return [Errors.INVALID_GROUP_ID, groupError];
  if (request.memberEpoch < -1) return [Errors.INVALID_REQUEST, 'memberEpoch must be >= -1'];
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
