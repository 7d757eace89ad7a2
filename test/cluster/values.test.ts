// Proves the etcd value codecs and key layout: every value round-trips through its decoder,
// a value of another format version, a non-JSON value or a bad shape (a leader outside its
// ISR, duplicate replicas) decodes to null, keys parse back to what built them, and the
// --cluster URL takes several endpoints and an optional key root.

import { describe, expect, it } from 'vitest';
import { KeyLayout } from '../../src/cluster/layout.js';
import { parseClusterUrl } from '../../src/cluster/etcd-url.js';
import { prefixEnd } from '../../src/cluster/etcd-store.js';
import {
  decodeBrokerRegistration,
  decodePartitionState,
  decodeTopicAssignment,
  decodeTopicSpec,
  encodeValue,
} from '../../src/cluster/values.js';

describe('values', () => {
  it('round-trips every kind', () => {
    const registration = { nodeId: 3, host: '127.0.0.1', port: 9400, kafkaHost: '127.0.0.1', kafkaPort: 9092, incarnation: 'x' };
    expect(decodeBrokerRegistration(encodeValue(registration))).toEqual(registration);
    const spec = { partitions: 3, replicationFactor: 3, minInsyncReplicas: 2, configs: { 'retention.ms': '1000' } };
    expect(decodeTopicSpec(encodeValue(spec))).toEqual(spec);
    expect(decodeTopicAssignment(encodeValue({ replicas: [[1, 2], [2, 1]] }))).toEqual({ replicas: [[1, 2], [2, 1]] });
    const state = { leader: 1, leaderEpoch: 0, isr: [1, 2], controllerEpoch: 7 };
    expect(decodePartitionState(encodeValue(state))).toEqual(state);
    expect(decodePartitionState(encodeValue({ ...state, leader: -1 }))).toEqual({ ...state, leader: -1 });
  });

  it('returns null for what it does not understand', () => {
    expect(decodePartitionState(Buffer.from('not json'))).toBeNull();
    expect(decodePartitionState(Buffer.from(JSON.stringify({ v: 2, leader: 1, leaderEpoch: 0, isr: [1], controllerEpoch: 1 })))).toBeNull();
    expect(decodePartitionState(encodeValue({ leader: 3, leaderEpoch: 0, isr: [1, 2], controllerEpoch: 1 }))).toBeNull();
    expect(decodeTopicAssignment(encodeValue({ replicas: [[1, 1]] }))).toBeNull();
    expect(decodeTopicSpec(encodeValue({ partitions: 0, replicationFactor: 1, minInsyncReplicas: 1, configs: {} }))).toBeNull();
  });
});

describe('layout and url', () => {
  it('parses keys back', () => {
    const layout = new KeyLayout('/spool');
    expect(layout.brokerIdOf(layout.broker(12))).toBe(12);
    expect(layout.partitionOf(layout.partition('orders.v1', 7))).toEqual({ topic: 'orders.v1', partition: 7 });
    expect(layout.topicOf(layout.topic('a-b'), layout.topics)).toBe('a-b');
    expect(layout.brokerIdOf(layout.controller)).toBeNull();
  });

  it('parses --cluster', () => {
    expect(parseClusterUrl('etcd://127.0.0.1:2379')).toEqual({ endpoints: ['127.0.0.1:2379'], root: '/spool' });
    expect(parseClusterUrl('etcd://127.0.0.1:2379,127.0.0.1:22379/prod/')).toEqual({ endpoints: ['127.0.0.1:2379', '127.0.0.1:22379'], root: '/prod' });
    expect(() => parseClusterUrl('http://127.0.0.1:2379')).toThrow(/etcd:\/\//);
    expect(() => parseClusterUrl('etcd://127.0.0.1')).toThrow(/host:port/);
  });

  it('prefixEnd is the first key after the prefix', () => {
    expect(prefixEnd('/spool/').toString()).toBe('/spool0');
    expect([...prefixEnd('a\xff')]).toEqual([0x61, 0xc3, 0xc0]);
  });
});
