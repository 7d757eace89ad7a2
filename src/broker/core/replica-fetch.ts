// Replication's data path on the leader, protocol-neutral (Kafka's ReplicaManager and
// Partition, reduced to what a leader and a follower need):
//
// - ReplicaFetch: a follower names its log end per partition; the leader records it,
//   advances the high watermark to the minimum log end over the in-sync replicas (itself
//   included), and answers batches from that offset up to its log end, with its HW.
// - OffsetForLeaderEpoch: where an epoch ends in the leader's log (storage's
//   endOffsetForEpoch), so a returning follower knows where to truncate.
// - acks=all produce: refused with NOT_ENOUGH_REPLICAS when the ISR is smaller than
//   min.insync.replicas; otherwise answered once the HW passes the batch (a waiter keyed by
//   offset, woken when the HW advances; REQUEST_TIMED_OUT after ackTimeoutMs).
//
// Who leads, at which epoch, and which replicas are in sync comes from a ReplicaState the
// cluster layer supplies (etcd); a test supplies its own. A partition the state does not
// know (null) is not replicated: single-node behaviour, HW = log end.

import { Errors, SpoolError, isSpoolError } from '../../util/errors.js';
import type { LeaderEpochEnd, ReadResult, ReplicaLog } from '../../storage/types.js';

/** One partition's replication state as this broker last learned it. */
export interface PartitionReplicaState {
  leaderId: number;
  leaderEpoch: number;
  /** In-sync replicas (broker ids), the leader included. */
  isr: readonly number[];
  /** acks=all needs this many in sync (the topic's min.insync.replicas); absent: the broker-wide setting. */
  minInsyncReplicas?: number;
}

/** Supplied by the cluster layer (src/cluster) or a test. */
export interface ReplicaState {
  /** Null: the partition is not replicated (single node). */
  partitionState(topic: string, partition: number): PartitionReplicaState | null;
  /**
   * False while this broker may have lost its cluster lease (src/cluster/README.md
   * "Membership and lease loss"): a leader then neither appends nor acknowledges.
   * Absent: always valid (tests without a lease).
   */
  leaseValid?(): boolean;
}

export interface ReplicationSettings {
  /** This broker's id. */
  brokerId: number;
  state: ReplicaState;
  /** acks=all needs at least this many in-sync replicas (Kafka's min.insync.replicas; default 1). */
  minInsyncReplicas?: number;
  /** An acks=all produce not replicated within this is answered REQUEST_TIMED_OUT (default 30,000 ms). */
  ackTimeoutMs?: number;
}

export interface ReplicaLogs {
  getPartition(topic: string, partition: number): ReplicaLog;
}

interface AckWaiter {
  endOffset: number;
  resolve: () => void;
  reject: (error: SpoolError) => void;
  timer: NodeJS.Timeout;
}

/** Per partition this broker leads: followers' log ends and the acks=all waiters. */
interface LeaderPartition {
  log: ReplicaLog;
  leaderEpoch: number;
  /** follower id -> its last fetch offset (its log end). */
  followerLogEnds: Map<number, number>;
  /** follower id -> when (ms, monotonic) it was last caught up (Kafka's lastCaughtUpTimeMs, see readForFollower). */
  followerCaughtUpMs: Map<number, number>;
  /** follower id -> the leader's log end and the time at its previous fetch (Kafka's lastFetchLeaderLogEndOffset / lastFetchTimeMs). */
  followerLastFetch: Map<number, { leaderLogEnd: number; atMs: number }>;
  /** Ordered by endOffset (appends come in offset order). */
  waiters: AckWaiter[];
  unsubscribe: () => void;
}

const DEFAULT_ACK_TIMEOUT_MS = 30_000;

export class ReplicaManager {
  readonly brokerId: number;
  private readonly state: ReplicaState;
  private readonly minInsyncReplicas: number;
  private readonly ackTimeoutMs: number;
  private readonly leading = new Map<string, LeaderPartition>();
  /** Logs handed out by replicaLog, subscribed so their HW moves wake parked fetches. */
  private readonly watched = new Map<string, { log: ReplicaLog; unsubscribe: () => void }>();

  constructor(
    private readonly logs: ReplicaLogs,
    settings: ReplicationSettings,
    /** Wakes parked fetches of a partition (its HW moved). */
    private readonly notify: (topic: string, partition: number) => void,
  ) {
    this.brokerId = settings.brokerId;
    this.state = settings.state;
    this.minInsyncReplicas = settings.minInsyncReplicas ?? 1;
    this.ackTimeoutMs = settings.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
  }

  /**
   * The partition's state when this broker leads it at the epoch asked for (when one is
   * given); throws NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH (older epoch),
   * UNKNOWN_LEADER_EPOCH (newer). Takes up leadership (stamping epoch, waiters) on first use.
   */
  private lead(topic: string, partition: number, requestEpoch?: number): LeaderPartition {
    const state = this.state.partitionState(topic, partition);
    if (!state || state.leaderId !== this.brokerId) {
      throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${this.brokerId} does not lead ${topic}-${partition}`);
    }
    if (requestEpoch !== undefined && requestEpoch < state.leaderEpoch) {
      throw new SpoolError(Errors.FENCED_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${requestEpoch} is older than ${state.leaderEpoch}`);
    }
    if (requestEpoch !== undefined && requestEpoch > state.leaderEpoch) {
      throw new SpoolError(Errors.UNKNOWN_LEADER_EPOCH, `${topic}-${partition}: leader epoch ${requestEpoch} is newer than ${state.leaderEpoch}`);
    }
    const key = `${topic}\u0000${partition}`;
    let entry = this.leading.get(key);
    if (entry && entry.leaderEpoch !== state.leaderEpoch) {
      // A new term of this broker's leadership: followers' positions start over.
      entry.followerLogEnds.clear();
      entry.followerCaughtUpMs.clear();
      entry.followerLastFetch.clear();
      entry.leaderEpoch = state.leaderEpoch;
      entry.log.setLeaderEpoch(state.leaderEpoch);
    }
    if (!entry) {
      const log = this.logs.getPartition(topic, partition);
      log.setLeaderEpoch(state.leaderEpoch);
      const created: LeaderPartition = { log, leaderEpoch: state.leaderEpoch, followerLogEnds: new Map(), followerCaughtUpMs: new Map(), followerLastFetch: new Map(), waiters: [], unsubscribe: () => undefined };
      created.unsubscribe = log.onHighWatermark((highWatermark) => this.wakeWaiters(created, highWatermark, topic, partition));
      this.leading.set(key, created);
      entry = created;
    }
    return entry;
  }

  /**
   * The local log of a partition, as a replica (a follower's fetcher appends to it). Its
   * high-watermark moves wake the consumers parked on it here too (on a follower the
   * fetcher moves it).
   */
  replicaLog(topic: string, partition: number): ReplicaLog {
    const log = this.logs.getPartition(topic, partition);
    const key = `${topic}\u0000${partition}`;
    const watched = this.watched.get(key);
    if (watched?.log !== log) {
      watched?.unsubscribe();
      this.watched.set(key, { log, unsubscribe: log.onHighWatermark(() => this.notify(topic, partition)) });
    }
    return log;
  }

  /**
   * The leader epoch when this broker leads the partition now with a valid lease (a
   * share-partition leader serves it at that epoch); -1 when the partition is not
   * replicated; null when another broker leads it or the lease may be lost.
   */
  servingEpoch(topic: string, partition: number): number | null {
    const state = this.state.partitionState(topic, partition);
    if (!state) return -1;
    if (state.leaderId !== this.brokerId || this.state.leaseValid?.() === false) return null;
    return state.leaderEpoch;
  }

  /** True when the partition is replicated (the cluster knows it). */
  isReplicated(topic: string, partition: number): boolean {
    return this.state.partitionState(topic, partition) !== null;
  }

  /**
   * Before a produce's append: this broker must lead the partition; acks=all needs at
   * least min.insync.replicas in sync (NOT_ENOUGH_REPLICAS otherwise, nothing written).
   */
  checkProduce(topic: string, partition: number, acks: number): void {
    const state = this.state.partitionState(topic, partition);
    if (!state) return;
    this.lead(topic, partition);
    // A leader whose lease may be gone may already be replaced: it takes no writes (acks 0 and 1 too).
    if (this.state.leaseValid?.() === false) throw this.leaseLostError(topic, partition);
    const minInsyncReplicas = state.minInsyncReplicas ?? this.minInsyncReplicas;
    if (acks === -1 && state.isr.length < minInsyncReplicas) {
      throw new SpoolError(Errors.NOT_ENOUGH_REPLICAS, `${topic}-${partition} has ${state.isr.length} in-sync replica(s), min.insync.replicas is ${minInsyncReplicas}`);
    }
  }

  /** Before a consumer's read: a replicated partition is read on its leader only (no follower fetching yet). */
  checkFetch(topic: string, partition: number): void {
    const state = this.state.partitionState(topic, partition);
    if (state && state.leaderId !== this.brokerId) {
      throw new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${this.brokerId} does not lead ${topic}-${partition} (leader ${state.leaderId})`);
    }
  }

  private leaseLostError(topic: string, partition: number): SpoolError {
    return new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${this.brokerId} lost its cluster lease: it no longer acknowledges writes to ${topic}-${partition}`);
  }

  /**
   * The cluster lease is (maybe) lost: every waiting acks=all produce fails with
   * NOT_LEADER_OR_FOLLOWER (another broker may lead by now; the client retries there).
   */
  leaseLost(): void {
    for (const [key, entry] of this.leading) {
      const [topic, partition] = key.split('\u0000') as [string, string];
      for (const waiter of entry.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(this.leaseLostError(topic, Number(partition)));
      }
    }
  }

  /** After a leader append: the HW may move (an ISR of the leader alone moves it to the log end). */
  afterLeaderAppend(topic: string, partition: number): void {
    if (!this.state.partitionState(topic, partition)) return;
    this.maybeAdvanceHighWatermark(topic, partition, this.lead(topic, partition));
  }

  /** Resolves once the HW reaches `endOffset` (acks=all); REQUEST_TIMED_OUT after ackTimeoutMs. */
  waitForHighWatermark(topic: string, partition: number, endOffset: number): Promise<void> {
    if (!this.state.partitionState(topic, partition)) return Promise.resolve();
    const entry = this.lead(topic, partition);
    if (entry.log.highWatermark >= endOffset) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: AckWaiter = {
        endOffset,
        resolve,
        reject,
        timer: setTimeout(() => {
          const at = entry.waiters.indexOf(waiter);
          if (at >= 0) entry.waiters.splice(at, 1);
          reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `${topic}-${partition}: not replicated to the in-sync replicas within ${this.ackTimeoutMs} ms`));
        }, this.ackTimeoutMs),
      };
      // Appends arrive in offset order, so pushing keeps the list sorted; insert otherwise.
      let at = entry.waiters.length;
      while (at > 0 && entry.waiters[at - 1]!.endOffset > endOffset) at--;
      entry.waiters.splice(at, 0, waiter);
    });
  }

  private wakeWaiters(entry: LeaderPartition, highWatermark: number, topic: string, partition: number): void {
    // Checked at the moment of acknowledging: after a SIGSTOP the lease timer fires late, and
    // fetches queued before the stop may move the HW first.
    if (entry.waiters.length > 0 && this.state.leaseValid?.() === false) {
      for (const waiter of entry.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(this.leaseLostError(topic, partition));
      }
    }
    let woken = 0;
    while (woken < entry.waiters.length && entry.waiters[woken]!.endOffset <= highWatermark) woken++;
    for (const waiter of entry.waiters.splice(0, woken)) {
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.notify(topic, partition);
  }

  /** HW := min log end over the ISR (a follower not heard from yet holds it where it is). */
  private maybeAdvanceHighWatermark(topic: string, partition: number, entry: LeaderPartition): void {
    const state = this.state.partitionState(topic, partition);
    if (!state) return;
    const log = entry.log;
    let candidate = log.logEndOffset;
    for (const replicaId of state.isr) {
      if (replicaId === this.brokerId) continue;
      const logEnd = entry.followerLogEnds.get(replicaId);
      candidate = Math.min(candidate, logEnd ?? log.highWatermark);
    }
    log.advanceHighWatermark(candidate);
  }

  /**
   * A follower's fetch of one partition: records its log end (fetchOffset), advances the
   * HW, reads from fetchOffset up to the log end. OFFSET_OUT_OF_RANGE past the log end
   * (the follower must truncate first) or below the log start.
   */
  readForFollower(replicaId: number, topic: string, partition: number, leaderEpoch: number, fetchOffset: number, maxBytes: number): ReadResult & { logEndOffset: number } {
    const entry = this.lead(topic, partition, leaderEpoch);
    const log = entry.log;
    if (fetchOffset <= log.logEndOffset) {
      entry.followerLogEnds.set(replicaId, fetchOffset);
      // Kafka's rule: caught up now when at the log end; caught up as of its previous fetch
      // when it has reached the log end the leader had then (under steady produce a follower
      // is rarely exactly at the end, yet never more than one fetch behind).
      const nowMs = performance.now();
      const previous = entry.followerLastFetch.get(replicaId);
      if (fetchOffset === log.logEndOffset) entry.followerCaughtUpMs.set(replicaId, nowMs);
      else if (previous !== undefined && fetchOffset >= previous.leaderLogEnd) entry.followerCaughtUpMs.set(replicaId, previous.atMs);
      entry.followerLastFetch.set(replicaId, { leaderLogEnd: log.logEndOffset, atMs: nowMs });
      this.maybeAdvanceHighWatermark(topic, partition, entry);
    }
    // maxBytes 0: the position is recorded, nothing is read (the request's bytes are spent).
    const read = maxBytes > 0 ? log.read(fetchOffset, maxBytes) : { bytes: Buffer.alloc(0), highWatermark: 0, logStartOffset: log.logStartOffset };
    if (maxBytes <= 0 && (fetchOffset < log.logStartOffset || fetchOffset > log.logEndOffset)) log.read(fetchOffset, 1);
    return { ...read, highWatermark: log.highWatermark, logEndOffset: log.logEndOffset };
  }

  /**
   * What this leader knows of its followers, for the cluster layer's ISR decisions (Kafka
   * shrinks the ISR by replica.lag.time.max.ms since a follower was last caught up): per
   * follower heard from in this leader epoch, its log end and when (performance.now() ms) it
   * last fetched at the leader's log end (-1: never). Empty when this broker does not lead.
   */
  followerStates(topic: string, partition: number): Array<{ replicaId: number; logEndOffset: number; lastCaughtUpMs: number }> {
    const entry = this.leading.get(`${topic}\u0000${partition}`);
    if (!entry) return [];
    return [...entry.followerLogEnds].map(([replicaId, logEndOffset]) => ({ replicaId, logEndOffset, lastCaughtUpMs: entry.followerCaughtUpMs.get(replicaId) ?? -1 }));
  }

  /** OffsetForLeaderEpoch on the leader: fenced by currentLeaderEpoch (-1: not checked). */
  endOffsetForEpoch(topic: string, partition: number, currentLeaderEpoch: number, leaderEpoch: number): LeaderEpochEnd {
    const entry = this.lead(topic, partition, currentLeaderEpoch < 0 ? undefined : currentLeaderEpoch);
    return entry.log.endOffsetForEpoch(leaderEpoch);
  }

  /**
   * The cluster layer changed a partition's state: when this broker no longer leads it
   * (or leads at another epoch), waiting acks=all produces fail with NOT_LEADER_OR_FOLLOWER
   * and the leader bookkeeping starts over at the next use.
   */
  stateChanged(topic: string, partition: number): void {
    const key = `${topic}\u0000${partition}`;
    const entry = this.leading.get(key);
    if (!entry) return;
    const state = this.state.partitionState(topic, partition);
    if (state && state.leaderId === this.brokerId && state.leaderEpoch === entry.leaderEpoch) {
      this.maybeAdvanceHighWatermark(topic, partition, entry);
      return;
    }
    this.leading.delete(key);
    entry.unsubscribe();
    if (!state || state.leaderId !== this.brokerId) entry.log.setLeaderEpoch(-1);
    for (const waiter of entry.waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new SpoolError(Errors.NOT_LEADER_OR_FOLLOWER, `broker ${this.brokerId} no longer leads ${topic}-${partition} at epoch ${entry.leaderEpoch}`));
    }
    // Parked fetches listing the partition read again and answer its error now (a follower's
    // ReplicaFetch of many partitions, fenced here, need not wait out its maxWaitMs).
    this.notify(topic, partition);
  }

  /** Fails every waiting acks=all produce (shutdown). */
  close(): void {
    for (const watched of this.watched.values()) watched.unsubscribe();
    this.watched.clear();
    for (const [key, entry] of this.leading) {
      entry.unsubscribe();
      for (const waiter of entry.waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new SpoolError(Errors.SHUTTING_DOWN, 'the broker is shutting down'));
      }
      this.leading.delete(key);
    }
  }
}

export interface ReplicaFetchSpec {
  replicaId: number;
  maxWaitMs: number;
  minBytes: number;
  maxBytes: number;
  partitions: ReadonlyArray<{ topic: string; partition: number; leaderEpoch: number; fetchOffset: number; maxBytes: number }>;
}

export interface ReplicaPartitionRead {
  topic: string;
  partition: number;
  /** Null on success; otherwise the error (a SpoolError, or a bug). */
  error: unknown;
  highWatermark: number;
  logStartOffset: number;
  logEndOffset: number;
  records: Buffer | null;
}

export interface ReplicaFetchRead {
  partitions: ReplicaPartitionRead[];
  totalBytes: number;
}

/**
 * One ReplicaFetch, read now: every partition at most its maxBytes and what is left of the
 * request's (the first partition with data at least one whole batch, as storage reads give).
 */
export function readReplicaFetch(replicas: ReplicaManager, request: ReplicaFetchSpec): ReplicaFetchRead {
  let remaining = request.maxBytes;
  let totalBytes = 0;
  const partitions = request.partitions.map((entry): ReplicaPartitionRead => {
    const result: ReplicaPartitionRead = { topic: entry.topic, partition: entry.partition, error: null, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, records: null };
    try {
      // Past the request's bytes: the follower's position (and so the HW) is still recorded.
      const limit = totalBytes > 0 && remaining <= 0 ? 0 : Math.max(1, Math.min(entry.maxBytes, remaining));
      const read = replicas.readForFollower(request.replicaId, entry.topic, entry.partition, entry.leaderEpoch, entry.fetchOffset, limit);
      Object.assign(result, { highWatermark: read.highWatermark, logStartOffset: read.logStartOffset, logEndOffset: read.logEndOffset });
      if (read.bytes.length > 0) {
        result.records = read.bytes;
        totalBytes += read.bytes.length;
        remaining -= read.bytes.length;
      }
    } catch (error) {
      result.error = error;
      // Out of range: the follower needs the leader's log bounds to start over (below the
      // log start: truncateFullyAndStartAt) or to truncate (past the log end).
      if (isSpoolError(error, Errors.OFFSET_OUT_OF_RANGE)) {
        const log = replicas.replicaLog(entry.topic, entry.partition);
        Object.assign(result, { highWatermark: log.highWatermark, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset });
      }
    }
    return result;
  });
  return { partitions, totalBytes };
}
