// Proves that the Kafka front caps the partitions one CreateTopics creates, all topics
// together, at RequestLimits.maxPartitionsPerCreateTopics, as the native front does
// (validate.ts): over it every topic of the request is answered INVALID_REQUEST naming the
// limit and nothing is created; a request within it creates its topics. A child broker with
// `--kafka-listener 127.0.0.1:0`; requests encoded with src/kafka's codec over a bare socket.

import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiKeys } from '../../src/kafka/apis/index.js';
import { KafkaErrors } from '../../src/kafka/errors.js';
import { decodeResponse, encodeRequest, frameBytes } from '../../src/kafka/frame.js';
import { RequestLimits } from '../../src/protocol/validate.js';
import { randomTopic, startBroker, type BrokerProcess } from '../helpers/broker.js';

const VERSION = 4;
let broker: BrokerProcess;

beforeAll(async () => {
  broker = await startBroker({ args: ['--fsync', 'never', '--kafka-listener', '127.0.0.1:0'] });
});

afterAll(async () => {
  await broker?.kill();
  broker?.cleanup();
});

/** Sends one CreateTopics on a fresh connection and decodes its answer. */
async function createTopics(topics: Array<{ name: string; numPartitions: number }>): Promise<Array<{ name: string; errorCode: number; errorMessage?: string | null }>> {
  const [host, port] = broker.kafkaAddress!.split(':') as [string, string];
  const socket: Socket = connect({ host, port: Number(port) });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const body = { topics: topics.map((topic) => ({ ...topic, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 30_000, validateOnly: false };
  socket.write(frameBytes(encodeRequest(ApiKeys.CreateTopics, VERSION, 7, 'limit-test', body as never)));
  const frame = await new Promise<Buffer>((resolve, reject) => {
    let bytes = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length >= 4 && bytes.length >= 4 + bytes.readInt32BE(0)) resolve(bytes.subarray(4, 4 + bytes.readInt32BE(0)));
    });
    socket.once('error', reject);
  });
  socket.destroy();
  return (decodeResponse(ApiKeys.CreateTopics, VERSION, frame).body as { topics: Array<{ name: string; errorCode: number; errorMessage?: string | null }> }).topics;
}

it('refuses a CreateTopics of more than maxPartitionsPerCreateTopics partitions in all, and creates one within it', async () => {
  const limit = RequestLimits.maxPartitionsPerCreateTopics;
  const [a, b] = [randomTopic('ka'), randomTopic('kb')];
  const refused = await createTopics([
    { name: a, numPartitions: limit - 100 },
    { name: b, numPartitions: 101 },
  ]);
  expect(refused.map((topic) => topic.errorCode)).toEqual([KafkaErrors.INVALID_REQUEST, KafkaErrors.INVALID_REQUEST]);
  expect(refused[0]!.errorMessage).toContain('maxPartitionsPerCreateTopics');

  const created = await createTopics([
    { name: a, numPartitions: 3 },
    { name: b, numPartitions: 2 },
  ]);
  expect(created.map((topic) => topic.errorCode)).toEqual([KafkaErrors.NONE, KafkaErrors.NONE]);
});
