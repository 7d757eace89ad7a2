// Proves the key partitioner matches Kafka's Java client: murmur2 against the known
// answers kafkajs generated with Kafka's Utils.murmur2 (its defaultJava/Test.java), and
// the partition as toPositive(murmur2(keyBytes)) % n (DefaultPartitioner's formula).
import { describe, expect, it } from 'vitest';
import { murmur2, toPositive } from '../../src/client/murmur2.js';
import { partitionForKey } from '../../src/client/partitioner.js';

// From kafkajs src/producer/partitioners/default/murmur2.spec.js (generated with Java).
const KNOWN_HASHES: Record<string, number> = {
  '0': 971027396,
  '1': -1993445489,
  '128': -326012175,
  '2187': -1508407203,
  '16384': -325739742,
  '78125': -1654490814,
  '279936': 1462227128,
  '823543': -2014198330,
  '2097152': 607668903,
  '4782969': -1182699775,
  '10000000': -1830336757,
  '19487171': -1603849305,
  '35831808': -857013643,
  '62748517': -1167431028,
  '105413504': -381294639,
  '170859375': -1658323481,
  '100:48069': 1009543857,
};

describe('murmur2', () => {
  it('matches the Java client for known keys (every tail length 0..3)', () => {
    for (const [key, expected] of Object.entries(KNOWN_HASHES)) expect(murmur2(Buffer.from(key)), key).toBe(expected);
  });

  it('hashes the empty key like Java', () => {
    // Utils.murmur2(new byte[0]) == 275646681
    expect(murmur2(Buffer.alloc(0))).toBe(275646681);
  });

  it('toPositive clears the sign bit (not Math.abs)', () => {
    expect(toPositive(-1)).toBe(0x7fffffff);
    expect(toPositive(-2147483648)).toBe(0);
    expect(toPositive(5)).toBe(5);
  });

  it('partitions keys as toPositive(murmur2(key)) % n, like Kafka DefaultPartitioner', () => {
    for (const [key, hash] of Object.entries(KNOWN_HASHES)) {
      for (const partitions of [1, 3, 10, 12, 120]) expect(partitionForKey(key, partitions)).toBe((hash & 0x7fffffff) % partitions);
    }
    // Worked examples: '1' hashes to -1993445489 -> toPositive 154038159 -> 9 of 10, where
    // Math.abs would give 1993445489 -> 9 as well; '4782969' (-1182699775) tells them apart:
    // toPositive -> 964783873 -> 3 of 10, Math.abs -> 5.
    expect(partitionForKey('1', 10)).toBe(9);
    expect(partitionForKey('0', 7)).toBe(3);
    expect(partitionForKey('4782969', 10)).toBe(3);
  });

  it('gives the same partition for a string key and its UTF-8 bytes', () => {
    for (const key of ['a', 'table-7', 'ключ', '☺ tlw61or']) expect(partitionForKey(key, 7)).toBe(partitionForKey(Buffer.from(key), 7));
  });
});
