// Share-group descriptions, protocol-neutral: the coordinator's share kind describes a
// group (members, per share-partition start offset, in flight, acquired, delivery counts)
// and this adds the dead-letter depth: the log end of `<group>.dlq` (one partition; 0
// while it does not exist). The native DescribeShareGroups and the console API both call
// this, so they answer the same numbers.

import type { ShareGroupDescription } from '../../groups/share-groups.js';
import type { BrokerContext } from '../context.js';

/** What a description reads: the coordinator and the logs (the metrics scrape passes its own source). */
type ShareSource = Pick<BrokerContext, 'coordinator' | 'logs'>;

export interface ShareGroupView extends ShareGroupDescription {
  /** Records in the dead-letter topic: its log end (the DLQ has one partition). */
  deadLetters: number;
}

/** The group with its DLQ depth; undefined when no share group has this id. */
export function describeShareGroup(ctx: ShareSource, groupId: string): ShareGroupView | undefined {
  const description = ctx.coordinator.shares.describe(groupId);
  if (description === undefined) return undefined;
  return { ...description, deadLetters: deadLetterDepth(ctx, description.deadLetterTopic) };
}

/** Every share group's id, sorted. */
export function listShareGroupIds(ctx: ShareSource): string[] {
  return ctx.coordinator.shares.groupIds();
}

function deadLetterDepth(ctx: ShareSource, topic: string): number {
  return ctx.logs.getTopic(topic) === undefined ? 0 : ctx.logs.getPartition(topic, 0).logEndOffset;
}
