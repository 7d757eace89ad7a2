// One example request and response of every API, the source of the golden frames in
// test/fixtures/protocol/frames.json and of the hex examples in src/protocol/README.md.
// Payload bytes are opaque to the protocol; the produce/fetch examples carry a short
// stand-in byte string where real record batches would go.

import { ApiKey } from '../../src/protocol/apis.js';

export interface FrameExample {
  name: string;
  kind: 'request' | 'response';
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  header: Record<string, unknown>;
  payloadHex: string;
}

const BATCH_STANDIN = 'deadbeefcafe';

function pair(
  api: keyof typeof ApiKey,
  correlationId: number,
  request: Record<string, unknown>,
  response: Record<string, unknown>,
  requestPayloadHex = '',
  responsePayloadHex = '',
): FrameExample[] {
  const apiKey = ApiKey[api];
  return [
    { name: `${api} request`, kind: 'request', correlationId, apiKey, apiVersion: 0, header: request, payloadHex: requestPayloadHex },
    { name: `${api} response`, kind: 'response', correlationId, apiKey, apiVersion: 0, header: response, payloadHex: responsePayloadHex },
  ];
}

export const examples: FrameExample[] = [
  ...pair('ApiVersions', 1, { clientSoftwareName: 'spool' }, {
    errorCode: 0,
    apis: [{ apiKey: 0, minVersion: 0, maxVersion: 0 }],
    brokerVersion: '0.1.0',
  }),
  ...pair('Metadata', 2, { topics: ['orders'] }, {
    errorCode: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9400 }],
    topics: [{ errorCode: 0, name: 'orders', partitions: 3, internal: false }],
  }),
  ...pair('CreateTopics', 3, { topics: [{ name: 'orders', partitions: 3, config: { 'retention.ms': 60000 } }] }, {
    errorCode: 0,
    topics: [{ name: 'orders', errorCode: 0 }],
  }),
  ...pair('DeleteTopics', 4, { names: ['orders'] }, { errorCode: 0, topics: [{ name: 'orders', errorCode: 4, errorMessage: 'the topic does not exist' }] }),
  ...pair('DescribeTopics', 5, { names: ['orders'] }, {
    errorCode: 0,
    topics: [{
      errorCode: 0,
      name: 'orders',
      config: { 'cleanup.policy': 'delete' },
      partitions: [{ partition: 0, logStartOffset: 0, logEndOffset: 42, sizeBytes: 4096, segments: 1 }],
    }],
  }),
  ...pair('Produce', 6, { acks: -1, timeoutMs: 30000, partitions: [{ topic: 'orders', partition: 0, size: 6 }] }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0, baseOffset: 42, logStartOffset: 0 }],
  }, BATCH_STANDIN),
  ...pair('Fetch', 7, {
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52428800,
    partitions: [{ topic: 'orders', partition: 0, offset: 42, maxBytes: 1048576 }],
  }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0, highWatermark: 43, logStartOffset: 0, size: 6 }],
  }, '', BATCH_STANDIN),
  ...pair('ListOffsets', 8, { partitions: [{ topic: 'orders', partition: 0, timestamp: -2 }] }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0, offset: 0, timestamp: -1 }],
  }),
  ...pair('ConsumerGroupHeartbeat', 9, { groupId: 'kitchen', memberId: '', memberEpoch: 0, topics: ['orders'] }, {
    errorCode: 0,
    memberId: 'm-1',
    memberEpoch: 1,
    heartbeatIntervalMs: 3000,
    assignment: [{ topic: 'orders', partitions: [0, 1, 2] }],
  }),
  ...pair('OffsetCommit', 10, { groupId: 'kitchen', memberId: 'm-1', memberEpoch: 1, offsets: [{ topic: 'orders', partition: 0, offset: 43 }] }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0 }],
  }),
  ...pair('OffsetFetch', 11, { groupId: 'kitchen' }, {
    errorCode: 0,
    offsets: [{ errorCode: 0, topic: 'orders', partition: 0, offset: 43, metadata: '' }],
  }),
  ...pair('ListGroups', 12, {}, { errorCode: 0, groups: [{ groupId: 'kitchen', state: 'stable', members: 1 }] }),
  ...pair('DescribeGroups', 13, { groupIds: ['kitchen'] }, {
    errorCode: 0,
    groups: [{
      errorCode: 0,
      groupId: 'kitchen',
      state: 'stable',
      groupEpoch: 1,
      assignor: 'uniform',
      members: [{ memberId: 'm-1', clientId: 'c', memberEpoch: 1, subscription: ['orders'], assignment: [{ topic: 'orders', partitions: [0] }] }],
      offsets: [{ topic: 'orders', partition: 0, committed: 43, logEndOffset: 43, lag: 0, memberId: 'm-1' }],
    }],
  }),
  ...pair('DeleteGroups', 14, { groupIds: ['kitchen'] }, {
    errorCode: 0,
    groups: [{ groupId: 'kitchen', errorCode: 35, errorMessage: 'the group still has active members' }],
  }),
  ...pair('ResetOffsets', 15, { groupId: 'kitchen', topic: 'orders', to: { kind: 'earliest' } }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0, offset: 0 }],
  }),
  ...pair('InitProducerId', 40, {}, { errorCode: 0, producerId: 7, producerEpoch: 0 }),
  // A whole-request failure: the broker's answer to an unknown api key.
  {
    name: 'error response (UNSUPPORTED_VERSION)',
    kind: 'response',
    correlationId: 16,
    apiKey: 99,
    apiVersion: 0,
    header: { errorCode: 13, errorMessage: 'api key 99 is not supported' },
    payloadHex: '',
  },
  ...pair('AlterConfigs', 17, { topics: [{ name: 'orders', config: { 'retention.ms': 3600000 } }] }, {
    errorCode: 0,
    topics: [{ name: 'orders', errorCode: 0 }],
  }),
  ...pair('CreatePartitions', 18, { topics: [{ name: 'orders', count: 6 }] }, {
    errorCode: 0,
    topics: [{ name: 'orders', errorCode: 0 }],
  }),
  ...pair('DeleteRecords', 19, { partitions: [{ topic: 'orders', partition: 0, offset: 1000 }] }, {
    errorCode: 0,
    partitions: [{ errorCode: 0, topic: 'orders', partition: 0, lowWatermark: 1000 }],
  }),
  ...pair('DescribeCluster', 20, {}, {
    errorCode: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9400 }],
    brokerVersion: '0.1.0',
    topics: 1,
    partitions: 3,
    groups: 0,
  }),
  ...pair(
    'ShareFetch',
    21,
    { groupId: 'cooks', memberId: 'm1', maxWaitMs: 500, maxRecords: 10, maxBytes: 1048576, partitions: [{ topic: 'orders', partition: 0 }] },
    { errorCode: 0, partitions: [{ errorCode: 0, topic: 'orders', partition: 0, size: 6, acquired: [{ firstOffset: 0, lastOffset: 2, deliveryCount: 1 }] }] },
    '',
    BATCH_STANDIN,
  ),
  ...pair(
    'ShareAcknowledge',
    22,
    {
      groupId: 'cooks',
      memberId: 'm1',
      partitions: [{ topic: 'orders', partition: 0, ranges: [{ firstOffset: 0, lastOffset: 1, type: 1 }, { firstOffset: 2, lastOffset: 2, type: 2, error: 'oven cold' }] }],
    },
    { errorCode: 0, partitions: [{ errorCode: 0, topic: 'orders', partition: 0 }] },
  ),
  ...pair('DescribeShareGroups', 23, { groupIds: ['cooks'] }, {
    errorCode: 0,
    groups: [
      {
        errorCode: 0,
        groupId: 'cooks',
        members: ['m1'],
        deadLetterTopic: 'cooks.dlq',
        deadLetters: 0,
        partitions: [{ topic: 'orders', partition: 0, startOffset: 3, inFlight: 0, acquired: 0, deliveryCounts: [] }],
      },
    ],
  }),
  // Authentication (44-47): SCRAM's client-first and server-first messages as bytes (msgpack bin).
  ...pair('SaslHandshake', 24, { mechanism: 'SCRAM-SHA-256' }, { errorCode: 0, mechanisms: ['SCRAM-SHA-256', 'SCRAM-SHA-512'] }),
  ...pair(
    'SaslAuthenticate',
    25,
    { authBytes: Buffer.from('n,,n=alice,r=rOprNGfwEbeRWgbNEkqO') },
    { errorCode: 0, authBytes: Buffer.from('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096') },
  ),
  ...pair('DescribeUserScramCredentials', 26, { users: ['alice'] }, {
    errorCode: 0,
    users: [{ user: 'alice', errorCode: 0, credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }] }],
  }),
  ...pair(
    'AlterUserScramCredentials',
    27,
    { deletions: [{ user: 'bob', mechanism: 'SCRAM-SHA-512' }], upsertions: [{ user: 'alice', mechanism: 'SCRAM-SHA-256', iterations: 4096, salt: Buffer.from('5b22', 'hex'), saltedPassword: Buffer.alloc(32, 7) }] },
    { errorCode: 0, results: [{ user: 'bob', mechanism: 'SCRAM-SHA-512', errorCode: 0 }, { user: 'alice', mechanism: 'SCRAM-SHA-256', errorCode: 0 }] },
  ),  // ACLs and client quotas (48-52), src/security/README.md.
  ...pair('DescribeAcls', 28, { filter: { principal: 'User:alice', host: null, resourceType: 'Topic', resourceName: null, patternType: null, operation: null, permission: null } }, { errorCode: 0, acls: [{ principal: 'User:alice', host: '*', resourceType: 'Topic', resourceName: 'orders', patternType: 'literal', operation: 'Write', permission: 'allow' }] }),
  ...pair('CreateAcls', 29, { acls: [{ principal: 'User:alice', host: '*', resourceType: 'Topic', resourceName: 'orders', patternType: 'literal', operation: 'Write', permission: 'allow' }] }, { errorCode: 0, results: [{ errorCode: 0 }] }),
  ...pair('DeleteAcls', 30, { filters: [{ principal: 'User:alice', host: null, resourceType: 'Topic', resourceName: null, patternType: null, operation: null, permission: null }] }, { errorCode: 0, results: [{ errorCode: 0, deleted: [{ principal: 'User:alice', host: '*', resourceType: 'Topic', resourceName: 'orders', patternType: 'literal', operation: 'Write', permission: 'allow' }] }] }),
  ...pair('DescribeClientQuotas', 31, {}, { errorCode: 0, quotas: [{ user: 'alice', clientId: null, rates: { producer_byte_rate: 1048576 } }] }),
  ...pair(
    'AlterClientQuotas',
    32,
    { entries: [{ user: 'alice', clientId: null, rates: { producer_byte_rate: 1048576, consumer_byte_rate: null } }] },
    { errorCode: 0, results: [{ errorCode: 0 }] },
  ),
  // A follower's fetcher lists every partition it follows from this leader; each answers on its own.
  ...pair(
    'ReplicaFetch',
    60,
    {
      replicaId: 2,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 10485760,
      partitions: [
        { topic: 'orders', partition: 0, leaderEpoch: 3, fetchOffset: 42, maxBytes: 1048576 },
        { topic: 'orders', partition: 1, leaderEpoch: 2, fetchOffset: 7, maxBytes: 1048576 },
        { topic: 'pay', partition: 4, leaderEpoch: 5, fetchOffset: 0, maxBytes: 1048576 },
      ],
    },
    {
      errorCode: 0,
      partitions: [
        { errorCode: 0, topic: 'orders', partition: 0, highWatermark: 42, logStartOffset: 0, logEndOffset: 45, size: 6 },
        { errorCode: 82, errorMessage: 'fenced', topic: 'orders', partition: 1, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, size: 0 },
        { errorCode: 0, topic: 'pay', partition: 4, highWatermark: 0, logStartOffset: 0, logEndOffset: 3, size: 4 },
      ],
    },
    '',
    BATCH_STANDIN + '0badf00d',
  ),
  ...pair(
    'OffsetForLeaderEpoch',
    61,
    { replicaId: 2, partitions: [{ topic: 'orders', partition: 0, currentLeaderEpoch: 3, leaderEpoch: 2 }, { topic: 'pay', partition: 4, currentLeaderEpoch: 5, leaderEpoch: 5 }] },
    { errorCode: 0, partitions: [{ errorCode: 0, topic: 'orders', partition: 0, leaderEpoch: 2, endOffset: 40 }, { errorCode: 80, errorMessage: 'not leader', topic: 'pay', partition: 4, leaderEpoch: -1, endOffset: -1 }] },
  ),
  ...pair(
    'ReadShareGroupState',
    62,
    { groupId: 'cooks', topic: 'orders', partition: 0, leaderEpoch: 3 },
    { errorCode: 0, stateEpoch: 0, startOffset: 5, runs: [[2, 0, 1], [1, 2, 3]], config: { lockDurationMs: 15000 } },
  ),
  ...pair(
    'WriteShareGroupState',
    63,
    { groupId: 'cooks', partitions: [{ topic: 'orders', partition: 0, leaderEpoch: 3, stateEpoch: 0, startOffset: 5, runs: [[2, 0, 1]] }] },
    { errorCode: 0, partitions: [{ topic: 'orders', partition: 0, errorCode: 0 }], config: {} },
  ),
  ...pair('ConfigureShareGroup', 64, { groupId: 'cooks', onlyIfUnset: true, deliveryLimit: 3 }, { errorCode: 0, config: { deliveryLimit: 3 } }),
  ...pair('ResetShareGroupState', 65, { groupId: 'cooks', topic: 'orders', partitions: [{ partition: 0, offset: 10 }] }, { errorCode: 0 }),
  ...pair('AppendDeadLetters', 66, { groupId: 'cooks', size: 4 }, { errorCode: 0, baseOffset: 12 }, 'deadbeef'),
  ...pair('FindCoordinator', 69, { groupId: 'kitchen' }, { errorCode: 0, nodeId: 2, host: '127.0.0.1', port: 9093 }),
];
