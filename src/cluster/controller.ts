// The controller: runs on the one broker holding <root>/controller, for as long as it holds it.
// It has no RPCs: it reads the ClusterView (the same watch every broker has) and writes etcd
// by compare-and-swap, and the brokers take their roles from what it wrote.
//
// One reconcile pass at a time, started whenever the view changes (coalesced):
// 1. topics with a spec but no assignment get replicas placed (placement.ts) and their
//    partition states created {leader: first replica, leaderEpoch 0, isr: all replicas};
// 2. every partition whose leader or ISR names a broker that is not live gets its next state
//    (leader-election.ts);
// 3. on a settled view (no repair written in the pass): operators' reassignments and
//    preferred-leader elections, and, every leaderImbalanceCheckIntervalMs, the automatic
//    preferred-leader rebalance (Kafka's auto.leader.rebalance.enable).
// Every write is a transaction whose compares include `controller createRevision == epoch`
// (a controller that was replaced, e.g. after its own lease expired, cannot write) and the
// partition key's modRevision as read (a concurrent ISR change by the leader wins; the watch
// brings the new state and the next pass decides again). Partition writes are batched,
// MAX_TRANSACTION_OPERATIONS keys a transaction; a batch that loses a compare is retried key
// by key so one conflict does not hold back the others.

import { AssertionError } from '../util/assert.js';
import { SpoolError, Errors, isSpoolError } from '../util/errors.js';
import type { ClusterView } from './cluster-view.js';
import { partitionId, type KeyLayout } from './layout.js';
import { nextPartitionState } from './leader-election.js';
import type { ClusterLogger } from './logger.js';
import { placeReplicas } from './placement.js';
import { MAX_TRANSACTION_OPERATIONS, type ClusterStore, type Compare, type Operation } from './store.js';
import { encodeValue, NO_LEADER, type PartitionState } from './values.js';

interface PlannedWrite {
  readonly key: string;
  readonly compare: Compare;
  readonly value: PartitionState;
  readonly id: string;
}

export interface ControllerOptions {
  /** Wait before a pass that failed for an etcd error runs again. Default 200. */
  readonly retryMs?: number;
  /** Kafka's auto.leader.rebalance.enable. Default true. */
  readonly autoLeaderRebalance?: boolean;
  /** Kafka's leader.imbalance.check.interval.seconds, in ms. Default 300,000. */
  readonly leaderImbalanceCheckIntervalMs?: number;
  /** Kafka's leader.imbalance.per.broker.percentage. Default 10. */
  readonly leaderImbalancePerBrokerPercentage?: number;
}

/** Kafka's defaults for the automatic preferred-leader rebalance. */
export const DEFAULT_AUTO_LEADER_REBALANCE = true;
export const DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS = 300_000;
export const DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE = 10;
/** Bounds of the check interval (ms): below 100 ms it is a busy loop; above a day it is off in practice. */
export const MIN_LEADER_IMBALANCE_CHECK_INTERVAL_MS = 100;
export const MAX_LEADER_IMBALANCE_CHECK_INTERVAL_MS = 86_400_000;

/**
 * The automatic rebalance's choice (Kafka's checkAndTriggerAutoLeaderRebalance), pure: per
 * broker, the share of the partitions whose preferred (first) replica it is that another
 * broker leads; for each broker above `percentage`, those of its partitions it can take back
 * (it is live and in the ISR, and no reassignment is pending for the partition).
 */
export function partitionsToRebalance(
  partitions: Iterable<{ topic: string; partition: number; replicas: readonly number[]; leader: number; isr: readonly number[]; reassigning: boolean }>,
  live: ReadonlySet<number>,
  percentage: number,
): Array<{ topic: string; partition: number; preferred: number }> {
  const byPreferred = new Map<number, { total: number; notLed: Array<{ topic: string; partition: number; eligible: boolean }> }>();
  for (const entry of partitions) {
    const preferred = entry.replicas[0];
    if (preferred === undefined) continue;
    let broker = byPreferred.get(preferred);
    if (!broker) byPreferred.set(preferred, (broker = { total: 0, notLed: [] }));
    broker.total++;
    if (entry.leader !== preferred) broker.notLed.push({ topic: entry.topic, partition: entry.partition, eligible: entry.isr.includes(preferred) && !entry.reassigning });
  }
  const chosen: Array<{ topic: string; partition: number; preferred: number }> = [];
  for (const [preferred, broker] of byPreferred) {
    if (!live.has(preferred) || broker.notLed.length * 100 <= percentage * broker.total) continue;
    for (const entry of broker.notLed) if (entry.eligible) chosen.push({ topic: entry.topic, partition: entry.partition, preferred });
  }
  return chosen;
}

export class Controller {
  private running = false;
  private again = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private rebalanceTimer: NodeJS.Timeout | null = null;
  /** Set by the imbalance check's timer; the next settled pass runs the check. */
  private rebalanceDue = false;
  private unsubscribe: (() => void) | null = null;
  /** Registration epochs seen in the last pass: a broker whose epoch changed restarted. */
  private knownBrokers: Map<number, number> | null = null;
  /** Passes run; for tests and logs. */
  passes = 0;
  /** Topics already warned about (waiting for brokers): one line each, not one per pass. */
  private readonly waitingTopics = new Set<string>();

  constructor(
    private readonly store: ClusterStore,
    private readonly view: ClusterView,
    private readonly layout: KeyLayout,
    readonly epoch: number,
    private readonly logger: ClusterLogger,
    private readonly options: ControllerOptions = {},
  ) {}

  start(): void {
    this.unsubscribe = this.view.onChange(() => this.schedule());
    this.logger.info('cluster: controller started', { epoch: this.epoch });
    if (this.options.autoLeaderRebalance ?? DEFAULT_AUTO_LEADER_REBALANCE) {
      // As Kafka's controller: the first check one interval after taking the role.
      this.rebalanceTimer = setInterval(() => {
        this.rebalanceDue = true;
        this.schedule();
      }, this.options.leaderImbalanceCheckIntervalMs ?? DEFAULT_LEADER_IMBALANCE_CHECK_INTERVAL_MS);
      this.rebalanceTimer.unref();
    }
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.rebalanceTimer) clearInterval(this.rebalanceTimer);
  }

  /** Run a pass now, or right after the one running. */
  schedule(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    // setImmediate: the events of one watch delivery are all applied before the pass reads.
    setImmediate(() => void this.runPasses());
  }

  private async runPasses(): Promise<void> {
    try {
      do {
        this.again = false;
        if (this.stopped) return;
        await this.pass();
      } while (this.again);
    } catch (error) {
      // A bug stops the process (STYLE): no retry turns an assertion into a warning.
      if (error instanceof AssertionError) throw error;
      if (this.stopped) return;
      if (isSpoolError(error, Errors.STATE_CHANGED)) {
        this.logger.warn('cluster: controller fenced (another controller epoch); stopping', { epoch: this.epoch });
        this.stop();
        return;
      }
      this.logger.warn('cluster: controller pass failed; retrying', { error: error instanceof Error ? error.message : String(error) });
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.schedule();
      }, this.options.retryMs ?? 200);
    } finally {
      this.running = false;
    }
  }

  private fence(): Compare {
    return { key: this.layout.controller, kind: 'createRevision', createRevision: this.epoch };
  }

  /** The brokers trusted this pass: live, and not re-registered since the last pass. */
  private trustedBrokers(): { live: Set<number>; restarted: boolean; known: Map<number, number> } {
    const live = new Set<number>();
    let restarted = false;
    const previous = this.knownBrokers;
    const known = new Map<number, number>();
    for (const [nodeId, broker] of this.view.brokers) {
      known.set(nodeId, broker.registrationRevision);
      const before = previous?.get(nodeId);
      if (previous !== null && before !== undefined && before !== broker.registrationRevision) {
        restarted = true;
        continue;
      }
      live.add(nodeId);
    }
    return { live, restarted, known };
  }

  private async pass(): Promise<void> {
    this.passes++;
    const { live, restarted, known } = this.trustedBrokers();
    await this.createAssignments(live);
    await this.growAssignments(live);
    const writes: PlannedWrite[] = [];
    for (const [topic, assignment] of this.view.assignments) {
      for (let partition = 0; partition < assignment.replicas.length; partition++) {
        const entry = this.view.partition(topic, partition);
        if (!entry) continue;
        const next = nextPartitionState(entry.state, assignment.replicas[partition]!, live, this.epoch);
        if (!next) continue;
        const key = this.layout.partition(topic, partition);
        writes.push({ key, id: partitionId(topic, partition), compare: { key, kind: 'modRevision', modRevision: entry.modRevision }, value: next });
        if (next.leader !== entry.state.leader) {
          this.logger.info('cluster: partition leader change', { topic, partition, from: entry.state.leader, to: next.leader, leaderEpoch: next.leaderEpoch, isr: next.isr.join(',') });
        }
      }
    }
    await this.writeBatched(writes);
    // Operators' requests on a settled view only: the writes above are not in it yet.
    if (writes.length === 0) {
      await this.reassign(live);
      await this.electPreferred(live);
      // A restarted broker's leaderships are handed back on a later pass, once it is trusted again.
      if (this.rebalanceDue && !restarted) {
        this.rebalanceDue = false;
        await this.rebalanceLeaders(live);
      }
    }
    // Only after a complete pass: a pass that failed half-way must treat a restart as one again.
    this.knownBrokers = known;
    // A restarted broker was left out of this pass; the next one may elect it.
    if (restarted) this.again = true;
  }

  private async createAssignments(live: ReadonlySet<number>): Promise<void> {
    for (const [topic, spec] of this.view.topics) {
      if (this.view.assignments.has(topic)) continue;
      if (spec.replicationFactor > live.size) {
        if (this.waitingTopics.has(topic)) continue;
        this.waitingTopics.add(topic);
        this.logger.warn('cluster: topic waits for brokers: replication factor above live brokers', { topic, replicationFactor: spec.replicationFactor, liveBrokers: live.size });
        continue;
      }
      const replicas = placeReplicas([...live], spec.partitions, spec.replicationFactor, this.load());
      const writes: PlannedWrite[] = replicas.map((chosen, partition) => {
        const key = this.layout.partition(topic, partition);
        return { key, id: partitionId(topic, partition), compare: { key, kind: 'absent' }, value: { leader: chosen[0]!, leaderEpoch: 0, isr: chosen, controllerEpoch: this.epoch } };
      });
      // Partition states first, the assignment last: a topic whose assignment exists is complete.
      await this.writeBatched(writes.filter((write) => !this.view.partitions.has(write.id)));
      const key = this.layout.assignment(topic);
      const result = await this.store.transaction([this.fence(), { key, kind: 'absent' }], [{ kind: 'put', key, value: encodeValue({ replicas }) }]);
      if (!result.succeeded) await this.checkFence();
      else this.logger.info('cluster: topic placed', { topic, partitions: spec.partitions, replicationFactor: spec.replicationFactor });
    }
  }

  /**
   * Topics whose spec asks for more partitions than their assignment has (CreatePartitions):
   * the new partitions are placed over the live brokers as a new topic's would be, their
   * states created, then the assignment replaced by CAS on its modRevision.
   */
  private async growAssignments(live: ReadonlySet<number>): Promise<void> {
    for (const [topic, assignment] of this.view.assignments) {
      const spec = this.view.topics.get(topic);
      if (!spec || spec.partitions <= assignment.replicas.length) continue;
      const replicationFactor = assignment.replicas[0]!.length;
      if (replicationFactor > live.size) {
        this.logger.warn('cluster: new partitions wait for brokers: replication factor above live brokers', { topic, replicationFactor, liveBrokers: live.size });
        continue;
      }
      const from = assignment.replicas.length;
      // A state left by an earlier controller's half-done pass keeps its replicas (written as its ISR).
      const added = placeReplicas([...live], spec.partitions - from, replicationFactor, this.load())
        .map((chosen, index) => this.view.partition(topic, from + index)?.state.isr ?? chosen);
      const writes: PlannedWrite[] = added.map((chosen, index) => {
        const key = this.layout.partition(topic, from + index);
        return { key, id: partitionId(topic, from + index), compare: { key, kind: 'absent' }, value: { leader: chosen[0]!, leaderEpoch: 0, isr: chosen, controllerEpoch: this.epoch } };
      });
      await this.writeBatched(writes.filter((write) => !this.view.partitions.has(write.id)));
      const key = this.layout.assignment(topic);
      const current = await this.store.get(key);
      if (!current) continue;
      const replicas = [...assignment.replicas, ...added];
      const result = await this.store.transaction([this.fence(), { key, kind: 'modRevision', modRevision: current.modRevision }], [{ kind: 'put', key, value: encodeValue({ replicas }) }]);
      if (!result.succeeded) await this.checkFence();
      else this.logger.info('cluster: partitions added', { topic, from, to: spec.partitions });
    }
  }

  /**
   * Kafka's reassignment, one step per pass and partition: (1) the assignment gets the target
   * replicas added (target first, then the old ones), so the new ones start fetching and the
   * leader adds them to the ISR once caught up; (2) when every target replica is in the ISR,
   * one transaction sets the assignment to the target, the ISR to its part in the target, a
   * new leader from the target's ISR members (epoch + 1) if the old leader is not in the
   * target, and deletes the request. A target naming a broker that is not live waits.
   */
  private async reassign(live: ReadonlySet<number>): Promise<void> {
    for (const [id, request] of this.view.reassignments) {
      const { topic, partition, replicas: target } = request;
      const requestKey = this.layout.reassignment(topic, partition);
      const assignment = this.view.assignments.get(topic);
      const entry = this.view.partition(topic, partition);
      const assignmentKey = this.layout.assignment(topic);
      if (!assignment || !entry || partition >= assignment.replicas.length) {
        this.logger.warn('cluster: dropping a reassignment of a partition that does not exist', { topic, partition });
        await this.commit([{ key: requestKey, kind: 'modRevision', modRevision: (await this.store.get(requestKey))?.modRevision ?? 0 }], [{ kind: 'delete', key: requestKey }]);
        continue;
      }
      if (!target.every((nodeId) => live.has(nodeId))) {
        if (!this.waitingTopics.has(`reassign:${id}`)) this.logger.warn('cluster: reassignment waits: a target replica is not live', { topic, partition, target: target.join(',') });
        this.waitingTopics.add(`reassign:${id}`);
        continue;
      }
      this.waitingTopics.delete(`reassign:${id}`);
      const current = assignment.replicas[partition]!;
      const assignmentKv = await this.store.get(assignmentKey);
      if (!assignmentKv) continue;
      const withReplicas = (replicas: readonly number[]): Buffer => encodeValue({ replicas: assignment.replicas.map((old, index) => (index === partition ? replicas : old)) });
      if (!target.every((nodeId) => current.includes(nodeId))) {
        const adding = [...target, ...current.filter((nodeId) => !target.includes(nodeId))];
        if (await this.commit([{ key: assignmentKey, kind: 'modRevision', modRevision: assignmentKv.modRevision }], [{ kind: 'put', key: assignmentKey, value: withReplicas(adding) }])) {
          this.logger.info('cluster: reassignment adds replicas', { topic, partition, replicas: adding.join(',') });
        }
        continue;
      }
      const state = entry.state;
      if (state.leader === NO_LEADER || !target.every((nodeId) => state.isr.includes(nodeId))) continue;
      const isr = state.isr.filter((nodeId) => target.includes(nodeId));
      const leader = target.includes(state.leader) ? state.leader : target.find((nodeId) => isr.includes(nodeId))!;
      const next: PartitionState = { leader, leaderEpoch: leader === state.leader ? state.leaderEpoch : state.leaderEpoch + 1, isr, controllerEpoch: this.epoch };
      const partitionKey = this.layout.partition(topic, partition);
      const requestKv = await this.store.get(requestKey);
      if (!requestKv) continue;
      // The state is written even when unchanged: its new modRevision fails a leader's ISR change computed for the old replicas.
      const done = await this.commit(
        [
          { key: assignmentKey, kind: 'modRevision', modRevision: assignmentKv.modRevision },
          { key: partitionKey, kind: 'modRevision', modRevision: entry.modRevision },
          { key: requestKey, kind: 'modRevision', modRevision: requestKv.modRevision },
        ],
        [
          { kind: 'put', key: assignmentKey, value: withReplicas(target) },
          { kind: 'put', key: partitionKey, value: encodeValue(next) },
          { kind: 'delete', key: requestKey },
        ],
      );
      if (done) this.logger.info('cluster: reassignment done', { topic, partition, replicas: target.join(','), leader, leaderEpoch: next.leaderEpoch });
    }
  }

  /**
   * Preferred-leader election (Kafka's kafka-leader-election --election-type PREFERRED): each
   * partition of the requested topics whose first replica is live, in the ISR and not the
   * leader gets it as leader with the epoch bumped; then the request is deleted.
   */
  private async electPreferred(live: ReadonlySet<number>): Promise<void> {
    for (const [requestId, request] of this.view.elections) {
      const topics = request.topics === null ? null : new Set(request.topics);
      const chosen: Array<{ topic: string; partition: number }> = [];
      for (const [topic, assignment] of this.view.assignments) {
        if (topics !== null && !topics.has(topic)) continue;
        for (let partition = 0; partition < assignment.replicas.length; partition++) chosen.push({ topic, partition });
      }
      await this.writeBatched(this.preferredLeaderWrites(chosen, live, 'cluster: preferred leader elected'));
      const key = this.layout.election(requestId);
      await this.commit([], [{ kind: 'delete', key }]);
    }
  }

  /**
   * The automatic preferred-leader rebalance (Kafka's auto.leader.rebalance.enable): for each
   * live broker whose share of not-led preferred partitions is above
   * leaderImbalancePerBrokerPercentage, the same fenced election as electPreferred for those
   * of them it can take back. A lost compare leaves the partition for the next check.
   */
  private async rebalanceLeaders(live: ReadonlySet<number>): Promise<void> {
    const partitions: Array<{ topic: string; partition: number; replicas: readonly number[]; leader: number; isr: readonly number[]; reassigning: boolean }> = [];
    for (const [topic, assignment] of this.view.assignments) {
      assignment.replicas.forEach((replicas, partition) => {
        const entry = this.view.partition(topic, partition);
        if (!entry) return;
        partitions.push({ topic, partition, replicas, leader: entry.state.leader, isr: entry.state.isr, reassigning: this.view.reassignments.has(partitionId(topic, partition)) });
      });
    }
    const percentage = this.options.leaderImbalancePerBrokerPercentage ?? DEFAULT_LEADER_IMBALANCE_PER_BROKER_PERCENTAGE;
    const chosen = partitionsToRebalance(partitions, live, percentage);
    if (chosen.length === 0) return;
    await this.writeBatched(this.preferredLeaderWrites(chosen, live, 'cluster: leader imbalance: preferred leader elected'));
  }

  /**
   * The writes that make each partition's first replica its leader (epoch + 1), for those
   * whose first replica is live, in the ISR and not the leader; fenced CAS on the state's
   * modRevision as read.
   */
  private preferredLeaderWrites(partitions: Iterable<{ topic: string; partition: number }>, live: ReadonlySet<number>, message: string): PlannedWrite[] {
    const writes: PlannedWrite[] = [];
    for (const { topic, partition } of partitions) {
      const entry = this.view.partition(topic, partition);
      const preferred = this.view.assignments.get(topic)?.replicas[partition]?.[0];
      if (!entry || preferred === undefined || entry.state.leader === preferred || !entry.state.isr.includes(preferred) || !live.has(preferred)) continue;
      const key = this.layout.partition(topic, partition);
      writes.push({ key, id: partitionId(topic, partition), compare: { key, kind: 'modRevision', modRevision: entry.modRevision }, value: { ...entry.state, leader: preferred, leaderEpoch: entry.state.leaderEpoch + 1, controllerEpoch: this.epoch } });
      this.logger.info(message, { topic, partition, from: entry.state.leader, to: preferred, leaderEpoch: entry.state.leaderEpoch + 1 });
    }
    return writes;
  }

  /** One fenced transaction; a lost compare other than the fence is reported as false. */
  private async commit(compares: readonly Compare[], operations: readonly Operation[]): Promise<boolean> {
    const result = await this.store.transaction([this.fence(), ...compares], operations);
    if (!result.succeeded) await this.checkFence();
    return result.succeeded;
  }

  /** Leaders and replicas per live broker, from the assignments and states in the view. */
  private load(): { leaders: Map<number, number>; replicas: Map<number, number> } {
    const leaders = new Map<number, number>();
    const replicas = new Map<number, number>();
    for (const assignment of this.view.assignments.values()) {
      for (const chosen of assignment.replicas) {
        for (const id of chosen) replicas.set(id, (replicas.get(id) ?? 0) + 1);
      }
    }
    for (const entry of this.view.partitions.values()) {
      if (entry.state.leader !== NO_LEADER) leaders.set(entry.state.leader, (leaders.get(entry.state.leader) ?? 0) + 1);
    }
    return { leaders, replicas };
  }

  private async writeBatched(writes: readonly PlannedWrite[]): Promise<void> {
    for (let start = 0; start < writes.length; start += MAX_TRANSACTION_OPERATIONS) {
      const batch = writes.slice(start, start + MAX_TRANSACTION_OPERATIONS);
      if (await this.write(batch)) continue;
      if (batch.length > 1) {
        for (const write of batch) await this.write([write]);
      }
      await this.checkFence();
    }
  }

  private async write(batch: readonly PlannedWrite[]): Promise<boolean> {
    const operations: Operation[] = batch.map((write) => ({ kind: 'put', key: write.key, value: encodeValue(write.value) }));
    const result = await this.store.transaction([this.fence(), ...batch.map((write) => write.compare)], operations);
    return result.succeeded;
  }

  /** After a lost compare: if the controller key is no longer ours, this controller is done. */
  private async checkFence(): Promise<void> {
    const current = await this.store.get(this.layout.controller);
    if (current === null || current.createRevision !== this.epoch) {
      throw new SpoolError(Errors.STATE_CHANGED, `controller epoch ${this.epoch} replaced by ${current?.createRevision ?? 'none'}`);
    }
  }
}
