// Proves the Kafka codec writes and reads the exact bytes of Kafka's wire format: each
// listing below is built by hand from the message JSON grammar (one line per field) and
// must equal what encodeResponse/encodeRequest produce, and decode back to the same object.
// Covers header v0/v1/v2 (ApiVersions' header-v0 trap), compact and classic encodings,
// tagged fields, and record batches riding as uncopied slices (Produce in, Fetch out).

import { describe, expect, it } from 'vitest';
import { encodeBatch } from '../../src/records/index.js';
import {
  ApiKeys,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  frameBytes,
  type FetchResponse,
  type MetadataResponse,
} from '../../src/kafka/index.js';
import { hex } from './hex.js';

/** The frame after its 4-byte size, checking the size. */
function body(frame: Buffer): Buffer {
  expect(frame.readInt32BE(0)).toBe(frame.length - 4);
  return frame.subarray(4);
}

describe('ApiVersions', () => {
  it('v0 request: header v1, empty body', () => {
    const bytes = hex(`
      00 12          # apiKey 18
      00 00          # apiVersion 0
      00 00 00 01    # correlationId 1
      00 03 63 6c 69 # clientId "cli" (int16 length)
    `);
    expect(decodeRequest(bytes)).toEqual({ apiKey: 18, apiVersion: 0, correlationId: 1, clientId: 'cli', body: { clientSoftwareName: '', clientSoftwareVersion: '' } });
    expect(body(frameBytes(encodeRequest(ApiKeys.ApiVersions, 0, 1, 'cli', {})))).toEqual(bytes);
  });

  it('v0 response: header v0, classic array', () => {
    const frame = frameBytes(encodeResponse(ApiKeys.ApiVersions, 0, 1, { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }] }));
    expect(frame).toEqual(hex(`
      00 00 00 10    # size 16
      00 00 00 01    # correlationId
      00 00          # errorCode
      00 00 00 01    # apiKeys: 1 entry
      00 00 00 03 00 07  # apiKey 0, min 3, max 7
    `));
    expect(decodeResponse(ApiKeys.ApiVersions, 0, frame.subarray(4)).body.apiKeys).toEqual([{ apiKey: 0, minVersion: 3, maxVersion: 7 }]);
  });

  it('v3 request: header v2 (clientId still int16-length), compact strings', () => {
    const bytes = hex(`
      00 12 00 03 00 00 00 02  # apiKey 18, v3, correlationId 2
      00 03 63 6c 69           # clientId "cli": NULLABLE_STRING even in header v2
      00                       # header tagged fields: none
      06 73 70 6f 6f 6c        # clientSoftwareName "spool" (compact: length + 1)
      04 31 2e 30              # clientSoftwareVersion "1.0"
      00                       # tagged fields: none
    `);
    expect(decodeRequest(bytes)).toMatchObject({ apiKey: 18, apiVersion: 3, correlationId: 2, clientId: 'cli', body: { clientSoftwareName: 'spool', clientSoftwareVersion: '1.0' } });
    expect(body(frameBytes(encodeRequest(ApiKeys.ApiVersions, 3, 2, 'cli', { clientSoftwareName: 'spool', clientSoftwareVersion: '1.0' })))).toEqual(bytes);
  });

  it('v3 response: header v0 even though v3 is flexible; a tagged field', () => {
    const value = { errorCode: 0, apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }], throttleTimeMs: 0, finalizedFeaturesEpoch: 5 };
    const frame = frameBytes(encodeResponse(ApiKeys.ApiVersions, 3, 2, value));
    expect(frame).toEqual(hex(`
      00 00 00 1d    # size 29
      00 00 00 02    # correlationId; NO header tagged fields (ResponseHeader v0)
      00 00          # errorCode
      02             # apiKeys: compact, 1 entry
      00 00 00 03 00 07 00  # apiKey 0, min 3, max 7, tagged: none
      00 00 00 00    # throttleTimeMs
      01             # tagged fields: 1
      01 08          # tag 1 (finalizedFeaturesEpoch), 8 bytes
      00 00 00 00 00 00 00 05  # epoch 5
    `));
    expect(decodeResponse(ApiKeys.ApiVersions, 3, frame.subarray(4)).body).toEqual({
      ...value,
      supportedFeatures: [],
      finalizedFeatures: [],
      zkMigrationReady: false,
      apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 7 }],
    });
  });
});

describe('Metadata', () => {
  it('v1 request: null topics = all topics', () => {
    const bytes = hex(`00 03 00 01 00 00 00 07 ff ff   # Metadata v1, correlationId 7, clientId null
                       ff ff ff ff                     # topics null`);
    expect(decodeRequest(bytes)).toMatchObject({ apiKey: 3, apiVersion: 1, clientId: null, body: { topics: null } });
    expect(body(frameBytes(encodeRequest(ApiKeys.Metadata, 1, 7, null, { topics: null })))).toEqual(bytes);
  });

  const v1: MetadataResponse = {
    brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
    controllerId: 1,
    topics: [{ errorCode: 0, name: 't', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }],
  };

  it('v1 response', () => {
    const frame = frameBytes(encodeResponse(ApiKeys.Metadata, 1, 7, v1));
    expect(frame).toEqual(hex(`
      00 00 00 41    # size 65
      00 00 00 07    # correlationId (header v0)
      00 00 00 01    # brokers: 1
        00 00 00 01  #   nodeId 1
        00 01 68     #   host "h"
        00 00 23 84  #   port 9092
        ff ff        #   rack null (v1+)
      00 00 00 01    # controllerId 1 (v1+)
      00 00 00 01    # topics: 1
        00 00        #   errorCode
        00 01 74     #   name "t"
        00           #   isInternal false (v1+)
        00 00 00 01  #   partitions: 1
          00 00                    # errorCode
          00 00 00 00              # partitionIndex 0
          00 00 00 01              # leaderId 1
          00 00 00 01 00 00 00 01  # replicaNodes [1]
          00 00 00 01 00 00 00 01  # isrNodes [1]
    `));
    expect(decodeResponse(ApiKeys.Metadata, 1, frame.subarray(4)).body).toMatchObject(v1);
  });

  it('v9 request and response: flexible, header v2 / v1', () => {
    const request = hex(`
      00 03 00 09 00 00 00 08 ff ff 00  # Metadata v9, correlationId 8, clientId null, no header tags
      02 02 74 00    # topics: 1 [name "t", no tags]
      01 00 00       # allowAutoTopicCreation true, includeCluster/TopicAuthorizedOperations false
      00             # tagged fields: none
    `);
    expect(decodeRequest(request).body).toEqual({ topics: [{ name: 't' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(body(frameBytes(encodeRequest(ApiKeys.Metadata, 9, 8, null, { topics: [{ name: 't' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })))).toEqual(request);

    const value: MetadataResponse = {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: 'spool',
      controllerId: 1,
      topics: [{ errorCode: 0, name: 't', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
    };
    const frame = frameBytes(encodeResponse(ApiKeys.Metadata, 9, 8, value));
    expect(frame).toEqual(hex(`
      00 00 00 4b    # size 75
      00 00 00 08 00 # correlationId, header tagged fields: none (ResponseHeader v1)
      00 00 00 00    # throttleTimeMs
      02             # brokers: 1 (compact)
        00 00 00 01 02 68 00 00 23 84  # nodeId 1, host "h", port 9092
        00 00                          # rack null (compact 0), tags: none
      06 73 70 6f 6f 6c  # clusterId "spool"
      00 00 00 01    # controllerId
      02             # topics: 1
        00 00 02 74 00                 # errorCode, name "t", isInternal false
        02                             # partitions: 1
          00 00 00 00 00 00 00 00 00 01  # errorCode, partitionIndex 0, leaderId 1
          00 00 00 00                    # leaderEpoch 0
          02 00 00 00 01 02 00 00 00 01  # replicaNodes [1], isrNodes [1]
          01 00                          # offlineReplicas [], tags: none
        80 00 00 00 00                 # topicAuthorizedOperations (default INT32_MIN), tags
      80 00 00 00    # clusterAuthorizedOperations (default INT32_MIN)
      00             # tagged fields: none
    `));
    expect(decodeResponse(ApiKeys.Metadata, 9, frame.subarray(4)).body).toMatchObject(value);
  });
});

const batch = encodeBatch([{ key: 'k', value: 'hello', timestamp: 1_700_000_000_000 }]);
const int32 = (value: number): string => Buffer.from([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]).toString('hex');

describe('Produce', () => {
  for (const version of [3, 7]) {
    it(`v${version} request: the record batch decodes as a slice of the frame (no copy)`, () => {
      const bytes = Buffer.concat([
        hex(`
          00 00 00 0${version} 00 00 00 09 ff ff  # Produce v${version}, correlationId 9, clientId null
          ff ff          # transactionalId null
          ff ff          # acks -1
          00 00 75 30    # timeoutMs 30000
          00 00 00 01    # topicData: 1
            00 01 74     #   name "t"
            00 00 00 01  #   partitionData: 1
              00 00 00 00        # index 0
              ${int32(batch.length)}  # records: int32 length
        `),
        batch,
      ]);
      const request = decodeRequest(bytes);
      expect(request.apiKey).toBe(ApiKeys.Produce);
      if (request.apiKey !== ApiKeys.Produce) return;
      const records = request.body.topicData[0]!.partitionData[0]!.records!;
      expect(records).toEqual(batch);
      expect(records.buffer).toBe(bytes.buffer);
      expect(records.byteOffset).toBe(bytes.byteOffset + bytes.length - batch.length);
      const encoded = encodeRequest(ApiKeys.Produce, version, 9, null, request.body);
      expect(encoded.chunks[1]).toBe(records);
      expect(body(frameBytes(encoded))).toEqual(bytes);
    });
  }

  it('v7 response', () => {
    const value = { responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 42, logAppendTimeMs: -1, logStartOffset: 0 }] }], throttleTimeMs: 0 };
    const frame = frameBytes(encodeResponse(ApiKeys.Produce, 7, 9, value));
    expect(frame).toEqual(hex(`
      00 00 00 31    # size 49
      00 00 00 09    # correlationId
      00 00 00 01 00 01 74   # responses: 1, name "t"
      00 00 00 01            # partitionResponses: 1
        00 00 00 00 00 00    # index 0, errorCode 0
        00 00 00 00 00 00 00 2a  # baseOffset 42
        ff ff ff ff ff ff ff ff  # logAppendTimeMs -1
        00 00 00 00 00 00 00 00  # logStartOffset 0 (v5+)
      00 00 00 00    # throttleTimeMs (last in Produce)
    `));
    expect(decodeResponse(ApiKeys.Produce, 7, frame.subarray(4)).body).toEqual(value);
  });
});

describe('Fetch', () => {
  it('v4 response: chunks are [prefix, batch, middle, batch] with the batches uncopied', () => {
    const second = encodeBatch([{ key: null, value: 'x', timestamp: 1_700_000_000_001 }], { baseOffset: 1 });
    const partition = (partitionIndex: number, records: Buffer) => ({ partitionIndex, errorCode: 0, highWatermark: 2, lastStableOffset: 2, abortedTransactions: null, records });
    const value: FetchResponse = { throttleTimeMs: 0, responses: [{ topic: 't', partitions: [partition(0, batch), partition(1, second)] }] };
    const encoded = encodeResponse(ApiKeys.Fetch, 4, 11, value);
    expect(encoded.chunks).toHaveLength(4);
    expect(encoded.chunks[1]).toBe(batch);
    expect(encoded.chunks[3]).toBe(second);
    expect(encoded.byteLength).toBe(encoded.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    const partitionListing = (index: number, records: Buffer): string => `
        00 00 00 0${index}         # partitionIndex
        00 00                      # errorCode
        00 00 00 00 00 00 00 02    # highWatermark 2
        00 00 00 00 00 00 00 02    # lastStableOffset 2
        ff ff ff ff                # abortedTransactions null
        ${int32(records.length)}   # records length, then the batch`;
    const frame = frameBytes(encoded);
    expect(frame).toEqual(Buffer.concat([
      hex(`${int32(encoded.byteLength - 4)}  # size
        00 00 00 0b    # correlationId 11
        00 00 00 00    # throttleTimeMs
        00 00 00 01 00 01 74  # responses: 1, topic "t"
        00 00 00 02           # partitions: 2
        ${partitionListing(0, batch)}`),
      batch,
      hex(partitionListing(1, second)),
      second,
    ]));
    const decoded = decodeResponse(ApiKeys.Fetch, 4, frame.subarray(4)).body;
    expect(decoded.responses[0]!.partitions[1]!.records).toEqual(second);
  });

  it("v4 response: a partition's records given as several slices go out back to back, uncopied", () => {
    const second = encodeBatch([{ key: null, value: 'x', timestamp: 1_700_000_000_001 }], { baseOffset: 1 });
    const value: FetchResponse = { throttleTimeMs: 0, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 2, abortedTransactions: null, records: [batch, second] }] }] };
    const encoded = encodeResponse(ApiKeys.Fetch, 4, 11, value);
    expect(encoded.chunks).toHaveLength(3);
    expect(encoded.chunks[1]).toBe(batch);
    expect(encoded.chunks[2]).toBe(second);
    const frame = frameBytes(encoded);
    expect(frame.readInt32BE(encoded.chunks[0]!.length - 4)).toBe(batch.length + second.length); // one records length for both
    const records = decodeResponse(ApiKeys.Fetch, 4, frame.subarray(4)).body.responses[0]!.partitions[0]!.records;
    expect(records).toEqual(Buffer.concat([batch, second]));
  });

  it('v12 response: compact lengths, tagged currentLeader after the records', () => {
    expect(batch.length + 1).toBeLessThan(0x80); // one-byte unsigned varint below
    const value: FetchResponse = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0, abortedTransactions: null, preferredReadReplica: -1, records: batch, currentLeader: { leaderId: 1, leaderEpoch: 0 } }] }],
    };
    const encoded = encodeResponse(ApiKeys.Fetch, 12, 12, value);
    expect(encoded.chunks.map((chunk) => chunk === batch)).toEqual([false, true, false]);
    expect(frameBytes(encoded)).toEqual(Buffer.concat([
      hex(`${int32(encoded.byteLength - 4)}  # size
        00 00 00 0c 00 # correlationId 12, header tags: none
        00 00 00 00    # throttleTimeMs
        00 00          # errorCode
        00 00 00 00    # sessionId
        02 02 74       # responses: 1, topic "t"
        02             # partitions: 1
          00 00 00 00 00 00           # partitionIndex 0, errorCode 0
          00 00 00 00 00 00 00 01     # highWatermark 1
          00 00 00 00 00 00 00 01     # lastStableOffset 1
          00 00 00 00 00 00 00 00     # logStartOffset 0
          00                          # abortedTransactions null (compact 0)
          ff ff ff ff                 # preferredReadReplica -1
          ${(batch.length + 1).toString(16).padStart(2, '0')}  # records: compact length + 1`),
      batch,
      hex(`
          01 01 09                    # tagged: 1 field, tag 1 (currentLeader), 9 bytes
          00 00 00 01 00 00 00 00 00  # leaderId 1, leaderEpoch 0, its own tags: none
        00                            # topic tags: none
      00                              # response tags: none
      `),
    ]));
    const decoded = decodeResponse(ApiKeys.Fetch, 12, frameBytes(encoded).subarray(4)).body;
    expect(decoded.responses[0]!.partitions[0]).toMatchObject({ records: batch, currentLeader: { leaderId: 1, leaderEpoch: 0 }, divergingEpoch: { epoch: -1, endOffset: -1 } });
  });
});

describe('JoinGroup v5 and OffsetCommit v8', () => {
  it('JoinGroup v5 response', () => {
    const value = { throttleTimeMs: 0, errorCode: 0, generationId: 1, protocolName: 'range', leader: 'm', memberId: 'm', members: [{ memberId: 'm', groupInstanceId: null, metadata: Buffer.from([1, 2]) }] };
    const frame = frameBytes(encodeResponse(ApiKeys.JoinGroup, 5, 3, value));
    expect(frame).toEqual(hex(`
      00 00 00 2a    # size 42
      00 00 00 03    # correlationId
      00 00 00 00    # throttleTimeMs
      00 00          # errorCode
      00 00 00 01    # generationId 1
      00 05 72 61 6e 67 65  # protocolName "range"
      00 01 6d       # leader "m"
      00 01 6d       # memberId "m"
      00 00 00 01    # members: 1
        00 01 6d     #   memberId "m"
        ff ff        #   groupInstanceId null (v5+)
        00 00 00 02 01 02  # metadata: 2 bytes
    `));
    expect(decodeResponse(ApiKeys.JoinGroup, 5, frame.subarray(4)).body).toEqual(value);
  });

  it('OffsetCommit v8 request and response', () => {
    const request = hex(`
      00 08 00 08 00 00 00 0d 00 03 63 6c 69 00  # OffsetCommit v8, correlationId 13, clientId "cli", no header tags
      02 67          # groupId "g"
      00 00 00 05    # generationIdOrMemberEpoch 5
      02 6d          # memberId "m"
      00             # groupInstanceId null
      02 02 74       # topics: 1, name "t"
        02           #   partitions: 1
          00 00 00 00               # partitionIndex 0
          00 00 00 00 00 00 00 2a   # committedOffset 42
          ff ff ff ff               # committedLeaderEpoch -1
          01 00                     # committedMetadata "", tags: none
        00           #   topic tags: none
      00             # tags: none
    `);
    const value = { groupId: 'g', generationIdOrMemberEpoch: 5, memberId: 'm', groupInstanceId: null, topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, committedMetadata: '' }] }] };
    expect(decodeRequest(request)).toEqual({ apiKey: 8, apiVersion: 8, correlationId: 13, clientId: 'cli', body: { ...value, retentionTimeMs: -1 } });
    expect(body(frameBytes(encodeRequest(ApiKeys.OffsetCommit, 8, 13, 'cli', value)))).toEqual(request);
    const frame = frameBytes(encodeResponse(ApiKeys.OffsetCommit, 8, 13, { throttleTimeMs: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, errorCode: 0 }] }] }));
    expect(frame).toEqual(hex(`
      00 00 00 16 00 00 00 0d 00  # size 22, correlationId 13, header tags: none
      00 00 00 00                 # throttleTimeMs
      02 02 74 02 00 00 00 00 00 00 00  # topics: 1 "t", partitions: 1 [index 0, errorCode 0, tags]
      00 00                       # topic tags, response tags
    `));
  });
});
