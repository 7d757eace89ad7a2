// The fault tests' last step: read every partition of a topic back from its leader (as etcd
// names it) and run the acknowledged-messages checker (ack-checker.ts) over it.

import { checkAcks, readPartition, type AckedMessage, type CheckResult, type ReadMessage } from './ack-checker.js';
import { etcdLocator } from './ack-producer.js';
import { waitFor } from './broker.js';
import type { TestCluster } from './cluster.js';

export async function readTopic(cluster: TestCluster, topic: string, partitions: number): Promise<ReadMessage[]> {
  const locate = etcdLocator(cluster.store, cluster.layout);
  const read: ReadMessage[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const leader = (await waitFor(() => locate(topic, partition), 15_000))!;
    read.push(...(await readPartition(leader.port, topic, partition)));
  }
  return read;
}

export async function checkTopic(cluster: TestCluster, topic: string, partitions: number, acked: readonly AckedMessage[]): Promise<CheckResult> {
  return checkAcks(acked, await readTopic(cluster, topic, partitions));
}
