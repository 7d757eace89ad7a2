// The headers a dead-lettered record carries, one contract for the broker's share-group DLQ
// (groups/share-dead-letter.ts) and the SDK's retry topics (client/retry-topics.ts): tools
// reading a DLQ (`spool dlq list`) read both the same way.

/** A group's dead-letter topic is `<group>` + this, unless configured. */
export const DLQ_SUFFIX = '.dlq';

export const DlqHeaders = {
  TOPIC: 'spool.dlq.topic',
  PARTITION: 'spool.dlq.partition',
  OFFSET: 'spool.dlq.offset',
  DELIVERY_COUNT: 'spool.dlq.delivery-count',
  GROUP: 'spool.dlq.group',
  ERROR: 'spool.dlq.error',
} as const;
