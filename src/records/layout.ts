// RecordBatch v2 (Kafka "magic 2") layout: the grammar, and the byte offsets derived from it.
//
// RecordBatch =>
//   baseOffset: int64            the offset of the first record; written by the broker on append
//   batchLength: int32           bytes after this field (partitionLeaderEpoch .. end of records)
//   partitionLeaderEpoch: int32  -1 from producers
//   magic: int8                  = 2
//   crc: uint32                  CRC-32C (Castagnoli) of attributes .. end of records
//   attributes: int16            bits 0-2 compression, bit 3 timestamp type (1 = LogAppendTime),
//                                bit 4 transactional, bit 5 control batch
//   lastOffsetDelta: int32       offset of the last record minus baseOffset
//   baseTimestamp: int64         the first record's timestamp (ms)
//   maxTimestamp: int64          the largest record timestamp (ms)
//   producerId: int64            -1 when the producer is not idempotent
//   producerEpoch: int16         -1 when the producer is not idempotent
//   baseSequence: int32          -1 when the producer is not idempotent
//   recordCount: int32
//   records: [Record]            compressed as one block when attributes bits 0-2 say so
//
// The CRC covers neither baseOffset nor partitionLeaderEpoch, so the broker can assign
// offsets by overwriting 8 bytes and never recompute it.

/** Field sizes in grammar order; the offsets below are their running sums. */
const FIELD_BYTES = [
  ['BASE_OFFSET', 8],
  ['BATCH_LENGTH', 4],
  ['PARTITION_LEADER_EPOCH', 4],
  ['MAGIC', 1],
  ['CRC', 4],
  ['ATTRIBUTES', 2],
  ['LAST_OFFSET_DELTA', 4],
  ['BASE_TIMESTAMP', 8],
  ['MAX_TIMESTAMP', 8],
  ['PRODUCER_ID', 8],
  ['PRODUCER_EPOCH', 2],
  ['BASE_SEQUENCE', 4],
  ['RECORD_COUNT', 4],
  ['RECORDS', 0],
] as const;

type FieldName = (typeof FIELD_BYTES)[number][0];

function deriveOffsets(): Record<FieldName, number> {
  const offsets = {} as Record<FieldName, number>;
  let offset = 0;
  for (const [name, bytes] of FIELD_BYTES) {
    offsets[name] = offset;
    offset += bytes;
  }
  return offsets;
}

/** Byte offset of each field from the start of a batch, derived from the grammar above. */
export const BatchLayout = Object.freeze(deriveOffsets());

/** baseOffset .. recordCount: everything before the records. */
export const BATCH_HEADER_BYTES = BatchLayout.RECORDS; // 61
/** baseOffset + batchLength: a batch's total size is batchLength + LOG_OVERHEAD. */
export const LOG_OVERHEAD = BatchLayout.PARTITION_LEADER_EPOCH; // 12
/** The smallest legal batchLength: a header with no records. */
export const MIN_BATCH_LENGTH = BATCH_HEADER_BYTES - LOG_OVERHEAD; // 49
/** Where the CRC-covered bytes begin. */
export const CRC_START = BatchLayout.ATTRIBUTES; // 21
/** The only record-batch format this codec reads and writes. */
export const MAGIC = 2;
/**
 * The smallest possible encoded record: length, attributes, timestampDelta, offsetDelta,
 * keyLength, valueLength and headerCount at one byte each. Used to reject absurd
 * recordCounts without decoding.
 */
export const MIN_RECORD_BYTES = 7;

/** Compression codec ids (attributes bits 0-2). */
export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;
/** The codecs spool writes (zstd is read only; see compression.ts). */
export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4';

export const Attributes = {
  COMPRESSION_MASK: 0x07,
  TIMESTAMP_TYPE_LOG_APPEND: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
} as const;

/** Non-idempotent producer defaults, as the Java client writes them (RecordBatch.NO_*). */
export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;
