// Request checks shared by the group handlers.

import { MAX_GROUP_ID_BYTES } from './offset-codec.js';

/** Returns an error message when the group id is not acceptable. */
export function checkGroupId(groupId: unknown): string | undefined {
  if (typeof groupId !== 'string' || groupId.length === 0) return 'the group id must be a non-empty string';
  if (Buffer.byteLength(groupId, 'utf8') > MAX_GROUP_ID_BYTES) return `the group id is longer than ${MAX_GROUP_ID_BYTES} bytes`;
  return undefined;
}

export function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
