// The cluster module's public surface (README.md beside this file).

export { ClusterNode, DEFAULT_LEASE_TTL_MS, type ClusterNodeOptions, type CreateTopicRequest } from './cluster-node.js';
export { ClusterView, type LiveBroker, type CurrentController, type PartitionEntry, type ViewChange } from './cluster-view.js';
export { EtcdStore } from './etcd-store.js';
export { ProducerIdBlocks, DEFAULT_PRODUCER_ID_BLOCK_SIZE, type ProducerIdBlockOptions } from './producer-id-blocks.js';
export { parseClusterUrl, DEFAULT_CLUSTER_ROOT, type ClusterAddress } from './etcd-url.js';
export { KeyLayout } from './layout.js';
export type { ClusterLogger } from './logger.js';
export type { ReplicaState, PartitionRole, RoleChange, AlterIsrResult, ReplicaAddress } from './replica-roles.js';
export type { ClusterStore, KeyValue, Compare, Operation } from './store.js';
export { StaticReplicaState } from './static-replica-state.js';
export { summarizeCluster, type ClusterSummary } from './summary.js';
export { NO_LEADER, type BrokerRegistration, type PartitionState, type TopicAssignment, type TopicSpec } from './values.js';

import { ClusterView } from './cluster-view.js';
import { EtcdStore } from './etcd-store.js';
import { parseClusterUrl } from './etcd-url.js';
import { KeyLayout } from './layout.js';
import { silentClusterLogger } from './logger.js';
import { summarizeCluster, type ClusterSummary } from './summary.js';

/** One read of the cluster state straight from etcd (no lease, no registration): for the CLI. */
export async function readClusterSummary(url: string): Promise<ClusterSummary> {
  const address = parseClusterUrl(url);
  const store = new EtcdStore({ endpoints: address.endpoints });
  const view = new ClusterView(store, new KeyLayout(address.root), silentClusterLogger);
  try {
    await view.start();
    return summarizeCluster(view);
  } finally {
    await view.close();
    store.close();
  }
}
export { ClusterAdminSession, DEFAULT_ADMIN_WAIT_MS, type PlannedReassignment } from './admin.js';
