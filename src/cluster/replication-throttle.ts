// The reassignment throttle on the follower's side (Kafka's KIP-73 replication quota, README.md
// "Reassignment throttle"). A partition is throttled on this broker while a reassignment
// request with a throttle is pending for it, this broker follows it, and this broker is not in
// its ISR: the catch-up copy of a new replica. An ISR member is never throttled (acks=all waits
// for it), so a throttled replica stops being throttled the moment the leader adds it to the
// ISR, and every replica stops when the controller deletes the request (the move is done).
//
// One token bucket per broker, shared by all its throttled partitions over all its fetchers
// (Kafka's follower.replication.throttled.rate is per broker too). Its rate is the lowest
// throttle of the pending requests that name this broker as a target replica.

import { performance } from 'node:perf_hooks';
import type { ClusterView } from './cluster-view.js';
import { partitionId } from './layout.js';
import type { FetchThrottle } from './replica-fetcher.js';
import type { PartitionRole } from './replica-roles.js';
import { TokenBucket } from './token-bucket.js';
import type { ReassignmentRequest } from './values.js';

/** The throttle (bytes/s) that applies to this broker's fetches of a partition now, or null. */
export function followerThrottle(request: ReassignmentRequest | undefined, role: PartitionRole | undefined, nodeId: number): number | null {
  if (request?.throttleBytesPerSecond === undefined || role === undefined || role.role !== 'follower') return null;
  return role.isr.includes(nodeId) ? null : request.throttleBytesPerSecond;
}

/** The lowest throttle of the pending requests with this broker among the targets, or null. */
export function brokerThrottle(requests: Iterable<ReassignmentRequest>, nodeId: number): number | null {
  let lowest: number | null = null;
  for (const request of requests) {
    const rate = request.throttleBytesPerSecond;
    if (rate !== undefined && request.replicas.includes(nodeId) && (lowest === null || rate < lowest)) lowest = rate;
  }
  return lowest;
}

export class ReplicationThrottle implements FetchThrottle {
  private bucket: TokenBucket | null = null;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly nodeId: number,
    private readonly view: Pick<ClusterView, 'reassignments' | 'onChange'>,
    private readonly roles: { get(topic: string, partition: number): PartitionRole | undefined },
    private readonly info: (message: string) => void,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.unsubscribe = view.onChange(() => this.refresh());
    this.refresh();
  }

  /** Reads the rate from the pending requests (on every view change: requests come and go). */
  refresh(): void {
    const rate = brokerThrottle(this.view.reassignments.values(), this.nodeId);
    const current = this.bucket?.rateBytesPerSecond ?? null;
    if (rate === current) return;
    if (rate === null) {
      this.bucket = null;
      this.info('replication: reassignment throttle off (no throttled reassignment pending for this broker)');
      return;
    }
    if (this.bucket) this.bucket.setRate(rate, this.nowMs());
    else this.bucket = new TokenBucket(rate, this.nowMs());
    this.info(`replication: reassignment throttle ${rate} bytes/s for catching-up replicas on this broker (in-sync replicas are never throttled)`);
  }

  bucketFor(topic: string, partition: number): TokenBucket | null {
    if (this.bucket === null) return null;
    const request = this.view.reassignments.get(partitionId(topic, partition));
    return followerThrottle(request, this.roles.get(topic, partition), this.nodeId) === null ? null : this.bucket;
  }

  close(): void {
    this.unsubscribe();
    this.bucket = null;
  }
}
