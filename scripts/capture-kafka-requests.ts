// Dev tooling (not shipped): records the request frames a real Kafka client sends, as golden
// fixtures for test/kafka. Listens on 127.0.0.1 (port 0), answers just enough with the codec
// (ApiVersions, Metadata with one topic, Produce, Fetch, ListOffsets) for the client to go on,
// and writes each first-seen (api, version) frame to test/fixtures/kafka/<name>.hex.
//
//   npx tsx scripts/capture-kafka-requests.ts <fixture-prefix> -- <client command with {port}>
//   e.g. npx tsx scripts/capture-kafka-requests.ts kcat -- kcat -b 127.0.0.1:{port} -L

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import {
  API_SCHEMAS,
  ApiKeys,
  apiVersionsResponse,
  decodeRequest,
  decodeRequestHeader,
  type EncodedFrame,
  encodeResponse,
  KafkaErrors,
} from '../src/kafka/index.js';

const [prefix, separator, ...command] = process.argv.slice(2);
if (!prefix || separator !== '--' || command.length === 0) throw new Error('usage: capture-kafka-requests.ts <prefix> -- <command with {port}>');
const seen = new Set<string>();
const TOPIC = 'golden';
let fetchCount = 0;

const server = createServer((socket) => {
  let pending = Buffer.alloc(0);
  socket.on('data', (data) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      const frame = pending.subarray(4, 4 + pending.readInt32BE(0));
      pending = pending.subarray(4 + frame.length);
      const header = decodeRequestHeader(frame);
      const name = `${prefix}-${API_SCHEMAS.find((api) => api.apiKey === header.apiKey)?.name ?? `key${header.apiKey}`}-v${header.apiVersion}`;
      if (!seen.has(name)) {
        seen.add(name);
        writeFileSync(new URL(`../test/fixtures/kafka/${name}.hex`, import.meta.url), frame.toString('hex') + '\n');
        console.error(`captured ${name} (${frame.length} bytes)`);
      }
      const answer = respond(frame, port);
      if (answer) socket.write(Buffer.concat(answer.chunks));
    }
  });
  socket.on('error', () => undefined);
});

function respond(frame: Buffer, port: number): EncodedFrame | null {
  const request = decodeRequest(frame);
  const { correlationId, apiVersion } = request;
  switch (request.apiKey) {
    case ApiKeys.ApiVersions:
      return encodeResponse(ApiKeys.ApiVersions, apiVersion, correlationId, apiVersionsResponse());
    case ApiKeys.Metadata:
      return encodeResponse(ApiKeys.Metadata, apiVersion, correlationId, {
        brokers: [{ nodeId: 1, host: '127.0.0.1', port, rack: null }],
        clusterId: 'spool',
        controllerId: 1,
        topics: [{ errorCode: 0, name: TOPIC, isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
      });
    case ApiKeys.Produce:
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
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode: 0, timestamp: -1, offset: 0 })),
        })),
      });
    case ApiKeys.Fetch:
      if (process.env['CAPTURE_KEEP_FETCHING']) fetchCount += 1;
      if (fetchCount > 3) setTimeout(() => child.kill('SIGINT'), 200);
      // Answer once (or a few times), then stop the client: one captured Fetch is enough. Empty records, not null:
      // librdkafka rejects a null record set ("invalid MessageSetSize -1").
      if (!process.env['CAPTURE_KEEP_FETCHING']) setTimeout(() => child.kill('SIGINT'), 200);
      return encodeResponse(ApiKeys.Fetch, apiVersion, correlationId, {
        throttleTimeMs: 0,
        responses: request.body.topics.map((topic) => ({
          topic: topic.topic,
          partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partition, errorCode: KafkaErrors.NONE, highWatermark: 0, abortedTransactions: null, records: Buffer.alloc(0) })),
        })),
      });
    case ApiKeys.FindCoordinator:
      return encodeResponse(ApiKeys.FindCoordinator, apiVersion, correlationId, {
        errorCode: 0, errorMessage: null, nodeId: 1, host: '127.0.0.1', port,
        coordinators: (request.body.coordinatorKeys ?? []).map((key) => ({ key, nodeId: 1, host: '127.0.0.1', port, errorCode: 0, errorMessage: null })),
      });
    case ApiKeys.JoinGroup: {
      const memberId = request.body.memberId || 'member-1';
      if (apiVersion >= 4 && request.body.memberId === '') {
        return encodeResponse(ApiKeys.JoinGroup, apiVersion, correlationId, { errorCode: KafkaErrors.MEMBER_ID_REQUIRED, generationId: -1, protocolName: '', leader: '', memberId, members: [] });
      }
      const protocol = request.body.protocols[0]!;
      return encodeResponse(ApiKeys.JoinGroup, apiVersion, correlationId, {
        errorCode: 0, generationId: 1, protocolName: protocol.name, leader: memberId, memberId,
        members: [{ memberId, groupInstanceId: null, metadata: protocol.metadata }],
      });
    }
    case ApiKeys.SyncGroup:
      return encodeResponse(ApiKeys.SyncGroup, apiVersion, correlationId, { errorCode: 0, assignment: consumerAssignment(TOPIC, [0]) });
    case ApiKeys.Heartbeat:
      return encodeResponse(ApiKeys.Heartbeat, apiVersion, correlationId, { errorCode: 0 });
    case ApiKeys.LeaveGroup:
      return encodeResponse(ApiKeys.LeaveGroup, apiVersion, correlationId, { errorCode: 0, members: [] });
    case ApiKeys.OffsetFetch:
      return encodeResponse(ApiKeys.OffsetFetch, apiVersion, correlationId, {
        errorCode: 0,
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
    default:
      return null;
  }
}

/** ConsumerProtocolAssignment v0 => version:int16 [topic:string [partition:int32]] userData:bytes */
function consumerAssignment(topic: string, partitions: number[]): Buffer {
  const out = Buffer.alloc(2 + 4 + 2 + Buffer.byteLength(topic) + 4 + 4 * partitions.length + 4);
  let at = out.writeInt16BE(0, 0);
  at = out.writeInt32BE(1, at);
  at = out.writeInt16BE(Buffer.byteLength(topic), at);
  at += out.write(topic, at);
  at = out.writeInt32BE(partitions.length, at);
  for (const partition of partitions) at = out.writeInt32BE(partition, at);
  out.writeInt32BE(-1, at);
  return out;
}

let port = 0;
let child: ReturnType<typeof spawn>;
server.listen(0, '127.0.0.1', () => {
  port = (server.address() as { port: number }).port;
  child = spawn(command[0]!, command.slice(1).map((arg) => arg.replaceAll('{port}', String(port))), { stdio: ['pipe', 'inherit', 'inherit'] });
  child.stdin?.end(process.env['CAPTURE_STDIN'] ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.on('exit', () => {
    clearTimeout(timer);
    server.close();
    process.exit(0);
  });
});
