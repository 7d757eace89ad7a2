// A follower's connection to its leader for one partition's fetcher (cluster/replica-
// fetcher.ts LeaderChannel) over the native protocol: ReplicaFetch (60) and
// OffsetForLeaderEpoch (61) frames over one PeerConnection (peer-connection.ts: TLS and the
// inter-broker login when the cluster has them, answers matched by correlation id). It
// connects on first use and again after the connection drops (the fetcher retries failed
// calls); close() fails what is in flight and stops reconnecting. Only 127.0.0.1 in tests;
// the address comes from the cluster layer.

import { ApiKey } from '../protocol/apis.js';
import { splitPayload } from '../protocol/body.js';
import { errorFromFields } from '../protocol/errors.js';
import type * as M from '../protocol/messages.js';
import type { LeaderChannel } from '../cluster/replica-fetcher.js';
import { Errors, SpoolError } from '../util/errors.js';
import { PeerConnection, type PeerResponse, type PeerSecurity } from './peer-connection.js';

export class NativeLeaderChannel implements LeaderChannel {
  private readonly peer: PeerConnection;

  constructor(
    host: string,
    port: number,
    /** This (the follower) broker's id. */
    private readonly replicaId: number,
    /** TLS and the inter-broker login (peer-connection.ts); default plaintext without a login. */
    security?: PeerSecurity,
  ) {
    this.peer = new PeerConnection({ host, port, role: 'leader', ...(security ? { security } : {}) });
  }

  private request(apiKey: number, header: object): Promise<PeerResponse> {
    return this.peer.request(apiKey, header);
  }

  async offsetForLeaderEpoch(request: { topic: string; partition: number; currentLeaderEpoch: number; leaderEpoch: number }): Promise<{ epoch: number; endOffset: number }> {
    const body: M.OffsetForLeaderEpochRequest = { replicaId: this.replicaId, partitions: [request] };
    const { header } = await this.request(ApiKey.OffsetForLeaderEpoch, body);
    const response = header as unknown as M.OffsetForLeaderEpochResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    const entry = response.partitions?.[0];
    if (!entry) throw new SpoolError(Errors.INVALID_REQUEST, 'OffsetForLeaderEpoch answered no partition');
    const partitionFailure = errorFromFields(entry);
    if (partitionFailure) throw partitionFailure;
    return { epoch: entry.leaderEpoch, endOffset: entry.endOffset };
  }

  async replicaFetch(request: { topic: string; partition: number; leaderEpoch: number; fetchOffset: number; maxBytes: number; maxWaitMs: number }): Promise<{ records: Buffer; highWatermark: number; logStartOffset: number }> {
    const body: M.ReplicaFetchRequest = {
      replicaId: this.replicaId,
      maxWaitMs: request.maxWaitMs,
      minBytes: 1,
      maxBytes: request.maxBytes,
      partitions: [{ topic: request.topic, partition: request.partition, leaderEpoch: request.leaderEpoch, fetchOffset: request.fetchOffset, maxBytes: request.maxBytes }],
    };
    const { header, payload } = await this.request(ApiKey.ReplicaFetch, body);
    const response = header as unknown as M.ReplicaFetchResponse;
    const failure = errorFromFields(response);
    if (failure) throw failure;
    const entry = response.partitions?.[0];
    if (!entry) throw new SpoolError(Errors.INVALID_REQUEST, 'ReplicaFetch answered no partition');
    const partitionFailure = errorFromFields(entry);
    // The leader's log start travels with OFFSET_OUT_OF_RANGE (the fetcher may start over there).
    if (partitionFailure) throw Object.assign(partitionFailure, { logStartOffset: entry.logStartOffset, logEndOffset: entry.logEndOffset });
    const [records] = splitPayload(payload, [entry.size]);
    // A copy: the decoder may reuse a pooled frame buffer once this turn ends, and the
    // fetcher appends after an await.
    return { records: Buffer.from(records!), highWatermark: entry.highWatermark, logStartOffset: entry.logStartOffset };
  }

  close(): void {
    this.peer.close();
  }
}
