// The connection of one group's requests (heartbeats, commits, committed-offset fetches,
// share fetches) to the group's coordinator. It starts on the client's broker, which is
// the coordinator on a single node (nothing changes there, no extra request). In a cluster
// the coordinator is the leader of the group's internal-topic partition: a request answered
// NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE makes the caller call failed(error), which
// asks FindCoordinator (through the client's own retries across its bootstrap brokers) and
// points the next connection at the broker named. A broken connection (the coordinator died)
// points it back at the client's current broker (the client moves on to the next bootstrap
// address when that one is down), which answers NOT_COORDINATOR if it is not the
// coordinator, so a single node never asks FindCoordinator and never connects to an address
// other than the configured one. Callers back off between attempts (their own retry policy)
// and then send again (a consumer member that reaches a new coordinator is unknown there and
// rejoins).

import { ApiKey, type FindCoordinatorResponse } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import type { Connection } from './connection.js';

/** Errors after which the group's coordinator is looked up again (FindCoordinator). */
export function coordinatorMoved(error: unknown): boolean {
  return error instanceof SpoolError && (error.kind === Errors.NOT_COORDINATOR || error.kind === Errors.COORDINATOR_NOT_AVAILABLE);
}

/** Errors of the connection itself (the coordinator may be down). */
function connectionBroken(error: unknown): boolean {
  return error instanceof SpoolError && (error.kind === Errors.BROKER_NOT_AVAILABLE || error.kind === Errors.NETWORK_ERROR || error.kind === Errors.REQUEST_TIMED_OUT);
}

export class CoordinatorLink {
  /** Null: the client's current broker. */
  private address: { host: string; port: number } | null = null;
  private current: Connection | null = null;
  private finding: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly client: Client,
    private readonly groupId: string,
    private readonly share = false,
  ) {}

  /** The connection to the coordinator as last found (made on first use). */
  connection(): Connection {
    if (this.closed) throw new SpoolError(Errors.NETWORK_ERROR, `group ${this.groupId}: coordinator link closed`);
    this.current ??= this.client.createConnection(this.address ?? undefined);
    return this.current;
  }

  /**
   * After a failed request: NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE look the
   * coordinator up again; a broken connection goes back to the client's current broker;
   * other errors change nothing. Never rejects (a failed lookup is retried next time).
   */
  async failed(error: unknown): Promise<void> {
    if (coordinatorMoved(error)) {
      await this.rediscover().catch(() => undefined);
    } else if (connectionBroken(error)) {
      this.address = null;
      this.dropConnection();
    }
  }

  private dropConnection(): void {
    const old = this.current;
    this.current = null;
    if (old !== null) void this.client.releaseConnection(old).catch(() => undefined);
  }

  /** A new connection to the coordinator as last found, owned by the caller (a share consumer's long-poll fetches). */
  newConnection(): Connection {
    return this.client.createConnection(this.address ?? undefined);
  }

  /** Drops the connection and asks FindCoordinator; concurrent callers share one lookup. Rejects with the lookup's error. */
  rediscover(): Promise<void> {
    this.finding ??= this.find().finally(() => {
      this.finding = null;
    });
    return this.finding;
  }

  private async find(): Promise<void> {
    this.dropConnection();
    let body: FindCoordinatorResponse;
    try {
      const response = await this.client.request(ApiKey.FindCoordinator, { groupId: this.groupId, ...(this.share ? { share: true } : {}) });
      body = response.header as unknown as FindCoordinatorResponse;
    } catch (error) {
      // A broker without FindCoordinator (older than cluster mode) coordinates every group itself.
      if (error instanceof SpoolError && error.kind === Errors.UNSUPPORTED_VERSION) {
        this.address = null;
        return;
      }
      throw error;
    }
    const moved = this.address?.host !== body.host || this.address?.port !== body.port;
    this.address = { host: body.host, port: body.port };
    if (moved) this.client.notify('group.coordinator', { groupId: this.groupId, broker: `${body.host}:${body.port}`, nodeId: body.nodeId });
  }

  async close(): Promise<void> {
    this.closed = true;
    const connection = this.current;
    this.current = null;
    if (connection !== null) await this.client.releaseConnection(connection);
  }
}
