// Producer ids for InitProducerId in cluster mode (Kafka's KIP-730): every broker of a cluster
// must hand out different ids, or two producers on different brokers share sequence state on a
// partition leader (a batch taken for another's duplicate is acknowledged and dropped). Ids
// come in blocks reserved in etcd by compare-and-swap on one key holding the next free id:
//
//   <root>/producer-id-block => {"v":1,"nextId":N}
//
// A broker reads it, writes nextId + blockSize if the key's modRevision is still the one it
// read (or the key is still absent), and then owns [N, N + blockSize). A lost compare means
// another broker took that block: read again and retry. Ids are never reused, across restarts
// and empty data dirs alike (the counter lives in etcd); a broker that stops skips the rest of
// its block. The next block is reserved in the background once fewer than `prefetchBelow` ids
// are left, so InitProducerId waits on etcd only when the block ran dry faster than a round
// trip. With the block empty and etcd unreachable, allocate() rejects CLUSTER_UNAVAILABLE
// (retriable), as the store's calls do.

import { Errors, SpoolError } from '../util/errors.js';
import type { KeyLayout } from './layout.js';
import type { ClusterLogger } from './logger.js';
import type { ClusterStore } from './store.js';
import { encodeValue, VALUE_FORMAT_VERSION } from './values.js';

export const DEFAULT_PRODUCER_ID_BLOCK_SIZE = 1000;
/** Attempts of one reservation lost to other brokers' reservations before giving up (each loss is another broker's progress). */
export const MAX_RESERVE_ATTEMPTS = 100;

export interface ProducerIdBlockOptions {
  /** Ids per reservation; >= 1. */
  readonly blockSize?: number;
  /** Reserve the next block once fewer ids than this are left; default a tenth of the block. */
  readonly prefetchBelow?: number;
}

interface Block {
  next: number;
  readonly end: number;
}

export class ProducerIdBlocks {
  readonly blockSize: number;
  private readonly prefetchBelow: number;
  private current: Block = { next: 0, end: 0 };
  private spare: Block | null = null;
  private reserving: Promise<Block> | null = null;
  /** Compares lost to another broker's reservation (each retried). */
  conflicts = 0;
  /** Blocks this broker reserved. */
  blocksReserved = 0;

  constructor(
    private readonly store: ClusterStore,
    private readonly layout: KeyLayout,
    private readonly logger: ClusterLogger,
    options: ProducerIdBlockOptions = {},
  ) {
    this.blockSize = options.blockSize ?? DEFAULT_PRODUCER_ID_BLOCK_SIZE;
    if (!Number.isSafeInteger(this.blockSize) || this.blockSize < 1) throw new Error(`producer id block size must be a positive integer, got ${this.blockSize}`);
    this.prefetchBelow = options.prefetchBelow ?? Math.ceil(this.blockSize / 10);
  }

  /** The next producer id: synchronous while the block has ids, else after reserving one. */
  allocate(): number | Promise<number> {
    const id = this.take();
    if (id !== null) return id;
    return this.allocateAfterReserve();
  }

  /** Reserve a block ahead (at start, so the first InitProducerId does not wait); failures are logged only. */
  prefetch(): void {
    if (this.spare !== null || this.reserving !== null) return;
    this.reserve().catch((error: unknown) => this.logger.warn('cluster: reserving producer ids failed; retried on the next InitProducerId', { error: String(error) }));
  }

  private take(): number | null {
    if (this.current.next >= this.current.end && this.spare !== null) {
      this.current = this.spare;
      this.spare = null;
    }
    if (this.current.next >= this.current.end) return null;
    const id = this.current.next++;
    if (this.current.end - this.current.next < this.prefetchBelow) this.prefetch();
    return id;
  }

  private async allocateAfterReserve(): Promise<number> {
    // Concurrent callers share one reservation; a block drained by those before us sends us round again.
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const id = this.take();
      if (id !== null) return id;
      await this.reserve();
    }
    throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, 'no producer id block could be reserved');
  }

  /** One reservation at a time; the block lands in `spare` (take() moves it in). */
  private reserve(): Promise<Block> {
    if (this.reserving === null) {
      this.reserving = this.reserveFromStore().then(
        (block) => {
          this.reserving = null;
          this.spare = block;
          return block;
        },
        (error: unknown) => {
          this.reserving = null;
          throw error;
        },
      );
    }
    return this.reserving;
  }

  private async reserveFromStore(): Promise<Block> {
    const key = this.layout.producerIdBlock;
    for (let attempt = 0; attempt < MAX_RESERVE_ATTEMPTS; attempt++) {
      const read = await this.store.get(key);
      const start = read === null ? 0 : decodeNextId(read.value);
      if (start === null) throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `${key} does not hold a producer id block of format ${VALUE_FORMAT_VERSION}; not reserving over it`);
      const end = start + this.blockSize;
      if (end > Number.MAX_SAFE_INTEGER) throw new SpoolError(Errors.UNKNOWN, 'producer ids are exhausted');
      const result = await this.store.transaction(
        [read === null ? { key, kind: 'absent' } : { key, kind: 'modRevision', modRevision: read.modRevision }],
        [{ kind: 'put', key, value: encodeValue({ nextId: end }) }],
      );
      if (result.succeeded) {
        this.blocksReserved++;
        return { next: start, end };
      }
      this.conflicts++;
    }
    throw new SpoolError(Errors.CLUSTER_UNAVAILABLE, `lost ${MAX_RESERVE_ATTEMPTS} producer id reservations in a row to other brokers`);
  }
}

function decodeNextId(bytes: Buffer): number | null {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { v?: unknown; nextId?: unknown };
    return value.v === VALUE_FORMAT_VERSION && Number.isSafeInteger(value.nextId) && (value.nextId as number) >= 0 ? (value.nextId as number) : null;
  } catch {
    // Not JSON: unreadable, which null says.
    return null;
  }
}
