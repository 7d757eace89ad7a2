// The native front's authorisation step for the group, share-group and security APIs: run
// by dispatch.ts after the shape check and before the handler, it throws the named
// *_AUTHORIZATION_FAILED error for the whole request (nothing of it runs). The topic
// admin, Produce, Fetch and ListOffsets are checked per item in the core instead
// (core/admin.ts, core/produce.ts, core/fetch.ts), as are listings (filtered). The
// operations per API follow Kafka's KafkaApis: see src/security/README.md "ACLs".

import { ApiKey } from '../../protocol/apis.js';
import type { RequestTypes } from '../../protocol/validate.js';
import type { Principal } from '../../security/authorizer.js';
import type { BrokerContext } from '../context.js';
import { authorizationOn, claimMember, Operation, requireCluster, requireGroup, requireTopic } from '../core/authorize.js';

export function authorizeNative<K extends ApiKey>(ctx: BrokerContext, apiKey: K, request: RequestTypes[K], who: Principal): void {
  if (!authorizationOn(ctx)) return;
  const r = request as RequestTypes[ApiKey];
  switch (apiKey) {
    case ApiKey.ConsumerGroupHeartbeat: {
      const heartbeat = r as RequestTypes[typeof ApiKey.ConsumerGroupHeartbeat];
      requireGroup(ctx, who, Operation.Read, heartbeat.groupId);
      claimMember(ctx, who, heartbeat.groupId, heartbeat.memberId);
      for (const topic of heartbeat.topics ?? []) requireTopic(ctx, who, Operation.Describe, topic);
      return;
    }
    case ApiKey.OffsetCommit: {
      const commit = r as RequestTypes[typeof ApiKey.OffsetCommit];
      requireGroup(ctx, who, Operation.Read, commit.groupId);
      for (const entry of commit.offsets) requireTopic(ctx, who, Operation.Read, entry.topic);
      claimMember(ctx, who, commit.groupId, commit.memberId);
      return;
    }
    case ApiKey.OffsetFetch: {
      const fetch = r as RequestTypes[typeof ApiKey.OffsetFetch];
      requireGroup(ctx, who, Operation.Describe, fetch.groupId);
      for (const entry of fetch.partitions ?? []) requireTopic(ctx, who, Operation.Describe, entry.topic);
      return;
    }
    case ApiKey.ResetOffsets: {
      // Moving a group's offsets is a commit (Kafka's AlterConsumerGroupOffsets): Read on both.
      const reset = r as RequestTypes[typeof ApiKey.ResetOffsets];
      requireGroup(ctx, who, Operation.Read, reset.groupId);
      requireTopic(ctx, who, Operation.Read, reset.topic);
      return;
    }
    case ApiKey.DescribeGroups:
    case ApiKey.DescribeShareGroups:
      for (const groupId of (r as { groupIds: string[] }).groupIds) requireGroup(ctx, who, Operation.Describe, groupId);
      return;
    case ApiKey.FindCoordinator:
      // Finding a group's coordinator needs Describe on the group (Kafka).
      requireGroup(ctx, who, Operation.Describe, (r as RequestTypes[typeof ApiKey.FindCoordinator]).groupId);
      return;
    case ApiKey.DeleteGroups:
      for (const groupId of (r as { groupIds: string[] }).groupIds) requireGroup(ctx, who, Operation.Delete, groupId);
      return;
    case ApiKey.AlterConfigs:
      for (const group of (r as RequestTypes[typeof ApiKey.AlterConfigs]).groups ?? []) requireGroup(ctx, who, Operation.AlterConfigs, group.name);
      return;
    case ApiKey.ShareFetch:
    case ApiKey.ShareAcknowledge: {
      const share = r as { groupId: string; memberId: string; partitions: Array<{ topic: string }> };
      requireGroup(ctx, who, Operation.Read, share.groupId);
      for (const entry of share.partitions) requireTopic(ctx, who, Operation.Read, entry.topic);
      // Last: a request refused above binds nothing.
      claimMember(ctx, who, share.groupId, share.memberId);
      return;
    }
    default:
      if (CLUSTER_OPERATIONS.has(apiKey)) requireCluster(ctx, who, CLUSTER_OPERATIONS.get(apiKey)!);
  }
}

/** The security admin APIs: the cluster operation each needs (Kafka's). */
const CLUSTER_OPERATIONS: ReadonlyMap<number, Operation> = new Map<number, Operation>([
  [ApiKey.DescribeAcls, Operation.Describe],
  [ApiKey.CreateAcls, Operation.Alter],
  [ApiKey.DeleteAcls, Operation.Alter],
  [ApiKey.DescribeClientQuotas, Operation.DescribeConfigs],
  [ApiKey.AlterClientQuotas, Operation.AlterConfigs],
  // SCRAM credentials (sasl): Kafka's Describe / Alter on the cluster.
  [ApiKey.DescribeUserScramCredentials, Operation.Describe],
  [ApiKey.AlterUserScramCredentials, Operation.Alter],
  // Replication between brokers reads every partition past the ACLs: Kafka asks ClusterAction
  // on the cluster; spool has no such operation yet, so Alter on the cluster (brokers are super users).
  [ApiKey.ReplicaFetch, Operation.Alter],
  [ApiKey.OffsetForLeaderEpoch, Operation.Alter],
  // Share-group state between brokers writes any group's state: brokers only, as replication.
  [ApiKey.ReadShareGroupState, Operation.Alter],
  [ApiKey.WriteShareGroupState, Operation.Alter],
  [ApiKey.ConfigureShareGroup, Operation.Alter],
  [ApiKey.ResetShareGroupState, Operation.Alter],
  [ApiKey.AppendDeadLetters, Operation.Alter],
]);
