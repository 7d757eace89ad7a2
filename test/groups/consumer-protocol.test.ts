// Proves the best-effort reader of Kafka's consumer-protocol bytes (used by describe for
// classic groups): it reads what kafka clients write (subscription topics, assignment
// partitions, trailing user data and later-version fields ignored), and any truncation
// or garbage gives undefined instead of an exception or a huge allocation.

import { describe, expect, it } from 'vitest';
import { decodeConsumerAssignment, decodeConsumerSubscription } from '../../src/groups/consumer-protocol.js';
import { assignment, subscription } from './classic-helpers.js';

describe('consumer protocol bytes', () => {
  it('reads subscriptions and assignments; empty assignment bytes are no partitions', () => {
    expect(decodeConsumerSubscription(subscription(['orders', 'refunds']))).toEqual(['orders', 'refunds']);
    // A v1+ subscription has more fields after user_data: still read.
    expect(decodeConsumerSubscription(Buffer.concat([subscription(['a']), Buffer.from([0, 0, 0, 0])]))).toEqual(['a']);
    expect(decodeConsumerAssignment(assignment([['orders', [0, 2]], ['refunds', [1]]]))).toEqual([
      { topic: 'orders', partitions: [0, 2] },
      { topic: 'refunds', partitions: [1] },
    ]);
    expect(decodeConsumerAssignment(Buffer.alloc(0))).toEqual([]);
  });

  it('never throws on a truncated or corrupt input', () => {
    const whole = assignment([['orders', [0, 1, 2]]]);
    // Cut before the trailing user_data field (4 bytes, not read): every such prefix is malformed.
    for (let length = 1; length < whole.length - 4; length++) {
      expect(decodeConsumerAssignment(whole.subarray(0, length))).toBeUndefined();
    }
    const huge = Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff]);
    expect(decodeConsumerAssignment(huge)).toBeUndefined();
    expect(decodeConsumerSubscription(huge)).toBeUndefined();
    expect(decodeConsumerSubscription(Buffer.from('not a subscription'))).toBeUndefined();
  });
});
