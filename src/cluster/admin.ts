// Operators' requests to the controller, as the CLI writes them (spool topic reassign, spool
// cluster elect-leaders): keys under <root>/reassignments/ and <root>/elections/ that the
// controller acts on and deletes when done (README.md "Reassignment and preferred leaders").
// Nothing here talks to a broker: it reads the cluster view from etcd and writes request keys.

import { randomUUID } from 'node:crypto';
import { SpoolError, Errors } from '../util/errors.js';
import { ClusterView } from './cluster-view.js';
import { EtcdStore } from './etcd-store.js';
import { parseClusterUrl } from './etcd-url.js';
import { KeyLayout, partitionId } from './layout.js';
import { silentClusterLogger } from './logger.js';
import type { ClusterStore } from './store.js';
import { summarizeCluster, type ClusterSummary } from './summary.js';
import { encodeValue, isThrottleBytesPerSecond, MAX_THROTTLE_BYTES_PER_SECOND, MIN_THROTTLE_BYTES_PER_SECOND } from './values.js';

/** How long the CLI waits for the controller to finish a request it waits for. */
export const DEFAULT_ADMIN_WAIT_MS = 30_000;

export interface PlannedReassignment {
  readonly topic: string;
  readonly partition: number;
  readonly from: readonly number[];
  readonly to: readonly number[];
}

/** A live view of one cluster for one CLI command. */
export class ClusterAdminSession {
  /** The revision of this session's last write: waits start from the view having seen it. */
  private written = 0;

  private constructor(
    readonly store: ClusterStore,
    readonly view: ClusterView,
    readonly layout: KeyLayout,
  ) {}

  static async open(url: string): Promise<ClusterAdminSession> {
    const address = parseClusterUrl(url);
    const store = new EtcdStore({ endpoints: address.endpoints });
    const layout = new KeyLayout(address.root);
    const view = new ClusterView(store, layout, silentClusterLogger);
    try {
      await view.start();
    } catch (error) {
      store.close();
      throw error;
    }
    return new ClusterAdminSession(store, view, layout);
  }

  summary(): ClusterSummary {
    return summarizeCluster(this.view);
  }

  /** The plan of moving partition `partition` of `topic` to `replicas`; checks without writing. */
  planPartition(topic: string, partition: number, replicas: readonly number[]): PlannedReassignment {
    const assignment = this.view.assignments.get(topic);
    if (!assignment) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist in the cluster`);
    const from = assignment.replicas[partition];
    if (from === undefined) throw new SpoolError(Errors.INVALID_PARTITIONS, `topic '${topic}' has no partition ${partition}`);
    if (replicas.length === 0 || new Set(replicas).size !== replicas.length) throw new SpoolError(Errors.INVALID_REPLICATION_FACTOR, 'the replicas must be distinct node ids, at least one');
    const unknown = replicas.filter((nodeId) => !this.view.brokers.has(nodeId));
    if (unknown.length > 0) throw new SpoolError(Errors.INVALID_REPLICATION_FACTOR, `broker(s) ${unknown.join(',')} are not live`);
    return { topic, partition, from, to: [...replicas] };
  }

  /**
   * Moves every replica off broker `nodeId` (of `topic`, or of every topic): each goes to the
   * live broker outside the partition's replicas holding the fewest replicas (moves counted).
   */
  planDrain(nodeId: number, topic?: string): PlannedReassignment[] {
    const load = new Map<number, number>([...this.view.brokers.keys()].map((id) => [id, 0]));
    for (const assignment of this.view.assignments.values()) {
      for (const replicas of assignment.replicas) for (const id of replicas) if (load.has(id)) load.set(id, load.get(id)! + 1);
    }
    const plans: PlannedReassignment[] = [];
    for (const [name, assignment] of [...this.view.assignments].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (topic !== undefined && name !== topic) continue;
      assignment.replicas.forEach((from, partition) => {
        if (!from.includes(nodeId)) return;
        const candidates = [...load.keys()].filter((id) => id !== nodeId && !from.includes(id)).sort((a, b) => load.get(a)! - load.get(b)! || a - b);
        const replacement = candidates[0];
        if (replacement === undefined) throw new SpoolError(Errors.INVALID_REPLICATION_FACTOR, `${name}/${partition}: no live broker outside [${from.join(',')}] to move broker ${nodeId}'s replica to`);
        load.set(replacement, load.get(replacement)! + 1);
        plans.push({ topic: name, partition, from, to: from.map((id) => (id === nodeId ? replacement : id)) });
      });
    }
    if (topic !== undefined && !this.view.assignments.has(topic)) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist in the cluster`);
    return plans;
  }

  /**
   * Writes the reassignment requests (a request already pending for a partition is replaced,
   * its throttle too). `throttleBytesPerSecond` goes into each request: every broker catching
   * up one of these partitions fetches it at most that fast, until the request is done
   * (README.md "Reassignment throttle").
   */
  async submit(plans: readonly PlannedReassignment[], throttleBytesPerSecond?: number): Promise<void> {
    if (throttleBytesPerSecond !== undefined && !isThrottleBytesPerSecond(throttleBytesPerSecond)) {
      throw new SpoolError(Errors.INVALID_CONFIG, `the throttle must be a whole number of bytes/s in [${MIN_THROTTLE_BYTES_PER_SECOND}, ${MAX_THROTTLE_BYTES_PER_SECOND}], got ${throttleBytesPerSecond}`);
    }
    const throttle = throttleBytesPerSecond === undefined ? {} : { throttleBytesPerSecond };
    for (const plan of plans) this.written = await this.store.put(this.layout.reassignment(plan.topic, plan.partition), encodeValue({ replicas: plan.to, ...throttle }));
  }

  /** Resolves once none of the plans is pending (the controller deleted each request). */
  async waitForReassignments(plans: readonly PlannedReassignment[], timeoutMs = DEFAULT_ADMIN_WAIT_MS): Promise<void> {
    const ids = plans.map((plan) => partitionId(plan.topic, plan.partition));
    await this.waitUntil(() => this.view.revision >= this.written && ids.every((id) => !this.view.reassignments.has(id)), timeoutMs, 'reassignment not finished');
  }

  /** Asks the controller for preferred-leader election and waits until it has run it. */
  async electPreferred(topics: readonly string[] | null, timeoutMs = DEFAULT_ADMIN_WAIT_MS): Promise<void> {
    for (const topic of topics ?? []) {
      if (!this.view.assignments.has(topic)) throw new SpoolError(Errors.UNKNOWN_TOPIC, `topic '${topic}' does not exist in the cluster`);
    }
    const id = randomUUID();
    this.written = await this.store.put(this.layout.election(id), encodeValue({ topics }));
    // Written, seen by the view, and gone: the controller ran it.
    await this.waitUntil(() => this.view.revision >= this.written && !this.view.elections.has(id), timeoutMs, 'preferred-leader election not run (is there a controller?)');
  }

  private waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (done()) return resolve();
      // On every view change, and on a timer too: a delivery whose events change nothing emits no change.
      const check = (): void => {
        if (!done()) return;
        unsubscribe();
        clearTimeout(timer);
        clearInterval(poll);
        resolve();
      };
      const unsubscribe = this.view.onChange(check);
      const poll = setInterval(check, 100);
      const timer = setTimeout(() => {
        unsubscribe();
        clearInterval(poll);
        reject(new SpoolError(Errors.REQUEST_TIMED_OUT, `${what} within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  async close(): Promise<void> {
    await this.view.close();
    this.store.close();
  }
}
