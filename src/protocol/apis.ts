// API keys and the versions this broker speaks. Codes are `as const` objects, not enums.

export const ApiKey = {
  ApiVersions: 0,
  Metadata: 1,
  CreateTopics: 2,
  DeleteTopics: 3,
  DescribeTopics: 4,
  Produce: 5,
  Fetch: 6,
  ListOffsets: 7,
  ConsumerGroupHeartbeat: 8,
  OffsetCommit: 9,
  OffsetFetch: 10,
  ListGroups: 11,
  DescribeGroups: 12,
  DeleteGroups: 13,
  ResetOffsets: 14,
  AlterConfigs: 15,
  CreatePartitions: 16,
  DeleteRecords: 17,
  DescribeCluster: 18,
  // Share groups (per-record acknowledgement), kept well apart from other additions.
  ShareFetch: 40,
  ShareAcknowledge: 41,
  DescribeShareGroups: 42,
  // Kafka's number is 22; 43 keeps clear of the admin (15-18) and share-group (40-42) APIs.
  InitProducerId: 43,
  // ACLs and client quotas (src/security/README.md), Kafka's 29-31 and 48-49 by another number.
  DescribeAcls: 48,
  CreateAcls: 49,
  DeleteAcls: 50,
  DescribeClientQuotas: 51,
  AlterClientQuotas: 52,
  // Authentication (SASL; Kafka's 17, 36, 50, 51): see src/security/README.md "SASL".
  SaslHandshake: 44,
  SaslAuthenticate: 45,
  DescribeUserScramCredentials: 46,
  AlterUserScramCredentials: 47,
  // Replication between brokers (a cluster; reserved 60-69): a follower's fetch, and where an epoch ends.
  ReplicaFetch: 60,
  OffsetForLeaderEpoch: 61,
  // Share-group state between brokers: a share-partition leader and the group's share coordinator (KIP-932's persister RPCs).
  ReadShareGroupState: 62,
  WriteShareGroupState: 63,
  ConfigureShareGroup: 64,
  ResetShareGroupState: 65,
  AppendDeadLetters: 66,
  // Clients: which broker coordinates a group (the leader of its internal-topic partition). Top of the cluster range.
  FindCoordinator: 69,
} as const;

export type ApiKey = (typeof ApiKey)[keyof typeof ApiKey];

/** Versions supported by this build, per api key: [min, max]. */
export const SupportedVersions: Readonly<Record<ApiKey, readonly [number, number]>> = {
  [ApiKey.ApiVersions]: [0, 0],
  [ApiKey.Metadata]: [0, 0],
  [ApiKey.CreateTopics]: [0, 0],
  [ApiKey.DeleteTopics]: [0, 0],
  [ApiKey.DescribeTopics]: [0, 0],
  [ApiKey.Produce]: [0, 0],
  [ApiKey.Fetch]: [0, 0],
  [ApiKey.ListOffsets]: [0, 0],
  [ApiKey.ConsumerGroupHeartbeat]: [0, 0],
  [ApiKey.OffsetCommit]: [0, 0],
  [ApiKey.OffsetFetch]: [0, 0],
  [ApiKey.ListGroups]: [0, 0],
  [ApiKey.DescribeGroups]: [0, 0],
  [ApiKey.DeleteGroups]: [0, 0],
  [ApiKey.ResetOffsets]: [0, 0],
  [ApiKey.AlterConfigs]: [0, 0],
  [ApiKey.CreatePartitions]: [0, 0],
  [ApiKey.DeleteRecords]: [0, 0],
  [ApiKey.DescribeCluster]: [0, 0],
  [ApiKey.ShareFetch]: [0, 0],
  [ApiKey.ShareAcknowledge]: [0, 0],
  [ApiKey.DescribeShareGroups]: [0, 0],
  [ApiKey.InitProducerId]: [0, 0],
  [ApiKey.DescribeAcls]: [0, 0],
  [ApiKey.CreateAcls]: [0, 0],
  [ApiKey.DeleteAcls]: [0, 0],
  [ApiKey.DescribeClientQuotas]: [0, 0],
  [ApiKey.AlterClientQuotas]: [0, 0],
  [ApiKey.SaslHandshake]: [0, 0],
  [ApiKey.SaslAuthenticate]: [0, 0],
  [ApiKey.DescribeUserScramCredentials]: [0, 0],
  [ApiKey.AlterUserScramCredentials]: [0, 0],
  [ApiKey.ReplicaFetch]: [0, 0],
  [ApiKey.OffsetForLeaderEpoch]: [0, 0],
  [ApiKey.ReadShareGroupState]: [0, 0],
  [ApiKey.WriteShareGroupState]: [0, 0],
  [ApiKey.ConfigureShareGroup]: [0, 0],
  [ApiKey.ResetShareGroupState]: [0, 0],
  [ApiKey.AppendDeadLetters]: [0, 0],
  [ApiKey.FindCoordinator]: [0, 0],
};

const API_NAMES = new Map<number, string>();
for (const [name, key] of Object.entries(ApiKey)) if (!API_NAMES.has(key)) API_NAMES.set(key, name);

/** Called per request (the request metrics' label): a lookup, not a walk over every api. */
export function apiName(apiKey: number): string {
  return API_NAMES.get(apiKey) ?? `Unknown(${apiKey})`;
}

/** Special timestamps of ListOffsets, as in Kafka. */
export const OffsetSpec = {
  Latest: -1,
  Earliest: -2,
} as const;
