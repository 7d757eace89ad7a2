// The record-batch codec: Kafka RecordBatch v2 (magic 2). See README.md for the format.

export {
  Attributes,
  BATCH_HEADER_BYTES,
  BatchLayout,
  Compression,
  type CompressionName,
  CRC_START,
  LOG_OVERHEAD,
  MAGIC,
  MIN_BATCH_LENGTH,
  MIN_RECORD_BYTES,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
} from './layout.js';
export { crc32c } from './crc32c.js';
export { type BatchHeader, forEachBatch, hasTransactionalBatch, readBaseOffset, readBatchHeader, setBaseOffset, setProducerFields } from './header.js';
export { readInt64, writeInt64 } from './int64.js';
export { type BatchesSummary, type ValidateOptions, validateBatch, validateBatches, validBatchPrefix } from './validate.js';
export { BatchBuilder, type BatchBuilderOptions, encodeBatch, type RecordInput } from './builder.js';
export { decodeBatch, type DecodedRecord, type DecodeOptions } from './decode.js';
export { type FilteredBatch, type FilterOptions, type KeepRecord, filterBatch } from './filter.js';
export {
  type Cursor,
  MAX_VARINT_BYTES,
  MAX_VARLONG_BYTES,
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
  zigzagDecode32,
  zigzagEncode32,
} from './varint.js';
