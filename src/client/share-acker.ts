// Acknowledgements of a share consumer, coalesced: every ack/release/reject/renew made in
// one turn of the event loop goes out in one ShareAcknowledge (consecutive offsets of the
// same kind merged into one range), and each caller's promise settles with its own
// partition's answer. So a handler loop that acks each message costs one request per
// turn, not one per message.

import { ApiKey } from '../protocol/apis.js';
import type { ShareAcknowledgeRange, ShareAcknowledgeRequest, ShareAcknowledgeResponse } from '../protocol/messages.js';
import type { Client } from './client.js';
import type { CoordinatorLink } from './coordinator-link.js';
import { errorFromCode } from './errors.js';

export const AckType = { ACCEPT: 1, RELEASE: 2, REJECT: 3, RENEW: 4 } as const;
export type AckType = (typeof AckType)[keyof typeof AckType];

interface PendingAck {
  topic: string;
  partition: number;
  range: ShareAcknowledgeRange;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class ShareAcker {
  private pending: PendingAck[] = [];
  private scheduled = false;

  constructor(
    private readonly client: Client,
    private readonly groupId: string,
    private readonly memberId: string,
    /** Acknowledgements go to the group's coordinator (coordinator-link.ts). */
    private readonly coordinator?: CoordinatorLink,
  ) {}

  acknowledge(topic: string, partition: number, range: ShareAcknowledgeRange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ topic, partition, range, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => void this.flush());
    });
  }

  /** Sends what is pending now (and, with leave, releases everything the member still holds). */
  async flush(leave = false): Promise<void> {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0 && !leave) return;
    const byPartition = new Map<string, { topic: string; partition: number; ranges: ShareAcknowledgeRange[]; waiters: PendingAck[] }>();
    for (const ack of batch) {
      const key = `${ack.topic}\u0000${ack.partition}`;
      let entry = byPartition.get(key);
      if (entry === undefined) byPartition.set(key, (entry = { topic: ack.topic, partition: ack.partition, ranges: [], waiters: [] }));
      entry.waiters.push(ack);
      const last = entry.ranges[entry.ranges.length - 1];
      const plain = ack.range.delayMs === undefined && ack.range.error === undefined;
      if (plain && last !== undefined && last.delayMs === undefined && last.error === undefined && last.type === ack.range.type && last.lastOffset + 1 === ack.range.firstOffset) {
        last.lastOffset = ack.range.lastOffset;
      } else {
        entry.ranges.push({ ...ack.range });
      }
    }
    const request: ShareAcknowledgeRequest = {
      groupId: this.groupId,
      memberId: this.memberId,
      partitions: [...byPartition.values()].map(({ topic, partition, ranges }) => ({ topic, partition, ranges })),
    };
    if (leave) request.leave = true;
    try {
      const response = await this.client.request(ApiKey.ShareAcknowledge, request, undefined, this.coordinator ? { connection: this.coordinator.connection() } : {});
      const header = response.header as unknown as ShareAcknowledgeResponse;
      const failure = errorFromCode(header.errorCode, header.errorMessage, `acknowledge for share group ${this.groupId}`);
      if (failure !== undefined) throw failure;
      const answers = new Map((header.partitions ?? []).map((entry) => [`${entry.topic}\u0000${entry.partition}`, entry]));
      for (const [key, entry] of byPartition) {
        const answer = answers.get(key);
        const error = answer === undefined ? undefined : errorFromCode(answer.errorCode, answer.errorMessage, `acknowledge ${entry.topic}/${entry.partition}`);
        for (const waiter of entry.waiters) {
          if (error === undefined) waiter.resolve();
          else waiter.reject(error);
        }
      }
    } catch (error) {
      // The coordinator moved (cluster): the acquisitions were lost with it (the records come back there).
      await this.coordinator?.failed(error);
      for (const ack of batch) ack.reject(error as Error);
      if (leave) throw error;
    }
  }
}
