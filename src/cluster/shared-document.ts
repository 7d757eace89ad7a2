// One JSON document kept in one etcd key and mirrored by every broker (the SCRAM credentials
// and the ACL/quota state: src/security/README.md "In a cluster"). A change is a
// compare-and-swap of the key: read it and its modRevision, compute the next document, write
// it only if nobody wrote in between, retry on a lost compare. The local copy changes only
// after the write succeeded (`apply`), and every broker's watch applies what the others
// wrote; revisions already applied are skipped, so each revision is applied once.

import { Errors, SpoolError } from '../util/errors.js';
import type { ClusterLogger } from './logger.js';
import type { ClusterStore, Watch } from './store.js';

/** Lost compares in a row before a change gives up with CLUSTER_UNAVAILABLE (another writer keeps winning). */
export const SHARED_DOCUMENT_MAX_ATTEMPTS = 16;
const REWATCH_DELAY_MS = 500;

export class SharedDocument {
  private appliedRevision = 0;
  private watch: Watch | null = null;
  private closed = false;
  private rewatchTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: ClusterStore,
    readonly key: string,
    /** Replaces the local state with the document (null: the key was deleted, nothing to apply). */
    private readonly apply: (data: Buffer) => void,
    private readonly logger: ClusterLogger,
  ) {}

  /**
   * Seeds the key with `local` if it is absent (create-if-absent: a broker that joins later
   * never overwrites the cluster's document), then loads the key and watches it.
   */
  async start(local: Buffer | null): Promise<void> {
    if (local !== null) {
      const seeded = await this.store.transaction([{ key: this.key, kind: 'absent' }], [{ kind: 'put', key: this.key, value: local }]);
      if (seeded.succeeded) this.logger.info(`seeded ${this.key} from the local file`, { key: this.key });
    }
    await this.load();
  }

  /**
   * The compare-and-swap loop: `change` gets the current document (null when absent) and
   * returns the next one (null: nothing to write) and its result; applied locally once written.
   */
  async update<T>(change: (current: Buffer | null) => { next: Buffer | null; result: T }): Promise<T> {
    for (let attempt = 0; attempt < SHARED_DOCUMENT_MAX_ATTEMPTS; attempt++) {
      const current = await this.store.get(this.key);
      const { next, result } = change(current?.value ?? null);
      if (next === null) return result;
      const written = await this.store.transaction(
        [current === null ? { key: this.key, kind: 'absent' } : { key: this.key, kind: 'modRevision', modRevision: current.modRevision }],
        [{ kind: 'put', key: this.key, value: next }],
      );
      if (written.succeeded) {
        this.applyAt(written.revision, next);
        return result;
      }
      // Lost to another writer: wait a random while (doubling, at most 200 ms) so concurrent
      // writers spread out instead of colliding again every round (20 at once exhausted the
      // attempts of the unluckiest on a loaded machine).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(200, 5 * 2 ** attempt)));
    }
    throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `${this.key}: ${SHARED_DOCUMENT_MAX_ATTEMPTS} compare-and-swap attempts lost to other writers`);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.rewatchTimer) clearTimeout(this.rewatchTimer);
    await this.watch?.close();
    this.watch = null;
  }

  private applyAt(revision: number, data: Buffer): void {
    if (revision <= this.appliedRevision) return;
    this.appliedRevision = revision;
    try {
      this.apply(data);
    } catch (error) {
      // A document that does not decode (hand-edited, another version) is never acted on.
      this.logger.warn(`${this.key} at revision ${revision} could not be applied (kept the previous state): ${(error as Error).message}`, { key: this.key });
    }
  }

  /** Get, apply, watch from the next revision; a broken watch loads again after a pause. */
  private async load(): Promise<void> {
    const listed = await this.store.list(this.key);
    const item = listed.items.find((entry) => entry.key === this.key);
    if (item) this.applyAt(item.modRevision, item.value);
    if (this.closed) return;
    this.watch = this.store.watchPrefix(this.key, listed.revision + 1, {
      onEvents: (events) => {
        for (const event of events) if (event.key === this.key && event.kind === 'put') this.applyAt(event.modRevision, event.value);
      },
      onError: (error) => {
        this.watch = null;
        if (this.closed) return;
        this.logger.warn(`watch of ${this.key} broke (${error.message}); loading again`, { key: this.key });
        this.scheduleReload();
      },
    });
  }

  private scheduleReload(): void {
    this.rewatchTimer = setTimeout(() => {
      this.rewatchTimer = null;
      this.load().catch(() => this.scheduleReload());
    }, REWATCH_DELAY_MS);
    this.rewatchTimer.unref();
  }
}
