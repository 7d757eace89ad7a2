// One member of a classic group (Kafka's ClassicGroupMember). Its protocols' metadata
// and its assignment are opaque bytes: the group leader (a client) computes the
// assignment, the coordinator only carries it. A member parked in a JoinGroup or a
// SyncGroup holds the resolver of that request's promise; the group resolves every one
// of them (answer, error, or shutdown) so no request hangs.

import type { ClassicProtocol, JoinGroupResult, SyncGroupResult } from './types.js';

export const EMPTY_BYTES = Buffer.alloc(0);

export class ClassicMember {
  assignment: Buffer = EMPTY_BYTES;
  /** Set while the member's JoinGroup waits for the rebalance to complete. */
  awaitingJoin: ((result: JoinGroupResult) => void) | undefined;
  /** Set while the member's SyncGroup waits for the leader's assignment. */
  awaitingSync: ((result: SyncGroupResult) => void) | undefined;
  /** Monotonic ms after which the member is removed unless it heartbeats (not while parked). */
  sessionDeadlineMs: number;

  constructor(
    public memberId: string,
    readonly groupInstanceId: string | null,
    public clientId: string,
    public clientHost: string,
    public sessionTimeoutMs: number,
    public rebalanceTimeoutMs: number,
    public protocols: ClassicProtocol[],
    nowMs: number,
  ) {
    this.sessionDeadlineMs = nowMs + sessionTimeoutMs;
  }

  isParked(): boolean {
    return this.awaitingJoin !== undefined || this.awaitingSync !== undefined;
  }

  supports(protocolName: string): boolean {
    return this.protocols.some((protocol) => protocol.name === protocolName);
  }

  metadataFor(protocolName: string): Buffer {
    return this.protocols.find((protocol) => protocol.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  /** Same protocol names, in the same order, with the same metadata bytes (Kafka's matches()). */
  sameProtocols(protocols: readonly ClassicProtocol[]): boolean {
    return (
      protocols.length === this.protocols.length &&
      protocols.every((protocol, index) => {
        const mine = this.protocols[index]!;
        return mine.name === protocol.name && mine.metadata.equals(protocol.metadata);
      })
    );
  }
}
