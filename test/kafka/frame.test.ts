// Proves the frame-level rules around the API bodies: headers of versions and APIs spool does
// not serve still decode (so the listener can answer UNSUPPORTED_VERSION with the right
// correlation id), the ApiVersions fallback answer is readable as v0, the version-dependent
// meanings helpers (Metadata all-topics, FindCoordinator v4 keys, OffsetFetch v8 groups), and
// the spool -> Kafka error-code map.

import { describe, expect, it } from 'vitest';
import { Errors, SpoolError } from '../../src/util/errors.js';
import {
  ApiKeys,
  apiVersionsResponse,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeResponse,
  findCoordinatorKeys,
  frameBytes,
  KafkaDecodeError,
  KafkaErrors,
  kafkaCodeOf,
  kafkaErrorName,
  kafkaErrorOf,
  KafkaUnsupportedVersionError,
  metadataWantsAllTopics,
  offsetFetchGroups,
} from '../../src/kafka/index.js';
import { hex } from './hex.js';

describe('unsupported versions', () => {
  it('ApiVersions v4 (newer than served): header v2 read, UNSUPPORTED_VERSION with the header', () => {
    const frame = hex(`00 12 00 04 00 00 00 2a 00 01 63 00   06 73 70 6f 6f 6c 02 31 00`);
    expect(decodeRequestHeader(frame)).toEqual({ apiKey: 18, apiVersion: 4, correlationId: 42, clientId: 'c', bodyOffset: 12 });
    let thrown: unknown;
    try {
      decodeRequest(frame);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(KafkaUnsupportedVersionError);
    expect(thrown).toBeInstanceOf(KafkaDecodeError);
    expect((thrown as KafkaUnsupportedVersionError).header.correlationId).toBe(42);
    expect((thrown as SpoolError).kind).toBe(Errors.UNSUPPORTED_VERSION);
    // The answer: ApiVersions v0 with UNSUPPORTED_VERSION and our table (header v0, classic arrays).
    const answer = frameBytes(encodeResponse(ApiKeys.ApiVersions, 0, 42, apiVersionsResponse(KafkaErrors.UNSUPPORTED_VERSION)));
    expect(answer.subarray(4, 10)).toEqual(hex(`00 00 00 2a 00 23`));
    expect(decodeResponse(ApiKeys.ApiVersions, 0, answer.subarray(4)).body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
  });

  it('Produce v2 and an unknown api key are unsupported, not malformed', () => {
    expect(() => decodeRequest(hex(`00 00 00 02 00 00 00 01 ff ff`))).toThrow(KafkaUnsupportedVersionError);
    expect(() => decodeRequest(hex(`03 e7 00 00 00 00 00 01 ff ff 01 02 03`))).toThrow(KafkaUnsupportedVersionError);
  });

  it('a header shorter than 10 bytes is malformed', () => {
    expect(() => decodeRequestHeader(hex(`00 12 00 00 00 00`))).toThrow(/shorter than a header/);
  });
});

describe('version-dependent meanings', () => {
  it('Metadata: v0 empty = all topics; v1+ null = all, empty = none', () => {
    expect(metadataWantsAllTopics(0, { topics: [] })).toBe(true);
    expect(metadataWantsAllTopics(1, { topics: [] })).toBe(false);
    expect(metadataWantsAllTopics(1, { topics: null })).toBe(true);
    expect(metadataWantsAllTopics(0, { topics: [{ name: 't' }] })).toBe(false);
  });

  it('FindCoordinator: key in v0-3, coordinatorKeys in v4', () => {
    expect(findCoordinatorKeys(2, { key: 'g', coordinatorKeys: [] })).toEqual(['g']);
    expect(findCoordinatorKeys(4, { key: '', coordinatorKeys: ['a', 'b'] })).toEqual(['a', 'b']);
  });

  it('OffsetFetch: one group in v1-7, groups in v8', () => {
    expect(offsetFetchGroups(7, { groupId: 'g', topics: null, groups: [] })).toEqual([{ groupId: 'g', topics: null }]);
    expect(offsetFetchGroups(8, { groupId: '', topics: null, groups: [{ groupId: 'a', topics: [{ name: 't', partitionIndexes: [0] }] }] })).toEqual([
      { groupId: 'a', topics: [{ name: 't', partitionIndexes: [0] }] },
    ]);
  });
});

describe('error codes', () => {
  it('uses Kafka numbers', () => {
    expect(KafkaErrors).toMatchObject({ NONE: 0, UNKNOWN_SERVER_ERROR: -1, OFFSET_OUT_OF_RANGE: 1, CORRUPT_MESSAGE: 2, UNKNOWN_TOPIC_OR_PARTITION: 3, UNSUPPORTED_VERSION: 35, INVALID_REQUEST: 42, KAFKA_STORAGE_ERROR: 56 });
    expect(kafkaErrorName(16)).toBe('NOT_COORDINATOR');
  });

  it('maps every spool error except UNKNOWN to a specific Kafka code', () => {
    for (const kind of Object.values(Errors)) {
      const code = kafkaCodeOf(kind);
      // UNEXPECTED_APPEND_OFFSET is between replicas only (the fetcher handles it; Kafka has no code for it either).
      if (kind === Errors.UNKNOWN || kind === Errors.UNEXPECTED_APPEND_OFFSET) expect(code).toBe(KafkaErrors.UNKNOWN_SERVER_ERROR);
      else expect(code, kind.name).not.toBe(KafkaErrors.UNKNOWN_SERVER_ERROR);
    }
    expect(kafkaCodeOf(Errors.UNKNOWN_PARTITION)).toBe(KafkaErrors.UNKNOWN_TOPIC_OR_PARTITION);
    expect(kafkaCodeOf(Errors.OFFSET_OUT_OF_RANGE)).toBe(1); // spool's own number is 2
  });

  it('kafkaErrorOf keeps a SpoolError message and hides anything else', () => {
    expect(kafkaErrorOf(new SpoolError(Errors.UNKNOWN_TOPIC, 'no topic t'))).toEqual({ errorCode: 3, errorMessage: 'no topic t' });
    expect(kafkaErrorOf(new TypeError('secret'))).toEqual({ errorCode: -1, errorMessage: Errors.UNKNOWN.message });
  });
});
