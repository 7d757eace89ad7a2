// A share group's description in a cluster is spread over brokers (src/groups/README.md
// "Share groups in a cluster"): each data partition's leader holds its share-partitions
// live (members, acquisitions), and the group's share coordinator holds the stored state
// of every share-partition and the group's config. The admin asks every broker and merges
// their answers here: per share-partition the live view wins over the stored one; members
// are the union; the config is the coordinator's; the dead-letter depth is the largest seen
// (a follower's copy may lag). A group is unknown only when no broker knows it.

import type { ShareGroupDescription } from '../protocol/messages.js';
import { Errors } from '../util/errors.js';

/** `answers`: each broker's groups (in any order); the result follows `groupIds`. */
export function mergeShareDescriptions(groupIds: readonly string[], answers: readonly (readonly ShareGroupDescription[])[]): ShareGroupDescription[] {
  return groupIds.map((groupId) => {
    const found = answers.flatMap((groups) => groups.filter((group) => group.groupId === groupId && group.errorCode === 0));
    if (found.length === 0) {
      const refused = answers.flatMap((groups) => groups.filter((group) => group.groupId === groupId && group.errorCode !== Errors.GROUP_ID_NOT_FOUND.code));
      return refused[0] ?? answers.flatMap((groups) => groups.filter((group) => group.groupId === groupId))[0] ?? notFound(groupId);
    }
    const coordinator = found.find((group) => group.coordinator === true) ?? found[0]!;
    const partitions = new Map<string, ShareGroupDescription['partitions'][number]>();
    for (const group of found) {
      for (const entry of group.partitions) {
        const key = `${entry.topic}\u0000${entry.partition}`;
        const known = partitions.get(key);
        if (known === undefined || (entry.live === true && known.live !== true)) partitions.set(key, entry);
      }
    }
    const merged: ShareGroupDescription = {
      ...coordinator,
      members: [...new Set(found.flatMap((group) => group.members))].sort(),
      deadLetters: Math.max(...found.map((group) => group.deadLetters)),
      partitions: [...partitions.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition)),
    };
    return merged;
  });
}

function notFound(groupId: string): ShareGroupDescription {
  return { groupId, errorCode: Errors.GROUP_ID_NOT_FOUND.code, errorMessage: `share group ${groupId} does not exist`, members: [], deadLetterTopic: `${groupId}.dlq`, deadLetters: 0, partitions: [] };
}
