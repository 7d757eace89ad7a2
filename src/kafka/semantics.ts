// Version-dependent meanings the codec cannot express in types alone, in one place so the
// listener does not have to remember them.

import type { FindCoordinatorRequest, MetadataRequest, OffsetFetchRequest, OffsetFetchRequestTopics } from './apis/index.js';

/**
 * Metadata: v0 has no null topic list, so an EMPTY list means all topics; from v1 null means
 * all topics and an empty list means none.
 */
export function metadataWantsAllTopics(apiVersion: number, request: Pick<MetadataRequest, 'topics'>): boolean {
  if (request.topics === null) return true;
  return apiVersion === 0 && request.topics.length === 0;
}

/** FindCoordinator: v0-3 ask for one `key`; v4 batches them in `coordinatorKeys` (and answers in `coordinators`). */
export function findCoordinatorKeys(apiVersion: number, request: Pick<FindCoordinatorRequest, 'key' | 'coordinatorKeys'>): string[] {
  return apiVersion >= 4 ? request.coordinatorKeys : [request.key];
}

/**
 * OffsetFetch: v1-7 name one group (and topics; null = all, from v2); v8 a list of groups.
 * Both as a list of { groupId, topics }.
 */
export function offsetFetchGroups(
  apiVersion: number,
  request: Pick<OffsetFetchRequest, 'groupId' | 'topics' | 'groups'>,
): { groupId: string; topics: OffsetFetchRequestTopics[] | null }[] {
  if (apiVersion >= 8) return request.groups;
  return [{ groupId: request.groupId, topics: request.topics }];
}
