// Proves /metrics tells the truth, read through a Prometheus text-format parser
// (helpers/prom-text.ts): against a real `spool serve` child with the admin port on port 0,
// produced messages move spool_topic_messages_in_total by exactly their count and the
// bytes-in counter by exactly the bytes the partitions grew; consuming everything moves
// bytes-out by the same bytes; partition offsets match what was produced; group lag is
// log end minus committed after a reset; a request with an unsupported version counts as
// an error under its api and error name; fsyncs, connections and process metrics show.
// A unit test checks the cap on topic labels. Every metric the Grafana dashboard
// (deploy/grafana/spool.json) names exists in the broker's /metrics.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BrokerMetrics, OTHER_TOPICS_LABEL } from '../../src/broker/metrics.js';
import { ApiKey } from '../../src/protocol/apis.js';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { parsePrometheusText, samplesOf, scrape, valueOf, type Exposition } from '../helpers/prom-text.js';
import { RawClient } from '../helpers/raw-client.js';
import { useBroker } from '../helpers/use-broker.js';

const shared = useBroker();
const http = (): string => shared.broker().httpAddress!;

describe('/metrics', () => {
  it('counts produced messages and bytes exactly, and partition offsets match', async () => {
    const topic = randomTopic();
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] });
    const before = await scrape(http());
    const producer = shared.client().producer({ lingerMs: 0 });
    const perPartition = [7, 11, 19];
    for (const [partition, count] of perPartition.entries()) {
      await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ partition, value: `message ${i} of ${partition}` })) });
    }
    await producer.close();
    const after = await scrape(http());
    const produced = perPartition.reduce((a, b) => a + b, 0);
    expect(valueOf(after, 'spool_topic_messages_in_total', { topic }) - valueOf(before, 'spool_topic_messages_in_total', { topic })).toBe(produced);
    let sizeBytes = 0;
    for (const [partition, count] of perPartition.entries()) {
      const labels = { topic, partition: String(partition) };
      expect(valueOf(after, 'spool_partition_log_end_offset', labels)).toBe(count);
      expect(valueOf(after, 'spool_partition_log_start_offset', labels)).toBe(0);
      sizeBytes += valueOf(after, 'spool_partition_size_bytes', labels);
    }
    expect(sizeBytes).toBeGreaterThan(0);
    // A fresh topic's logs hold exactly the batches appended.
    expect(valueOf(after, 'spool_topic_bytes_in_total', { topic })).toBe(sizeBytes);
    const produces = valueOf(after, 'spool_requests_total', { listener: 'native', api: 'Produce' }) - valueOf(before, 'spool_requests_total', { listener: 'native', api: 'Produce' });
    expect(produces).toBeGreaterThanOrEqual(1);
    expect(valueOf(after, 'spool_request_duration_seconds_count', { listener: 'native', api: 'Produce' })).toBe(valueOf(after, 'spool_requests_total', { listener: 'native', api: 'Produce' }));
    expect(after.types.get('spool_request_duration_seconds')).toBe('histogram');
    expect(after.types.get('spool_topic_messages_in_total')).toBe('counter');

    // Reading everything once serves exactly the bytes appended.
    const consumer = shared.client().consumer({ groupId: `reader-${topic}`, autoCommit: false });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let read = 0;
    for await (const _message of consumer) if (++read === produced) break;
    await consumer.close();
    const served = await scrape(http());
    expect(valueOf(served, 'spool_topic_bytes_out_total', { topic })).toBe(sizeBytes);
  });

  it('reports group lag as log end minus committed, and the members', async () => {
    const topic = randomTopic();
    const groupId = `lag-${topic}`;
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: `v${i}` })) });
    await producer.send({ topic, messages: Array.from({ length: 4 }, (_, i) => ({ partition: 1, value: `v${i}` })) });
    await producer.close();
    await admin.resetOffsets({ groupId, topic, partitions: [0], to: { offset: 3 } });
    await admin.resetOffsets({ groupId, topic, partitions: [1], to: { offset: 4 } });
    const metrics = await scrape(http());
    for (const partition of [0, 1]) {
      const labels = { group: groupId, topic, partition: String(partition) };
      const logEnd = valueOf(metrics, 'spool_partition_log_end_offset', { topic, partition: String(partition) });
      const committed = valueOf(metrics, 'spool_group_committed_offset', labels);
      expect(committed).toBe(partition === 0 ? 3 : 4);
      expect(valueOf(metrics, 'spool_group_lag', labels)).toBe(logEnd - committed);
    }
    expect(valueOf(metrics, 'spool_group_lag', { group: groupId, topic, partition: '0' })).toBe(7);
    expect(valueOf(metrics, 'spool_group_members', { group: groupId })).toBe(0);
    expect(valueOf(metrics, 'spool_groups')).toBeGreaterThanOrEqual(1);
  });

  it('reports share groups: members, in flight and acquired per share-partition, DLQ depth', async () => {
    const topic = randomTopic();
    const groupId = `share-${topic}`;
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic, messages: Array.from({ length: 6 }, (_, i) => ({ value: `v${i}` })) });
    await producer.close();
    const consumer = shared.client().shareConsumer({ groupId, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [topic] });
    let seen = 0;
    for await (const message of consumer) {
      seen++;
      // The first record goes to the DLQ, the next two are accepted, the fourth is held.
      if (seen === 1) await message.reject('no');
      else if (seen <= 3) await message.ack();
      if (seen === 4) break;
    }
    try {
      const [described] = await admin.describeShareGroups({ groupIds: [groupId] });
      const metrics = await scrape(http());
      const labels = { group: groupId, topic, partition: '0' };
      expect(valueOf(metrics, 'spool_share_group_members', { group: groupId })).toBe(described!.members.length);
      expect(valueOf(metrics, 'spool_share_group_dlq_messages', { group: groupId })).toBe(1);
      expect(valueOf(metrics, 'spool_share_group_in_flight', labels)).toBe(described!.partitions[0]!.inFlight);
      expect(valueOf(metrics, 'spool_share_group_acquired', labels)).toBe(described!.partitions[0]!.acquired);
      expect(described!.partitions[0]!.acquired).toBeGreaterThanOrEqual(1);
    } finally {
      await consumer.close();
    }
  });

  it('counts a request answered with an error under its api and error name', async () => {
    const raw = await RawClient.connect(shared.broker().port);
    try {
      const before = await scrape(http());
      const labels = { listener: 'native', api: 'Metadata', code: 'UNSUPPORTED_VERSION' };
      const response = await raw.expect(raw.send(ApiKey.Metadata, { topics: null }, undefined, { apiVersion: 99 }));
      expect(response.header['errorCode']).not.toBe(0);
      const after = await scrape(http());
      expect(valueOf(after, 'spool_request_errors_total', labels) - valueOf(before, 'spool_request_errors_total', labels)).toBe(1);
      expect(valueOf(after, 'spool_connections_open', { listener: 'native' })).toBeGreaterThanOrEqual(1);
      expect(valueOf(after, 'spool_connections_accepted_total', { listener: 'native' })).toBeGreaterThanOrEqual(1);
    } finally {
      await raw.close();
    }
  });

  it('shows fsyncs, recovery time and the process metrics', async () => {
    // The default --fsync interval (1 s) flushes the appends of the tests above.
    const metrics = await waitFor(async (): Promise<Exposition | undefined> => {
      const scraped = await scrape(http());
      return valueOf(scraped, 'spool_fsync_duration_seconds_count') > 0 ? scraped : undefined;
    }).then((found) => found!);
    expect(samplesOf(metrics, 'spool_recovery_seconds')).toHaveLength(1);
    expect(valueOf(metrics, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(samplesOf(metrics, 'nodejs_eventloop_lag_seconds')).toHaveLength(1);
    expect(metrics.types.get('nodejs_gc_duration_seconds')).toBe('histogram');
    expect(valueOf(metrics, 'spool_fetches_parked')).toBeGreaterThanOrEqual(0);
  });
});

describe('label caps', () => {
  it('counts topics past maxTopicLabels under one "_other" label', async () => {
    const metrics = new BrokerMetrics({ maxTopicLabels: 2 });
    metrics.produced('a', 10, 1);
    metrics.produced('b', 20, 2);
    metrics.produced('c', 30, 3);
    metrics.produced('d', 40, 4);
    const exposition = parsePrometheusText(await metrics.registry.metrics());
    expect(samplesOf(exposition, 'spool_topic_messages_in_total').map((s) => [s.labels['topic'], s.value])).toEqual([
      ['a', 1],
      ['b', 2],
      [OTHER_TOPICS_LABEL, 7],
    ]);
    metrics.forgetTopic('a');
    const after = parsePrometheusText(await metrics.registry.metrics());
    expect(samplesOf(after, 'spool_topic_messages_in_total', { topic: 'a' })).toEqual([]);
  });
});

describe('the Grafana dashboard', () => {
  it('names only metrics that /metrics exposes', async () => {
    const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/spool.json', import.meta.url), 'utf8')) as {
      panels: Array<{ targets: Array<{ expr: string }> }>;
      templating: { list: Array<{ query?: unknown }> };
    };
    const expressions = [
      ...dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr)),
      ...dashboard.templating.list.map((variable) => variable.query).filter((query): query is string => typeof query === 'string'),
    ];
    const named = new Set(expressions.flatMap((expression) => [...expression.matchAll(/\b(?:spool|process|nodejs)_[a-z0-9_]+/g)].map((match) => match[0])));
    expect(named.size).toBeGreaterThan(10);
    const exposition = await scrape(http());
    // A family is declared by its # TYPE line even before it has a sample (a counter never incremented).
    const exists = (name: string): boolean =>
      exposition.types.has(name) || [...['_bucket', '_sum', '_count']].some((suffix) => name.endsWith(suffix) && exposition.types.get(name.slice(0, -suffix.length)) === 'histogram');
    expect([...named].filter((name) => !exists(name))).toEqual([]);
  });
});
