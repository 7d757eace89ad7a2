// Proves real Kafka clients read what the codec writes, against a codec-only stub broker
// (test/helpers/kafka-stub.ts, 127.0.0.1 port 0). kcat (librdkafka 2.0.2) lists metadata
// (ApiVersions v3 with its header-v0 answer, Metadata v4); produces two lines that arrive as a
// record batch our records codec decodes (Produce v7); consumes a batch served in a Fetch v11
// response (records riding as an uncopied chunk); and consumes it in a group (FindCoordinator,
// JoinGroup v5, SyncGroup, OffsetFetch, OffsetCommit, LeaveGroup). kafka-python 2.0.2 consumes
// the same batch over ApiVersions v0, Metadata v0/v1, ListOffsets v1 and Fetch v4, and its
// admin client reads our CreateTopics v3, DeleteTopics v3, DescribeConfigs v2, CreatePartitions
// v1, ListGroups v1 and DescribeGroups v3 answers. Each part is skipped when its client is not
// installed.

import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBatch, encodeBatch } from '../../src/records/index.js';
import { type KafkaStub, startKafkaStub } from '../helpers/kafka-stub.js';

const KCAT = '/usr/bin/kcat';
const PYTHON = '/usr/bin/python3';
const hasKafkaPython = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import kafka'], { timeout: 10_000 }).status === 0;

function kcat(args: string[], input?: string): Promise<string> {
  return runClient(KCAT, args, input);
}

function runClient(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout)));
    child.stdin?.end(input ?? '');
  });
}

describe.skipIf(!existsSync(KCAT))('kcat against the codec', () => {
  let stub: KafkaStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('lists metadata', async () => {
    stub = await startKafkaStub({ topic: 'golden' });
    const output = await kcat(['-b', `127.0.0.1:${stub.port}`, '-L']);
    expect(output).toContain(`broker 1 at 127.0.0.1:${stub.port}`);
    expect(output).toContain('topic "golden" with 1 partitions');
  });

  it('produces a batch the records codec decodes', async () => {
    stub = await startKafkaStub({ topic: 'golden' });
    await kcat(['-b', `127.0.0.1:${stub.port}`, '-P', '-t', 'golden', '-p', '0', '-K:', '-z', 'none'], 'k1:hello\nk2:world\n');
    const records = stub.produced.flatMap((batch) => decodeBatch(batch, 0).records);
    expect(records.map((record) => [record.key?.toString(), record.value?.toString()])).toEqual([
      ['k1', 'hello'],
      ['k2', 'world'],
    ]);
  });

  it('consumes a batch served in a Fetch response', async () => {
    const records = encodeBatch([
      { key: 'a', value: 'first', timestamp: 1_700_000_000_000 },
      { key: 'b', value: 'second', timestamp: 1_700_000_000_001 },
    ]);
    stub = await startKafkaStub({ topic: 'golden', records, highWatermark: 2 });
    const output = await kcat(['-b', `127.0.0.1:${stub.port}`, '-C', '-t', 'golden', '-p', '0', '-o', 'beginning', '-e', '-f', '%o %k=%s\n']);
    expect(output).toBe('0 a=first\n1 b=second\n');
  });
});


describe.skipIf(!existsSync(KCAT))('kcat in a consumer group against the codec', () => {
  it('joins, syncs, fetches, commits and leaves', async () => {
    const records = encodeBatch([
      { key: 'a', value: 'first', timestamp: 1_700_000_000_000 },
      { key: 'b', value: 'second', timestamp: 1_700_000_000_001 },
    ]);
    const requests = new Set<string>();
    const stub = await startKafkaStub({ topic: 'golden', records, highWatermark: 2, onRequest: (_frame, request) => requests.add(`${request.apiKey} v${request.apiVersion}`) });
    try {
      const output = await kcat(['-b', `127.0.0.1:${stub.port}`, '-G', 'grp', '-e', '-f', '%o %k=%s\n', '-X', 'auto.offset.reset=earliest', 'golden']);
      expect(output).toBe('0 a=first\n1 b=second\n');
      // FindCoordinator v2, JoinGroup v5 (twice: MEMBER_ID_REQUIRED first), SyncGroup v3,
      // OffsetFetch v7, OffsetCommit v7, LeaveGroup v1.
      expect([...requests]).toEqual(expect.arrayContaining(['10 v2', '11 v5', '14 v3', '9 v7', '8 v7', '13 v1']));
    } finally {
      await stub.close();
    }
  });
});

describe.skipIf(!hasKafkaPython)('kafka-python against the codec', () => {
  it('consumes a batch served in a Fetch v4 response', async () => {
    const records = encodeBatch([
      { key: 'a', value: 'first', timestamp: 1_700_000_000_000 },
      { key: 'b', value: 'second', timestamp: 1_700_000_000_001 },
    ]);
    const stub = await startKafkaStub({ topic: 'golden', records, highWatermark: 2 });
    try {
      const script = [
        'from kafka import KafkaConsumer, TopicPartition',
        `c = KafkaConsumer(bootstrap_servers='127.0.0.1:${stub.port}', consumer_timeout_ms=1000, enable_auto_commit=False)`,
        "c.assign([TopicPartition('golden', 0)])",
        'c.seek_to_beginning()',
        "for m in c: print(m.offset, m.key.decode() + '=' + m.value.decode())",
        'c.close()',
      ].join('\n');
      expect(await runClient(PYTHON, ['-c', script])).toBe('0 a=first\n1 b=second\n');
    } finally {
      await stub.close();
    }
  });
});

describe.skipIf(!hasKafkaPython)('kafka-python admin against the codec', () => {
  it('reads the admin answers', async () => {
    const stub = await startKafkaStub({ topic: 'golden' });
    try {
      const script = [
        'from kafka.admin import KafkaAdminClient, NewTopic, NewPartitions, ConfigResource, ConfigResourceType',
        `a = KafkaAdminClient(bootstrap_servers='127.0.0.1:${stub.port}', request_timeout_ms=5000)`,
        "print('create', a.create_topics([NewTopic('new-topic', 3, 1, topic_configs={'retention.ms': '1000'})]).topic_errors)",
        "print('delete', a.delete_topics(['old-topic']).topic_error_codes)",
        "r = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'golden')])",
        "print('configs', [(res[3], res[4][0][0], res[4][0][1]) for res in r[0].resources])",
        "print('partitions', a.create_partitions({'golden': NewPartitions(4)}).topic_errors)",
        "print('groups', a.list_consumer_groups())",
        "d = a.describe_consumer_groups(['grp'])[0]",
        "print('describe', d.group, d.state, d.protocol, [(m.member_id, m.member_metadata.subscription, m.member_assignment.assignment) for m in d.members])",
        'a.close()',
      ].join('\n');
      expect((await runClient(PYTHON, ['-c', script])).split('\n')).toEqual([
        "create [('new-topic', 0, None)]",
        "delete [('old-topic', 0)]",
        "configs [('golden', 'retention.ms', '604800000')]",
        "partitions [('golden', 0, None)]",
        "groups [('grp', 'consumer')]",
        "describe grp Stable range [('member-1', ['golden'], [('golden', [0])])]",
        '',
      ]);
    } finally {
      await stub.close();
    }
  });
});
