// The cluster store: the small slice of etcd that spool uses, behind an interface of our own,
// so the rest of src/cluster never sees a gRPC type and a test could put another store behind
// it. Keys are strings, values bytes; revisions are etcd's (one counter for the whole store,
// bumped by every write), which makes them usable as epochs and as compare-and-swap tokens.
//
// Failure contract: every call either succeeds or rejects with SpoolError CLUSTER_UNAVAILABLE
// (retriable) within its deadline; no call retries on its own, so the caller decides. A watch
// reports `onError` once when its stream breaks (etcd down, restarted, compacted) and stays
// dead: the owner lists again and opens a new watch (prefix-mirror.ts does exactly that).

/** One key as etcd holds it. createRevision 0 never appears here: an absent key is `null`. */
export interface KeyValue {
  readonly key: string;
  readonly value: Buffer;
  /** Revision of the write that created this incarnation of the key. */
  readonly createRevision: number;
  /** Revision of the last write to the key: the compare-and-swap token. */
  readonly modRevision: number;
  /** Lease id as a decimal string ('0' when none): etcd lease ids are 64-bit. */
  readonly leaseId: string;
}

/** A condition of a transaction; all of a transaction's conditions must hold. */
export type Compare =
  | { readonly key: string; readonly kind: 'absent' }
  | { readonly key: string; readonly kind: 'modRevision'; readonly modRevision: number }
  | { readonly key: string; readonly kind: 'createRevision'; readonly createRevision: number };

export type Operation =
  | { readonly kind: 'put'; readonly key: string; readonly value: Buffer | string; readonly leaseId?: string }
  | { readonly kind: 'delete'; readonly key: string }
  /** Deletes every key that starts with `prefix` (a topic's partition states, in one write). */
  | { readonly kind: 'deletePrefix'; readonly prefix: string };

export interface TransactionResult {
  readonly succeeded: boolean;
  /** The store's revision after the transaction (the writes' revision when it succeeded). */
  readonly revision: number;
}

export interface WatchEvent {
  readonly kind: 'put' | 'delete';
  readonly key: string;
  /** Empty for a delete. */
  readonly value: Buffer;
  readonly createRevision: number;
  /** For a delete: the revision of the delete. */
  readonly modRevision: number;
  readonly leaseId: string;
}

export interface WatchHandlers {
  /** Events in revision order; several may share one revision (one transaction). */
  onEvents(events: readonly WatchEvent[]): void;
  /** The watch broke; it delivers nothing more. */
  onError(error: Error): void;
}

export interface Watch {
  close(): Promise<void>;
}

export interface ClusterStore {
  get(key: string): Promise<KeyValue | null>;
  /** Every key under the prefix, and the store revision the listing is consistent at. */
  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }>;
  /** Returns the revision of the write. */
  put(key: string, value: Buffer | string, options?: { leaseId?: string }): Promise<number>;
  /** Whether the key existed. */
  delete(key: string): Promise<boolean>;
  /** If every compare holds, apply `operations` atomically; otherwise change nothing. */
  transaction(compares: readonly Compare[], operations: readonly Operation[]): Promise<TransactionResult>;
  /** Events for keys under the prefix from `fromRevision` on (inclusive). */
  watchPrefix(prefix: string, fromRevision: number, handlers: WatchHandlers): Watch;
  /** A new lease; returns its id. */
  grantLease(ttlSeconds: number): Promise<string>;
  /** One keep-alive; returns the TTL etcd granted, 0 when the lease no longer exists. */
  keepAliveOnce(leaseId: string): Promise<number>;
  /** Revoke a lease: etcd deletes every key attached to it at once. */
  revokeLease(leaseId: string): Promise<void>;
  close(): void;
}

/**
 * etcd limits a transaction's compares and its operations to --max-txn-ops each (128 by
 * default). Writers that touch many keys split into transactions of at most this many keys,
 * which leaves room for the fencing compares (controller epoch, registration) beside them.
 */
export const MAX_TRANSACTION_OPERATIONS = 64;
