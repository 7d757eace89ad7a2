// A cluster member's Metadata source: the cluster state every broker mirrors from etcd
// (src/cluster's ClusterView): live brokers with the addresses they registered, the
// controller, each partition's {leader, leaderEpoch, isr} and its assigned replicas. Read on
// every Metadata request (no copy to keep current): a watch delivery changes the view, the
// next answer shows it.

import type { ClusterView } from '../cluster/cluster-view.js';
import { NO_LEADER_ID, type ClusterBroker, type ClusterMetadataSource, type PartitionLeadership } from './core/cluster-metadata.js';

/** The part of ClusterView read here (a test may hand in a plain object of this shape). */
export type MetadataView = Pick<ClusterView, 'brokers' | 'controller' | 'assignments' | 'partition'>;

export function viewMetadataSource(view: MetadataView, nodeId: number): ClusterMetadataSource {
  return {
    nodeId,
    brokers: () => {
      const brokers: ClusterBroker[] = [];
      for (const { registration } of view.brokers.values()) {
        const { nodeId: id, host, port, kafkaHost, kafkaPort } = registration;
        brokers.push(kafkaHost !== undefined && kafkaPort !== undefined ? { nodeId: id, host, port, kafkaHost, kafkaPort } : { nodeId: id, host, port });
      }
      return brokers.sort((a, b) => a.nodeId - b.nodeId);
    },
    controllerId: () => view.controller?.record.nodeId ?? NO_LEADER_ID,
    partition: (topic, partition): PartitionLeadership | undefined => {
      const entry = view.partition(topic, partition);
      if (entry === undefined) return undefined;
      const replicas = view.assignments.get(topic)?.replicas[partition] ?? entry.state.isr;
      return { leader: entry.state.leader, leaderEpoch: entry.state.leaderEpoch, replicas, isr: entry.state.isr };
    },
    // A topic is complete once the controller wrote its assignment (after its partition states).
    topics: () => {
      const topics = new Map<string, number>();
      for (const [name, assignment] of view.assignments) topics.set(name, assignment.replicas.length);
      return topics;
    },
  };
}
