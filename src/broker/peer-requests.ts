// Requests from this broker to other brokers that are not replication (share-group state
// and dead letters in a cluster): one PeerConnection (peer-connection.ts: TLS and the
// inter-broker login when the cluster has them) per peer address, made on first use. The
// cluster layer sets the security once the broker joined (useSecurity); until then,
// plaintext. Only addresses from the cluster's own registrations are dialled.

import { PeerConnection, plaintextPeerSecurity, type PeerResponse, type PeerSecurity } from './peer-connection.js';

export type { PeerResponse };

export class PeerPool {
  private readonly peers = new Map<string, PeerConnection>();
  private security: PeerSecurity = plaintextPeerSecurity();
  private closed = false;

  constructor(private readonly timeoutMs = 30_000) {}

  /** The inter-broker TLS and login (serve's --inter-broker-user); connections made before keep theirs until they drop. */
  useSecurity(security: PeerSecurity): void {
    this.security = security;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }

  /** Sends one request to the broker at host:port; rejects on a broken connection or after the pool's timeout. */
  request(host: string, port: number, apiKey: number, header: object, payload?: Buffer[]): Promise<PeerResponse> {
    const name = `${host}:${port}`;
    let peer = this.peers.get(name);
    if (peer === undefined || this.closed) {
      peer = new PeerConnection({ host, port, security: this.security });
      if (!this.closed) this.peers.set(name, peer);
      else peer.close();
    }
    return peer.request(apiKey, header, { ...(payload ? { payload } : {}), timeoutMs: this.timeoutMs });
  }

  close(): void {
    this.closed = true;
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }
}
