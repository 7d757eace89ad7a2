// A follower's connection to one leader broker for its fetcher (cluster/replica-fetcher.ts
// LeaderChannel: every partition followed from that leader) over the native protocol:
// ReplicaFetch (60) and OffsetForLeaderEpoch (61) frames listing many partitions, over one
// PeerConnection (peer-connection.ts: TLS and the inter-broker login when the cluster has
// them, answers matched by correlation id). It connects on
// first use and again after the connection drops (the fetcher retries failed calls);
// close() fails what is in flight and stops reconnecting. Only 127.0.0.1 in tests; the
// address comes from the cluster layer.

import { ApiKey } from '../protocol/apis.js';
import { splitPayload } from '../protocol/body.js';
import { errorFromFields } from '../protocol/errors.js';
import type * as M from '../protocol/messages.js';
import type { EpochEndAnswer, EpochEndRequest, FetchPartitionAnswer, FetchPartitionRequest, LeaderChannel } from '../cluster/replica-fetcher.js';
import { PeerConnection, type PeerResponse, type PeerSecurity } from './peer-connection.js';

/** Kafka's replica.socket.timeout.ms. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export class NativeLeaderChannel implements LeaderChannel {
  private readonly peer: PeerConnection;

  constructor(
    host: string,
    port: number,
    /** This (the follower) broker's id. */
    private readonly replicaId: number,
    /** TLS and the inter-broker login (peer-connection.ts); default plaintext without a login. */
    security?: PeerSecurity,
    /**
     * A request unanswered this long (beyond its own maxWaitMs) drops the connection, failing
     * what is in flight; the next request reconnects (Kafka's replica.socket.timeout.ms, 30 s):
     * a leader whose host vanished without closing the socket would otherwise hold every
     * partition of the fetcher.
     */
    private readonly requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
  ) {
    this.peer = new PeerConnection({ host, port, role: 'leader', ...(security ? { security } : {}) });
  }

  private request(apiKey: number, header: object, maxWaitMs = 0): Promise<PeerResponse> {
    return this.peer.request(apiKey, header, { timeoutMs: maxWaitMs + this.requestTimeoutMs, dropOnTimeout: true });
  }

  async offsetsForLeaderEpoch(partitions: readonly EpochEndRequest[]): Promise<EpochEndAnswer[]> {
    const body: M.OffsetForLeaderEpochRequest = { replicaId: this.replicaId, partitions: [...partitions] };
    const { header } = await this.request(ApiKey.OffsetForLeaderEpoch, body);
    const response = header as unknown as M.OffsetForLeaderEpochResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    return (response.partitions ?? []).map((entry) => ({
      topic: entry.topic,
      partition: entry.partition,
      error: errorFromFields(entry),
      epoch: entry.leaderEpoch,
      endOffset: entry.endOffset,
    }));
  }

  async replicaFetch(request: { maxWaitMs: number; maxBytes: number; partitions: readonly FetchPartitionRequest[] }): Promise<FetchPartitionAnswer[]> {
    const body: M.ReplicaFetchRequest = {
      replicaId: this.replicaId,
      maxWaitMs: request.maxWaitMs,
      minBytes: 1,
      maxBytes: request.maxBytes,
      partitions: [...request.partitions],
    };
    const { header, payload } = await this.request(ApiKey.ReplicaFetch, body, request.maxWaitMs);
    const response = header as unknown as M.ReplicaFetchResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    const entries = response.partitions ?? [];
    // One copy of the payload, sliced per partition: the decoder may reuse a pooled frame
    // buffer once this turn ends, and the fetcher appends after an await.
    const parts = splitPayload(Buffer.from(payload), entries.map((entry) => entry.size));
    return entries.map((entry, at) => ({
      topic: entry.topic,
      partition: entry.partition,
      error: errorFromFields(entry),
      records: parts[at]!,
      highWatermark: entry.highWatermark,
      logStartOffset: entry.logStartOffset,
      logEndOffset: entry.logEndOffset,
    }));
  }

  close(): void {
    this.peer.close();
  }
}
