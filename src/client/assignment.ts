// The consumer's assigned partitions and their positions: the replaceable piece that
// consumer groups (a later issue) drive through set/add/remove. Each partition has a
// fetch offset (next offset to fetch), a consume offset (next offset to hand to the
// user) and an epoch that a seek bumps so data fetched for the old position is
// dropped. A position given as 'earliest' | 'latest' | { timestamp } is resolved with
// ListOffsets before the partition is fetched.

import { ApiKey, OffsetSpec, RequestLimits, type ListOffsetsResponse } from '../protocol/index.js';
import { Errors, SpoolError } from '../util/errors.js';
import type { Client } from './client.js';
import { ANY_BROKER, NO_LEADER, leaderMoved } from './metadata.js';
import { errorFromCode } from './errors.js';

export type OffsetSpecifier = 'earliest' | 'latest' | { timestamp: number };
/** An offset (a number, a numeric string or a bigint, as kafkajs users write them), 'earliest' or 'latest'. */
export type StartOffset = number | bigint | 'earliest' | 'latest' | (string & {});
/** A start position once checked (offset-input.ts requireStartOffset). */
export type CheckedStartOffset = number | 'earliest' | 'latest';

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionAssignment extends TopicPartition {
  /** Where to start; default: the consumer's autoOffsetReset. */
  offset?: StartOffset;
}

export class PartitionState {
  /** Next offset to fetch; -1 while the position is being resolved. */
  fetchOffset = -1;
  /** Next offset to deliver to the user (records below it in a fetched batch are skipped). */
  consumeOffset = -1;
  /** Position still to resolve with ListOffsets. */
  pendingSpec: OffsetSpecifier | null = null;
  /** Bumped by every seek: data fetched before it is dropped. */
  epoch = 0;
  highWatermark = -1;
  paused = false;
  assigned = true;

  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  get key(): string {
    return partitionKey(this.topic, this.partition);
  }

  seek(offset: number): void {
    this.fetchOffset = offset;
    this.consumeOffset = offset;
    this.pendingSpec = null;
    this.epoch++;
  }

  seekTo(spec: OffsetSpecifier): void {
    this.fetchOffset = -1;
    this.consumeOffset = -1;
    this.pendingSpec = spec;
    this.epoch++;
  }
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class Assignment {
  private readonly states = new Map<string, PartitionState>();

  get size(): number {
    return this.states.size;
  }

  get(topic: string, partition: number): PartitionState | undefined {
    return this.states.get(partitionKey(topic, partition));
  }

  require(topic: string, partition: number): PartitionState {
    const state = this.get(topic, partition);
    if (state === undefined) throw new SpoolError(Errors.UNKNOWN_PARTITION, `${topic}/${partition} is not assigned to this consumer`);
    return state;
  }

  all(): IterableIterator<PartitionState> {
    return this.states.values();
  }

  list(): TopicPartition[] {
    return [...this.states.values()].map(({ topic, partition }) => ({ topic, partition }));
  }

  add(topic: string, partition: number, start: CheckedStartOffset): PartitionState {
    let state = this.get(topic, partition);
    if (state === undefined) {
      state = new PartitionState(topic, partition);
      this.states.set(state.key, state);
    }
    if (typeof start === 'number') state.seek(start);
    else state.seekTo(start);
    return state;
  }

  remove(topic: string, partition: number): PartitionState | undefined {
    const state = this.get(topic, partition);
    if (state === undefined) return undefined;
    this.states.delete(state.key);
    state.assigned = false;
    state.epoch++;
    return state;
  }

  clear(): PartitionState[] {
    const removed = [...this.states.values()];
    for (const state of removed) this.remove(state.topic, state.partition);
    return removed;
  }
}

/**
 * Resolves the pending positions of `states` with one ListOffsets request per
 * maxPartitionsPerRequest partitions (the broker's limit). A state sought again while the
 * request was out keeps its newer position.
 */
export async function resolvePositions(client: Client, states: PartitionState[]): Promise<void> {
  const pending = states.filter((state) => state.pendingSpec !== null);
  const limit = RequestLimits.maxPartitionsPerRequest;
  const metadata = client.metadata;
  // Whether this is a cluster (and who leads) is learnt before the first ListOffsets.
  if (!metadata.known && pending.length > 0) {
    for (const state of pending) metadata.markStale(state.topic);
    await metadata.refreshLeaders();
  }
  if (!metadata.routed) {
    for (let start = 0; start < pending.length; start += limit) await resolveSome(client, pending.slice(start, start + limit), ANY_BROKER);
    return;
  }
  // A cluster: each partition's offsets from its leader (a follower's high watermark may lag),
  // with the client's retries, each after learning the leaders again.
  await client.retryPolicy.run(() => resolveAtLeaders(client, pending), { signal: client.signal });
}

async function resolveAtLeaders(client: Client, states: PartitionState[]): Promise<void> {
  const limit = RequestLimits.maxPartitionsPerRequest;
  const metadata = client.metadata;
  const pending = states.filter((state) => state.pendingSpec !== null);
  if (pending.some((state) => metadata.isStale(state.topic))) await metadata.refreshLeaders();
  const byLeader = new Map<number, PartitionState[]>();
  for (const state of pending) {
    const leader = metadata.leaderOf(state.topic, state.partition);
    const node = leader === NO_LEADER ? ANY_BROKER : leader;
    const group = byLeader.get(node);
    if (group === undefined) byLeader.set(node, [state]);
    else group.push(state);
  }
  await Promise.all(
    [...byLeader].map(async ([node, group]) => {
      for (let start = 0; start < group.length; start += limit) await resolveSome(client, group.slice(start, start + limit), node);
    }),
  );
}

async function resolveSome(client: Client, states: PartitionState[], node: number): Promise<void> {
  // Another resolve (the fetch loop's, a seek's) may have settled some meanwhile.
  const work = states.filter((state) => state.pendingSpec !== null);
  if (work.length === 0) return;
  const epochs = work.map((state) => state.epoch);
  // To a leader: one attempt; a failure marks the topics stale and the caller's retry asks
  // the refreshed leader (retrying here would ask the broker that just failed again).
  const response = await client
    .request(
      ApiKey.ListOffsets,
      { partitions: work.map((state) => ({ topic: state.topic, partition: state.partition, timestamp: specTimestamp(state.pendingSpec!) })) },
      undefined,
      node === ANY_BROKER ? {} : { connection: client.leaderConnection(node), retry: false },
    )
    .catch((error: unknown) => {
      if (node !== ANY_BROKER && leaderMoved(error)) for (const state of work) client.metadata.markStale(state.topic);
      throw error;
    });
  const results = (response.header as unknown as ListOffsetsResponse).partitions ?? [];
  let failure: SpoolError | null = null;
  work.forEach((state, index) => {
    const result = results.find((entry) => entry.topic === state.topic && entry.partition === state.partition);
    if (result === undefined) {
      failure ??= new SpoolError(Errors.UNKNOWN, `no ListOffsets result for ${state.topic}/${state.partition}`);
      return;
    }
    const error = errorFromCode(result.errorCode, result.errorMessage, `offsets of ${state.topic}/${state.partition}`);
    if (error) {
      if (leaderMoved(error) && client.metadata.routed) client.metadata.markStale(state.topic);
      failure ??= error;
      return;
    }
    if (state.epoch !== epochs[index] || !state.assigned) return; // sought again meanwhile
    state.fetchOffset = result.offset;
    state.consumeOffset = result.offset;
    state.pendingSpec = null;
  });
  if (failure) throw failure;
}

export function specTimestamp(spec: OffsetSpecifier): number {
  if (spec === 'earliest') return OffsetSpec.Earliest;
  if (spec === 'latest') return OffsetSpec.Latest;
  if (!Number.isSafeInteger(spec.timestamp) || spec.timestamp < 0) {
    throw new SpoolError(Errors.INVALID_TIMESTAMP, `timestamp ${String(spec.timestamp)} is not a non-negative integer (ms)`);
  }
  return spec.timestamp;
}
