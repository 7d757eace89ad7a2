// ClusterStore over etcd v3, through the npm `etcd3` client (Microsoft's, on @grpc/grpc-js).
// Why etcd3: it speaks etcd's v3 gRPC API, which etcd 3.4 (Debian's etcd-server) serves;
// it is TypeScript with types for every request; its dependencies are the official gRPC
// packages plus cockatiel and bignumber.js; and it gives us raw KV/Lease/Watch clients, so
// the timing that matters for leadership (lease keep-alive, lease-loss detection) stays in
// our code (lease-keeper.ts) instead of the client's (its Lease reports loss after 2 x TTL,
// too late for a leader that must stop acknowledging before the controller replaces it).
// Maintenance: 1.1.2 is its latest release and releases are rare; what we use of it is the
// thin layer over gRPC (the generated RPC clients and the watch stream), the gRPC stack under
// it (@grpc/grpc-js 1.14) is maintained by the gRPC project, and ClusterStore keeps the rest
// of spool independent of it, so replacing it is one file. Checked against etcd 3.4.23.
//
// Reconnect behaviour: the client's own retry and circuit-breaker policies are turned off
// (the breaker would fail every call for 5 s after three errors, longer than a lease TTL);
// gRPC reconnects the channel with a short backoff (100 ms doubling to 1 s), every unary call
// has a deadline, and a failure is CLUSTER_UNAVAILABLE for the caller to retry. A watch is
// closed at the first disconnect and reported through onError: etcd3 resumes a watch from
// the revision of its last *created* response, which can skip events, so the owner lists
// again instead (prefix-mirror.ts).

import { Etcd3, type IKeyValue, type IRequestOp, type ICompare, type Watcher } from 'etcd3';
import { noop } from 'cockatiel';
import { SpoolError, Errors } from '../util/errors.js';
import { assert } from '../util/assert.js';
import type { ClusterStore, Compare, KeyValue, Operation, TransactionResult, Watch, WatchEvent, WatchHandlers } from './store.js';

export interface EtcdStoreOptions {
  /** host:port of each etcd member. */
  readonly endpoints: readonly string[];
  /** Deadline of each unary call. Default 2000. */
  readonly requestTimeoutMs?: number;
  /** Keys per page of list(). Default LIST_PAGE_KEYS. */
  readonly listPageKeys?: number;
}

export const DEFAULT_ETCD_REQUEST_TIMEOUT_MS = 2_000;

/** Keys per page of a listing: ~1 MB of partition states, well under gRPC's 4 MiB. */
export const LIST_PAGE_KEYS = 10_000;

function toNumber(revision: string | number): number {
  const value = Number(revision);
  assert(Number.isSafeInteger(value) && value >= 0, `etcd revision out of range: ${revision}`);
  return value;
}

function keyValueOf(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value,
    createRevision: toNumber(kv.create_revision),
    modRevision: toNumber(kv.mod_revision),
    leaseId: String(kv.lease),
  };
}

/** The first key after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix, 'utf8');
  for (let index = end.length - 1; index >= 0; index--) {
    if (end[index]! < 0xff) {
      end[index]! += 1;
      return end.subarray(0, index + 1);
    }
  }
  return Buffer.from([0]);
}

function compareOf(compare: Compare): ICompare {
  const key = Buffer.from(compare.key, 'utf8');
  switch (compare.kind) {
    case 'absent':
      return { key, target: 'Create', result: 'Equal', create_revision: 0 };
    case 'modRevision':
      return { key, target: 'Mod', result: 'Equal', mod_revision: compare.modRevision };
    case 'createRevision':
      return { key, target: 'Create', result: 'Equal', create_revision: compare.createRevision };
  }
}

function operationOf(operation: Operation): IRequestOp {
  if (operation.kind === 'deletePrefix') {
    return { request_delete_range: { key: Buffer.from(operation.prefix, 'utf8'), range_end: prefixEnd(operation.prefix) } };
  }
  const key = Buffer.from(operation.key, 'utf8');
  if (operation.kind === 'delete') return { request_delete_range: { key } };
  const value = typeof operation.value === 'string' ? Buffer.from(operation.value, 'utf8') : operation.value;
  return { request_put: { key, value, ...(operation.leaseId !== undefined ? { lease: operation.leaseId } : {}) } };
}

export class EtcdStore implements ClusterStore {
  private readonly client: Etcd3;
  private readonly requestTimeoutMs: number;
  private readonly listPageKeys: number;
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    assert(options.endpoints.length > 0, 'EtcdStore needs at least one endpoint');
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_ETCD_REQUEST_TIMEOUT_MS;
    this.listPageKeys = options.listPageKeys ?? LIST_PAGE_KEYS;
    this.client = new Etcd3({
      hosts: options.endpoints.map((endpoint) => `http://${endpoint}`),
      faultHandling: { host: () => noop, global: noop },
      grpcOptions: {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1_000,
      },
      dialTimeout: this.requestTimeoutMs,
    });
  }

  private deadline(): { deadline: number } {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }

  /** Every failure of the client becomes one retriable error with the cause kept. */
  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (this.closed) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `etcd ${what}: the store is closed`);
    try {
      return await work();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `etcd ${what} failed: ${message}`, { cause: error });
    }
  }

  get(key: string): Promise<KeyValue | null> {
    return this.call('get', async () => {
      const response = await this.client.kv.range({ key: Buffer.from(key, 'utf8') }, this.deadline());
      const first = response.kvs[0];
      return first ? keyValueOf(first) : null;
    });
  }

  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    return this.call('list', async () => {
      // In pages at one revision: a single answer for 100,000 partition keys (~10 MB) would
      // pass gRPC's 4 MiB message limit; pinning the revision keeps the pages one snapshot.
      const end = prefixEnd(prefix);
      const items: KeyValue[] = [];
      let from = Buffer.from(prefix, 'utf8');
      let revision: number | undefined;
      for (;;) {
        const response = await this.client.kv.range(
          { key: from, range_end: end, limit: this.listPageKeys, ...(revision !== undefined ? { revision } : {}) },
          this.deadline(),
        );
        revision ??= toNumber(response.header.revision);
        for (const kv of response.kvs) items.push(keyValueOf(kv));
        const last = response.kvs.at(-1);
        if (!response.more || last === undefined) return { items, revision };
        from = Buffer.concat([last.key, Buffer.from([0])]);
      }
    });
  }

  put(key: string, value: Buffer | string, options: { leaseId?: string } = {}): Promise<number> {
    return this.call('put', async () => {
      const response = await this.client.kv.put(
        { key: Buffer.from(key, 'utf8'), value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value, ...(options.leaseId !== undefined ? { lease: options.leaseId } : {}) },
        this.deadline(),
      );
      return toNumber(response.header.revision);
    });
  }

  delete(key: string): Promise<boolean> {
    return this.call('delete', async () => {
      const response = await this.client.kv.deleteRange({ key: Buffer.from(key, 'utf8') }, this.deadline());
      return toNumber(response.deleted) > 0;
    });
  }

  transaction(compares: readonly Compare[], operations: readonly Operation[]): Promise<TransactionResult> {
    return this.call('transaction', async () => {
      const response = await this.client.kv.txn({ compare: compares.map(compareOf), success: operations.map(operationOf) }, this.deadline());
      return { succeeded: response.succeeded, revision: toNumber(response.header.revision) };
    });
  }

  watchPrefix(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch {
    const watcher: Watcher = this.client.watch().prefix(prefix).startRevision(String(fromRevision)).watcher();
    let finished = false;
    const finish = (error: Error): void => {
      if (finished) return;
      finished = true;
      void watcher.cancel().catch(() => {
        // Cancelling a watch on a broken stream can fail; the stream is gone either way.
      });
      handlers.onError(error);
    };
    watcher.on('data', (response) => {
      if (finished) return;
      const events: WatchEvent[] = response.events.map((event) => ({
        kind: event.type === 'Delete' ? 'delete' : 'put',
        key: event.kv.key.toString('utf8'),
        value: event.kv.value ?? Buffer.alloc(0),
        createRevision: toNumber(event.kv.create_revision ?? 0),
        modRevision: toNumber(event.kv.mod_revision),
        leaseId: String(event.kv.lease ?? '0'),
      }));
      if (events.length > 0) handlers.onEvents(events);
    });
    watcher.on('disconnected', (error) => finish(new SpoolError(Errors.CLUSTER_UNAVAILABLE, `etcd watch disconnected: ${error.message}`, { cause: error })));
    watcher.on('error', (error) => finish(new SpoolError(Errors.CLUSTER_UNAVAILABLE, `etcd watch failed: ${error.message}`, { cause: error })));
    return {
      close: async () => {
        if (finished) return;
        finished = true;
        await watcher.cancel().catch(() => {
          // Closing: a watch whose stream already broke has nothing left to cancel.
        });
      },
    };
  }

  grantLease(ttlSeconds: number): Promise<string> {
    assert(Number.isSafeInteger(ttlSeconds) && ttlSeconds >= 1, `lease TTL must be a whole number of seconds >= 1, got ${ttlSeconds}`);
    return this.call('lease grant', async () => {
      const response = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, this.deadline());
      return String(response.ID);
    });
  }

  keepAliveOnce(leaseId: string): Promise<number> {
    return this.call('lease keep-alive', async () => {
      // One request on a short-lived stream: our own timer decides when to renew, and a
      // stream that dies with etcd must not hold a stale renewal state.
      const stream = await this.client.leaseClient.leaseKeepAlive(this.deadline());
      try {
        const answer = new Promise<number>((resolve, reject) => {
          // A settled promise ignores later calls, so `on` is as good as `once` here.
          stream.on('data', (response) => resolve(Number(response.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('keep-alive stream ended without an answer')));
        });
        stream.write({ ID: leaseId });
        return await answer;
      } finally {
        stream.end();
      }
    });
  }

  revokeLease(leaseId: string): Promise<void> {
    return this.call('lease revoke', async () => {
      await this.client.leaseClient.leaseRevoke({ ID: leaseId }, this.deadline());
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}
