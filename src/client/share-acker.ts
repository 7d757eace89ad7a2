// Acknowledgements of a share consumer, coalesced: every ack/release/reject/renew made in
// one turn of the event loop goes out in one ShareAcknowledge (consecutive offsets of the
// same kind merged into one range as they arrive), or rides on the consumer's next
// ShareFetch when it fetches first (`detach()`: one round trip per acquisition).
//
// The hot path allocates nothing per record: an acknowledgement that continues the last
// range of its partition only moves that range's lastOffset, and the callers of one
// partition in one batch share one promise (they settle together anyway: the broker
// answers per partition). `acknowledgeQuietly` (run()'s automatic acks, compaction holes)
// makes no promise at all.

import { ApiKey } from '../protocol/apis.js';
import type { ShareAcknowledgeRange, ShareAcknowledgeRequest, ShareAcknowledgeResponse } from '../protocol/messages.js';
import type { Client } from './client.js';
import type { CoordinatorLink } from './coordinator-link.js';
import type { Connection } from './connection.js';
import { ANY_BROKER } from './metadata.js';
import { errorFromCode } from './errors.js';
import { Errors, SpoolError } from '../util/errors.js';

export const AckType = { ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;
export type AckType = (typeof AckType)[keyof typeof AckType];

/** The pending acknowledgements of one partition, and the promise its callers share. */
interface PartitionAcks {
  /** The broker the records were acquired from (ANY_BROKER on a single broker): their acknowledgements go there and nowhere else. */
  nodeId: number;
  topic: string;
  partition: number;
  ranges: ShareAcknowledgeRange[];
  waiter: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | null;
}

/** Acknowledgements taken out of the acker to travel in another request; settle() with its answer. */
export interface DetachedAcks {
  /** Where they go (requeue() them there). */
  nodeId: number;
  partitions: ShareAcknowledgeRequest['partitions'];
  /** With the per-partition answers (ShareAcknowledgeResponse['partitions']) or the request's error. */
  settle(answer: ShareAcknowledgeResponse['partitions'] | Error): void;
}

export class ShareAcker {
  private pending: PartitionAcks[] = [];
  /** Ranges to send again (requeue()), after the pending ones, with the broker they go to. */
  private requeued: Array<{ nodeId: number; partitions: ShareAcknowledgeRequest['partitions'] }> = [];
  /** The partition acknowledged last: consecutive acks of one partition skip the lookup. */
  private last: PartitionAcks | null = null;
  private scheduled = false;

  constructor(
    private readonly client: Client,
    private readonly groupId: string,
    private readonly memberId: string,
    /** Acknowledgements go to the group's coordinator (coordinator-link.ts) on a single broker. */
    private readonly coordinator?: CoordinatorLink,
    /**
     * A cluster: every node a leave must reach (where the member may hold records). Each
     * acknowledgement goes to the broker its record was acquired from (another leader
     * took the partition: it is refused there, and the record comes back from the new
     * leader), never to the partition's current leader, whose copy of the record is another
     * delivery. Absent: everything goes to the coordinator.
     */
    private readonly routing?: { leaveNodes(): number[] },
  ) {}

  /** Queues one range; the promise settles with its partition's answer. */
  acknowledge(nodeId: number, topic: string, partition: number, range: ShareAcknowledgeRange): Promise<void> {
    const entry = this.add(nodeId, topic, partition, range.firstOffset, range.lastOffset, range.type, range.delayMs, range.error);
    if (entry.waiter === null) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((resolvePromise, rejectPromise) => {
        resolve = resolvePromise;
        reject = rejectPromise;
      });
      entry.waiter = { promise, resolve, reject };
    }
    return entry.waiter.promise;
  }

  /** Queues one offset with nobody waiting on the answer (a refused one is redelivered by the broker). */
  acknowledgeQuietly(nodeId: number, topic: string, partition: number, offset: number, type: AckType): void {
    this.add(nodeId, topic, partition, offset, offset, type, undefined, undefined);
  }

  get isEmpty(): boolean {
    return this.pending.length === 0 && this.requeued.length === 0;
  }

  /**
   * Takes everything pending out (only what goes to `nodeId`, when given: the broker the
   * fetch goes to), for a ShareFetch to carry; undefined when nothing is.
   */
  detach(nodeId?: number): DetachedAcks | undefined {
    let batch = this.take();
    if (nodeId !== undefined) {
      const kept = batch.filter((entry) => entry.nodeId === nodeId);
      if (kept.length !== batch.length) {
        // The others wait for their own broker's fetch (or the next flush), unmerged.
        for (const entry of batch) if (entry.nodeId !== nodeId) this.pending.push(entry);
        this.schedule();
      }
      batch = kept;
    }
    if (batch.length === 0) return undefined;
    return {
      nodeId: batch[0]!.nodeId,
      partitions: batch.map(({ topic, partition, ranges }) => ({ topic, partition, ranges })),
      settle: (answer) => settle(batch, answer),
    };
  }

  /**
   * Queues ranges again after everything pending, unmerged and with nobody waiting (the
   * acknowledgements of a fetch whose answer never came: they may or may not be applied).
   */
  requeue(nodeId: number, partitions: ShareAcknowledgeRequest['partitions']): void {
    // Kept apart and put after each partition's other ranges when sent, never merged with
    // them: a requeued range the broker did apply is refused, and a refused range ends its
    // partition, so nothing may come after it.
    this.requeued.push({ nodeId, partitions });
    this.schedule();
  }

  /** Sends what is pending now (and, with leave, releases everything the member still holds). */
  async flush(leave = false): Promise<void> {
    const batch = this.take();
    if (batch.length === 0 && !leave) return;
    if (this.routing === undefined) return this.send(batch, leave, this.coordinator ? { connection: this.coordinator.connection() } : {});
    // A cluster: one request per broker the records came from (and a leave to every broker the member fetched from).
    const byNode = new Map<number, PartitionAcks[]>();
    for (const entry of batch) {
      const nodeId = entry.nodeId;
      let list = byNode.get(nodeId);
      if (list === undefined) byNode.set(nodeId, (list = []));
      list.push(entry);
    }
    if (leave) for (const nodeId of this.routing.leaveNodes()) if (!byNode.has(nodeId)) byNode.set(nodeId, []);
    const sent = [...byNode].map(([nodeId, list]) => {
      if (nodeId !== ANY_BROKER && !this.client.metadata.brokers.has(nodeId)) {
        // The broker the records came from is gone: their acquisitions went with it (another
        // leader hands them out again). Never send them elsewhere: the client's default
        // broker may lead the partition now and hold this member's other copy of a record.
        settle(list, new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${nodeId}, where these records were acquired, is no longer in the cluster`));
        return Promise.resolve();
      }
      return this.send(list, leave, nodeId === ANY_BROKER && this.coordinator ? { connection: this.coordinator.connection() } : { connection: this.client.leaderConnection(nodeId) }, nodeId);
    });
    const outcomes = await Promise.allSettled(sent);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined && leave) throw failed.reason;
  }

  private async send(batch: PartitionAcks[], leave: boolean, options: { connection?: Connection }, nodeId = ANY_BROKER): Promise<void> {
    const request: ShareAcknowledgeRequest = {
      groupId: this.groupId,
      memberId: this.memberId,
      partitions: batch.map(({ topic, partition, ranges }) => ({ topic, partition, ranges })),
    };
    if (leave) request.leave = true;
    try {
      const response = await this.client.request(ApiKey.ShareAcknowledge, request, undefined, options);
      const header = response.header as unknown as ShareAcknowledgeResponse;
      const failure = errorFromCode(header.errorCode, header.errorMessage, `acknowledge for share group ${this.groupId}`);
      if (failure !== undefined) throw failure;
      settle(batch, header.partitions ?? []);
    } catch (error) {
      // The coordinator moved (single broker) or a leader did (cluster): the acquisitions were lost with it (the records come back there).
      if (nodeId === ANY_BROKER) await this.coordinator?.failed(error);
      else for (const entry of batch) this.client.metadata.markStale(entry.topic);
      settle(batch, error as Error);
      if (leave) throw error;
    }
  }

  private take(): PartitionAcks[] {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    this.last = null;
    for (const { nodeId, partitions } of this.requeued) {
      for (const { topic, partition, ranges } of partitions) {
        let entry = batch.find((candidate) => candidate.partition === partition && candidate.topic === topic && candidate.nodeId === nodeId);
        if (entry === undefined) batch.push((entry = { nodeId, topic, partition, ranges: [], waiter: null }));
        entry.ranges.push(...ranges);
      }
    }
    this.requeued = [];
    return batch;
  }

  private add(nodeId: number, topic: string, partition: number, firstOffset: number, lastOffset: number, type: AckType, delayMs: number | undefined, error: string | undefined): PartitionAcks {
    let entry = this.last;
    if (entry === null || entry.partition !== partition || entry.topic !== topic || entry.nodeId !== nodeId) {
      entry = this.pending.find((candidate) => candidate.partition === partition && candidate.topic === topic && candidate.nodeId === nodeId) ?? null;
      if (entry === null) this.pending.push((entry = { nodeId, topic, partition, ranges: [], waiter: null }));
      this.last = entry;
    }
    const ranges = entry.ranges;
    const previous = ranges[ranges.length - 1];
    const plain = delayMs === undefined && error === undefined;
    if (plain && previous !== undefined && previous.type === type && previous.lastOffset + 1 === firstOffset && previous.delayMs === undefined && previous.error === undefined) {
      previous.lastOffset = lastOffset;
    } else {
      const range: ShareAcknowledgeRange = { firstOffset, lastOffset, type };
      if (delayMs !== undefined) range.delayMs = delayMs;
      if (error !== undefined) range.error = error;
      ranges.push(range);
    }
    this.schedule();
    return entry;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      if (this.scheduled) void this.flush();
    });
  }
}

function settle(batch: readonly PartitionAcks[], answer: ShareAcknowledgeResponse['partitions'] | Error): void {
  for (const entry of batch) {
    if (entry.waiter === null) continue;
    if (answer instanceof Error) {
      entry.waiter.reject(answer);
      continue;
    }
    const reply = answer.find((candidate) => candidate.partition === entry.partition && candidate.topic === entry.topic);
    const error = reply === undefined ? undefined : errorFromCode(reply.errorCode, reply.errorMessage, `acknowledge ${entry.topic}/${entry.partition}`);
    if (error === undefined) entry.waiter.resolve();
    else entry.waiter.reject(error);
  }
}
