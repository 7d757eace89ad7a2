// A local copy of every key under one etcd prefix, kept current by list-then-watch: list the
// prefix (consistent at revision R), watch from R + 1, apply events in order. When the watch
// breaks (etcd down or restarted, history compacted) the mirror lists again, retrying with a
// backoff, and reports the difference between the old copy and the new listing as changes,
// so a listener sees one consistent sequence of changes whatever happened in between.
//
// Listeners run synchronously inside the event delivery: they must not await before they have
// read what they need (STYLE: no await between check and change).

import type { ClusterStore, KeyValue, Watch, WatchEvent } from './store.js';
import type { ClusterLogger } from './logger.js';

export interface MirrorChange {
  readonly key: string;
  /** Absent when the key is new. */
  readonly previous?: KeyValue;
  /** Absent when the key was deleted. */
  readonly current?: KeyValue;
}

export type MirrorListener = (changes: readonly MirrorChange[]) => void;

export interface PrefixMirrorOptions {
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
}

export class PrefixMirror {
  private readonly entries = new Map<string, KeyValue>();
  private readonly listeners = new Set<MirrorListener>();
  private watch: Watch | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private closed = false;
  /** The store revision the copy is known to be current at. */
  revision = 0;
  /** Whether the copy is being kept current (false between a broken watch and the next listing). */
  live = false;

  constructor(
    private readonly store: ClusterStore,
    readonly prefix: string,
    private readonly logger: ClusterLogger,
    private readonly options: PrefixMirrorOptions = {},
  ) {
    this.retryMs = options.retryMinMs ?? 100;
  }

  /** Resolves after the first listing (rejects if it fails: the caller decides to retry). */
  async start(): Promise<void> {
    await this.sync();
  }

  get(key: string): KeyValue | undefined {
    return this.entries.get(key);
  }

  values(): IterableIterator<KeyValue> {
    return this.entries.values();
  }

  get size(): number {
    return this.entries.size;
  }

  onChange(listener: MirrorListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.live = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const watch = this.watch;
    this.watch = null;
    await watch?.close();
  }

  private async sync(): Promise<void> {
    const listing = await this.store.list(this.prefix);
    if (this.closed) return;
    const seen = new Set<string>();
    const changes: MirrorChange[] = [];
    for (const item of listing.items) {
      seen.add(item.key);
      const previous = this.entries.get(item.key);
      if (previous && previous.modRevision === item.modRevision) continue;
      this.entries.set(item.key, item);
      changes.push(previous ? { key: item.key, previous, current: item } : { key: item.key, current: item });
    }
    for (const [key, previous] of this.entries) {
      if (seen.has(key)) continue;
      this.entries.delete(key);
      changes.push({ key, previous });
    }
    this.revision = listing.revision;
    this.live = true;
    this.watch = this.store.watchPrefix(this.prefix, listing.revision + 1, {
      onEvents: (events) => this.apply(events),
      onError: (error) => this.broken(error),
    });
    this.retryMs = this.options.retryMinMs ?? 100;
    this.emit(changes);
  }

  private apply(events: readonly WatchEvent[]): void {
    if (this.closed) return;
    const changes: MirrorChange[] = [];
    for (const event of events) {
      const previous = this.entries.get(event.key);
      if (event.kind === 'delete') {
        if (!previous) continue;
        this.entries.delete(event.key);
        changes.push({ key: event.key, previous });
      } else {
        const current: KeyValue = { key: event.key, value: event.value, createRevision: event.createRevision, modRevision: event.modRevision, leaseId: event.leaseId };
        this.entries.set(event.key, current);
        changes.push(previous ? { key: event.key, previous, current } : { key: event.key, current });
      }
      if (event.modRevision > this.revision) this.revision = event.modRevision;
    }
    this.emit(changes);
  }

  private broken(error: Error): void {
    if (this.closed) return;
    this.live = false;
    this.watch = null;
    this.logger.debug?.('cluster: watch broke, listing again', { prefix: this.prefix, error: error.message });
    this.scheduleResync();
  }

  private scheduleResync(): void {
    if (this.closed || this.retryTimer) return;
    const delayMs = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 1_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.sync().catch((error: unknown) => {
        this.logger.debug?.('cluster: listing failed, retrying', { prefix: this.prefix, error: error instanceof Error ? error.message : String(error) });
        this.scheduleResync();
      });
    }, delayMs);
    this.retryTimer.unref();
  }

  private emit(changes: readonly MirrorChange[]): void {
    if (changes.length === 0) return;
    for (const listener of this.listeners) listener(changes);
  }
}
