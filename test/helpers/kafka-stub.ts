// A stand-in Kafka broker built only on the codec (src/kafka), for codec tests against real
// clients and for scripts/capture-kafka-requests.ts. It listens on 127.0.0.1 (port 0) and
// answers just enough for kcat and kafka-python to go on: ApiVersions, Metadata (one topic,
// one partition, this node as leader and coordinator), Produce (kept), ListOffsets, Fetch (the
// configured records, then empty), FindCoordinator, the classic group APIs (one member,
// assigned partition 0) and the admin APIs (everything succeeds; one group "grp").

import { createServer, type Server, type Socket } from 'node:net';
import { ApiKeys, apiVersionsResponse, decodeRequest, type EncodedFrame, encodeResponse, KafkaErrors, type KafkaRequest } from '../../src/kafka/index.js';

export interface KafkaStubOptions {
  topic: string;
  /** Record batches served by Fetch from offset 0; the high watermark is `highWatermark`. */
  records?: Buffer;
  highWatermark?: number;
  /** Called with each request frame (after the size) before it is answered. */
  onRequest?: (frame: Buffer, request: KafkaRequest) => void;
}

export interface KafkaStub {
  readonly port: number;
  /** The records field of every Produce partition received. */
  readonly produced: Buffer[];
  close(): Promise<void>;
}

export async function startKafkaStub(options: KafkaStubOptions): Promise<KafkaStub> {
  const produced: Buffer[] = [];
  let port = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (data: Buffer) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        // Copy: the frame outlives `pending` (records of Produce are slices of it).
        const frame = Buffer.from(pending.subarray(4, 4 + pending.readInt32BE(0)));
        pending = pending.subarray(4 + frame.length);
        const request = decodeRequest(frame);
        options.onRequest?.(frame, request);
        const answer = respond(request, port, options, produced);
        if (answer) {
          socket.cork();
          for (const chunk of answer.chunks) socket.write(chunk);
          socket.uncork();
        }
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
  return {
    port,
    produced,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}

function respond(request: KafkaRequest, port: number, options: KafkaStubOptions, produced: Buffer[]): EncodedFrame | null {
  const { correlationId, apiVersion } = request;
  const node = { nodeId: 1, host: '127.0.0.1', port };
  switch (request.apiKey) {
    case ApiKeys.ApiVersions:
      return encodeResponse(ApiKeys.ApiVersions, apiVersion, correlationId, apiVersionsResponse());
    case ApiKeys.Metadata:
      return encodeResponse(ApiKeys.Metadata, apiVersion, correlationId, {
        brokers: [{ ...node, rack: null }],
        clusterId: 'spool',
        controllerId: 1,
        topics: [{ errorCode: 0, name: options.topic, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
      });
    case ApiKeys.Produce:
      for (const topic of request.body.topicData) for (const partition of topic.partitionData) if (partition.records) produced.push(partition.records);
      if (request.body.acks === 0) return null; // acks=0: Kafka sends no response at all
      return encodeResponse(ApiKeys.Produce, apiVersion, correlationId, {
        responses: request.body.topicData.map((topic) => ({
          name: topic.name,
          partitionResponses: topic.partitionData.map((partition) => ({ index: partition.index, errorCode: 0, baseOffset: 0 })),
        })),
      });
    case ApiKeys.ListOffsets:
      return encodeResponse(ApiKeys.ListOffsets, apiVersion, correlationId, {
        topics: request.body.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({
            partitionIndex: partition.partitionIndex,
            errorCode: 0,
            timestamp: -1,
            offset: partition.timestamp === -1 ? (options.highWatermark ?? 0) : 0, // -1 latest, -2 earliest
            oldStyleOffsets: [0],
          })),
        })),
      });
    case ApiKeys.Fetch:
      return encodeResponse(ApiKeys.Fetch, apiVersion, correlationId, {
        throttleTimeMs: 0,
        responses: request.body.topics.map((topic) => ({
          topic: topic.topic,
          partitions: topic.partitions.map((partition) => ({
            partitionIndex: partition.partition,
            errorCode: KafkaErrors.NONE,
            highWatermark: options.highWatermark ?? 0,
            lastStableOffset: options.highWatermark ?? 0,
            logStartOffset: 0,
            abortedTransactions: null,
            // Empty, never null: librdkafka rejects a null record set.
            records: partition.fetchOffset === 0 && options.records ? options.records : Buffer.alloc(0),
          })),
        })),
      });
    case ApiKeys.FindCoordinator:
      return encodeResponse(ApiKeys.FindCoordinator, apiVersion, correlationId, {
        errorCode: 0,
        errorMessage: null,
        ...node,
        coordinators: request.body.coordinatorKeys.map((key) => ({ key, ...node, errorCode: 0, errorMessage: null })),
      });
    case ApiKeys.JoinGroup: {
      // KIP-394: from v4 a first join with no member id gets one and must join again.
      if (apiVersion >= 4 && request.body.memberId === '') {
        return encodeResponse(ApiKeys.JoinGroup, apiVersion, correlationId, { errorCode: KafkaErrors.MEMBER_ID_REQUIRED, protocolName: '', leader: '', memberId: 'member-1', members: [] });
      }
      const memberId = request.body.memberId || 'member-1';
      const protocol = request.body.protocols[0]!;
      return encodeResponse(ApiKeys.JoinGroup, apiVersion, correlationId, {
        errorCode: 0,
        generationId: 1,
        protocolName: protocol.name,
        leader: memberId,
        memberId,
        members: [{ memberId, groupInstanceId: null, metadata: protocol.metadata }],
      });
    }
    case ApiKeys.SyncGroup:
      return encodeResponse(ApiKeys.SyncGroup, apiVersion, correlationId, { errorCode: 0, assignment: consumerAssignment(options.topic, [0]) });
    case ApiKeys.Heartbeat:
      return encodeResponse(ApiKeys.Heartbeat, apiVersion, correlationId, { errorCode: 0 });
    case ApiKeys.LeaveGroup:
      return encodeResponse(ApiKeys.LeaveGroup, apiVersion, correlationId, { errorCode: 0, members: [] });
    case ApiKeys.OffsetFetch:
      return encodeResponse(ApiKeys.OffsetFetch, apiVersion, correlationId, {
        topics: (request.body.topics ?? []).map((topic) => ({
          name: topic.name,
          partitions: topic.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, metadata: '', errorCode: 0 })),
        })),
      });
    case ApiKeys.OffsetCommit:
      return encodeResponse(ApiKeys.OffsetCommit, apiVersion, correlationId, {
        topics: request.body.topics.map((topic) => ({
          name: topic.name,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: 0 })),
        })),
      });
    case ApiKeys.CreateTopics:
      return encodeResponse(ApiKeys.CreateTopics, apiVersion, correlationId, {
        topics: request.body.topics.map((topic) => ({ name: topic.name, errorCode: 0, errorMessage: null, numPartitions: topic.numPartitions, replicationFactor: 1, configs: null })),
      });
    case ApiKeys.DeleteTopics:
      return encodeResponse(ApiKeys.DeleteTopics, apiVersion, correlationId, {
        responses: request.body.topicNames.map((name) => ({ name, errorCode: 0 })),
      });
    case ApiKeys.DescribeConfigs:
      return encodeResponse(ApiKeys.DescribeConfigs, apiVersion, correlationId, {
        throttleTimeMs: 0,
        results: request.body.resources.map((resource) => ({
          errorCode: 0,
          errorMessage: null,
          resourceType: resource.resourceType,
          resourceName: resource.resourceName,
          configs: [{ name: 'retention.ms', value: '604800000', readOnly: false, isDefault: true, configSource: 5, isSensitive: false, synonyms: [], documentation: null }],
        })),
      });
    case ApiKeys.CreatePartitions:
      return encodeResponse(ApiKeys.CreatePartitions, apiVersion, correlationId, {
        throttleTimeMs: 0,
        results: request.body.topics.map((topic) => ({ name: topic.name, errorCode: 0 })),
      });
    case ApiKeys.ListGroups:
      return encodeResponse(ApiKeys.ListGroups, apiVersion, correlationId, {
        errorCode: 0,
        groups: [{ groupId: 'grp', protocolType: 'consumer', groupState: 'Stable' }],
      });
    case ApiKeys.DescribeGroups:
      return encodeResponse(ApiKeys.DescribeGroups, apiVersion, correlationId, {
        groups: request.body.groups.map((groupId) => ({
          errorCode: 0,
          groupId,
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'range',
          members: [
            {
              memberId: 'member-1',
              clientId: 'client-1',
              clientHost: '/127.0.0.1',
              memberMetadata: consumerSubscription([options.topic]),
              memberAssignment: consumerAssignment(options.topic, [0]),
            },
          ],
        })),
      });
    default:
      return null;
  }
}

/** ConsumerProtocolSubscription v0 => version:int16 [topic:string] userData:bytes(null) */
function consumerSubscription(topics: string[]): Buffer {
  const out = Buffer.alloc(2 + 4 + topics.reduce((sum, topic) => sum + 2 + Buffer.byteLength(topic), 0) + 4);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(topics.length, at);
  for (const topic of topics) {
    at = out.writeInt16BE(Buffer.byteLength(topic), at);
    at += out.write(topic, at);
  }
  out.writeInt32BE(-1, at);
  return out;
}

/** ConsumerProtocolAssignment v0 => version:int16 [topic:string [partition:int32]] userData:bytes(null) */
function consumerAssignment(topic: string, partitions: number[]): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const out = Buffer.alloc(2 + 4 + 2 + topicBytes + 4 + 4 * partitions.length + 4);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(1, at);
  at = out.writeInt16BE(topicBytes, at);
  at += out.write(topic, at);
  at = out.writeInt32BE(partitions.length, at);
  for (const partition of partitions) at = out.writeInt32BE(partition, at);
  out.writeInt32BE(-1, at);
  return out;
}
