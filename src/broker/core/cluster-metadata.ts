// What Metadata answers say about the cluster, protocol-neutral: every live broker with its
// native and Kafka addresses, the controller, and per partition its leader, leader epoch,
// replicas and in-sync replicas. Both fronts read it through ctx.clusterMetadata, so the
// native SDK and Kafka clients (kcat, kafkajs, kafka-python) see the same cluster and follow
// the same leaders.
//
// A single node fills it with itself (singleNodeMetadata: node 0, leader of every
// partition, the only replica). A cluster member fills it from the cluster state in etcd
// (broker/view-metadata.ts over src/cluster's ClusterView); a test supplies its own.

import type { BrokerContext } from '../context.js';

/** No leader (Kafka's -1): every in-sync replica is gone, or the partition is not placed yet. */
export const NO_LEADER_ID = -1;

export interface ClusterBroker {
  readonly nodeId: number;
  /** Native protocol address (`--advertise`). */
  readonly host: string;
  readonly port: number;
  /** Kafka listener's advertised address; absent when the broker has no Kafka listener. */
  readonly kafkaHost?: string;
  readonly kafkaPort?: number;
}

export interface PartitionLeadership {
  /** Node id of the leader, or NO_LEADER_ID. */
  readonly leader: number;
  readonly leaderEpoch: number;
  /** replicas[0] is the preferred leader. */
  readonly replicas: readonly number[];
  /** In-sync replicas, the leader included. */
  readonly isr: readonly number[];
}

export interface ClusterMetadataSource {
  /** This broker's node id (its own entry is given the address a client reached it on, see the fronts). */
  readonly nodeId: number;
  /**
   * True for the single-node source: the native Metadata answer then leaves out the
   * per-partition leaders (every partition is led by the one broker), as before clusters,
   * so a topic of 100,000 partitions does not cost a 4 MB answer for nothing.
   */
  readonly singleNode?: boolean;
  /** Every live broker, this one included. */
  brokers(): readonly ClusterBroker[];
  /** The controller's node id, or NO_LEADER_ID while there is none. */
  controllerId(): number;
  /**
   * Who leads a partition of a topic this broker knows; undefined when the cluster state
   * does not have the partition (yet): the fronts then answer "no leader".
   */
  partition(topic: string, partition: number): PartitionLeadership | undefined;
  /**
   * A cluster: the topics in the cluster state with their partition counts (a broker holding
   * no replica of a topic still names it and its leaders). Absent: the broker's own logs are
   * the topics (a single node).
   */
  topics?(): ReadonlyMap<string, number>;
}

/** The node id of a single broker (Kafka's KRaft default for one node is 1; spool has always said 0). */
export const SINGLE_NODE_ID = 0;

const SINGLE_NODE_PARTITION: PartitionLeadership = Object.freeze({ leader: SINGLE_NODE_ID, leaderEpoch: 0, replicas: Object.freeze([SINGLE_NODE_ID]), isr: Object.freeze([SINGLE_NODE_ID]) });

/** One broker, the whole cluster: its addresses are read from ctx when asked (port 0 is resolved at listen). */
export function singleNodeMetadata(context: () => BrokerContext): ClusterMetadataSource {
  return {
    nodeId: SINGLE_NODE_ID,
    singleNode: true,
    brokers: () => {
      const ctx = context();
      const kafka = ctx.kafkaAdvertised;
      return [{ nodeId: SINGLE_NODE_ID, host: ctx.advertised.host, port: ctx.advertised.port, ...(kafka ? { kafkaHost: kafka.host, kafkaPort: kafka.port } : {}) }];
    },
    controllerId: () => SINGLE_NODE_ID,
    partition: () => SINGLE_NODE_PARTITION,
  };
}
