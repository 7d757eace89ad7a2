// The cluster as `spool cluster describe` shows it: brokers, controller, and per partition its
// replicas, leader and ISR, with the counts an operator looks at first: under-replicated
// (ISR smaller than the replicas) and offline (no leader, or a leader that is not registered).

import type { ClusterView } from './cluster-view.js';
import { NO_LEADER } from './values.js';

export interface ClusterSummary {
  readonly brokers: readonly { nodeId: number; host: string; port: number; kafkaHost?: string; kafkaPort?: number }[];
  readonly controller: { nodeId: number; epoch: number } | null;
  readonly topics: number;
  readonly partitions: readonly { topic: string; partition: number; replicas: readonly number[]; leader: number; leaderEpoch: number; isr: readonly number[] }[];
  readonly underReplicated: number;
  readonly offline: number;
  /** Partitions with a reassignment the controller has not finished. */
  readonly reassigning: number;
  /** Topics with a spec the controller has not placed yet. */
  readonly pendingTopics: readonly string[];
}

export function summarizeCluster(view: ClusterView): ClusterSummary {
  const partitions = [];
  let underReplicated = 0;
  let offline = 0;
  for (const [topic, assignment] of [...view.assignments].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (let partition = 0; partition < assignment.replicas.length; partition++) {
      const replicas = assignment.replicas[partition]!;
      const state = view.partition(topic, partition)?.state;
      const leader = state?.leader ?? NO_LEADER;
      const isr = state?.isr ?? [];
      if (leader === NO_LEADER || !view.brokers.has(leader)) offline++;
      else if (isr.length < replicas.length) underReplicated++;
      partitions.push({ topic, partition, replicas, leader, leaderEpoch: state?.leaderEpoch ?? 0, isr });
    }
  }
  return {
    brokers: [...view.brokers.values()]
      .map((broker) => ({ ...broker.registration }))
      .map(({ incarnation: _incarnation, ...rest }) => rest)
      .sort((a, b) => a.nodeId - b.nodeId),
    controller: view.controller ? { nodeId: view.controller.record.nodeId, epoch: view.controller.epoch } : null,
    topics: view.topics.size,
    partitions,
    underReplicated,
    offline,
    reassigning: view.reassignments.size,
    pendingTopics: [...view.topics.keys()].filter((topic) => !view.assignments.has(topic)).sort(),
  };
}
