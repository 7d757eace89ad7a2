// The recovery scan of one segment's .log: validates every batch (structure and CRC,
// via records' validBatchPrefix) in 1 MiB chunks, never loading the segment whole, and
// rebuilds both indexes exactly as appends would have built them. Recovery, compaction
// and a lazily loaded index that turned out damaged all use it.

import { BatchLayout, LOG_OVERHEAD, validBatchPrefix } from '../records/index.js';
import { type StorageFs, readFullySync } from './fs.js';
import { readInt64 } from './index-format.js';
import { OffsetIndex } from './offset-index.js';
import { TimeIndex } from './time-index.js';

/** The header fields a scan needs: baseOffset .. maxTimestamp. */
export const SCAN_HEADER_BYTES = BatchLayout.MAX_TIMESTAMP + 8; // 43

/** What a scan or a verification established about a segment's log and indexes. */
export interface SegmentState {
  sizeBytes: number;
  nextOffset: number;
  maxTimestamp: number;
  lastBatchRelativeOffset: number;
  lastBatchPosition: number;
  /** The first batch's maxTimestamp, for segment.ms (-1 when empty). */
  firstBatchTimestamp: number;
}

export function emptySegmentState(baseOffset: number): SegmentState {
  return { sizeBytes: 0, nextOffset: baseOffset, maxTimestamp: -1, lastBatchRelativeOffset: -1, lastBatchPosition: -1, firstBatchTimestamp: -1 };
}

export interface ScanResult {
  state: SegmentState;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  /** Bytes of whole valid batches; the log is corrupt or torn after this when < file size. */
  validBytes: number;
  /**
   * Why the scan stopped before the end of the file: `damaged` (torn, or structure or CRC
   * wrong), `offset-order` (a baseOffset out of sequence: damage to the uncovered field),
   * `offset-overflow` (a batch in sequence whose base offset is past u32 from the segment
   * base: only a broken append writes that). `end` when every byte was valid.
   */
  stop: 'end' | 'damaged' | 'offset-order' | 'offset-overflow';
}

/** Largest relative offset (offset minus segment base) the u32 index fields can hold. */
export const MAX_RELATIVE_OFFSET = 0xffffffff;

const RECOVERY_CHUNK_BYTES = 1024 * 1024;

/**
 * Scans a segment's log from the start, validating every batch (CRC included, via
 * records' validBatchPrefix) in chunks of 1 MiB, and builds both indexes as appends
 * would have. Stops at the first torn or corrupt batch, or at a batch whose offsets do
 * not follow the previous one (with `contiguous`, the next offset exactly; otherwise any
 * larger offset, since compaction leaves gaps). Never reads the segment whole.
 */
export function scanSegment(fs: StorageFs, logFd: number, baseOffset: number, fileBytes: number, indexIntervalBytes: number, contiguous: boolean): ScanResult {
  const offsetIndex = new OffsetIndex();
  const timeIndex = new TimeIndex();
  const state = emptySegmentState(baseOffset);
  let bytesSinceLastIndexEntry = 0;
  let position = 0;
  let stop: ScanResult['stop'] = 'end';
  let chunk = Buffer.allocUnsafe(Math.min(RECOVERY_CHUNK_BYTES, Math.max(fileBytes, 1)));
  scan: while (position < fileBytes) {
    let length = readFullySync(fs, logFd, chunk, position, 0, Math.min(chunk.length, fileBytes - position));
    let valid = validBatchPrefix(chunk.subarray(0, length)).validBytes;
    if (valid === 0 && length >= LOG_OVERHEAD) {
      // A batch larger than the chunk: read exactly that batch if the file holds it.
      const total = chunk.readInt32BE(BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
      if (total > length && position + total <= fileBytes) {
        chunk = Buffer.allocUnsafe(total);
        length = readFullySync(fs, logFd, chunk, position, 0, total);
        valid = validBatchPrefix(chunk.subarray(0, length)).validBytes;
      }
    }
    if (valid === 0) {
      stop = 'damaged';
      break;
    }
    let at = 0;
    while (at < valid) {
      const batchBase = readInt64(chunk, at);
      const lastOffset = batchBase + chunk.readInt32BE(at + BatchLayout.LAST_OFFSET_DELTA);
      const totalBytes = chunk.readInt32BE(at + BatchLayout.BATCH_LENGTH) + LOG_OVERHEAD;
      const maxTimestamp = readInt64(chunk, at + BatchLayout.MAX_TIMESTAMP);
      const expectedOk = contiguous ? batchBase === state.nextOffset : batchBase >= state.nextOffset;
      if (!expectedOk) {
        stop = 'offset-order';
        break scan;
      }
      // The index names batch base offsets only, so that is what must fit in u32 here.
      // Appends roll earlier (on a batch's last offset, as Kafka does), so every log they
      // write passes; the looser rule keeps a last batch an older version let run past u32.
      if (batchBase - baseOffset > MAX_RELATIVE_OFFSET) {
        stop = 'offset-overflow';
        break scan;
      }
      const batchPosition = position + at;
      const relativeOffset = batchBase - baseOffset;
      if (maxTimestamp > state.maxTimestamp) state.maxTimestamp = maxTimestamp;
      if (bytesSinceLastIndexEntry >= indexIntervalBytes || (batchPosition === 0 && indexIntervalBytes === 0)) {
        offsetIndex.append(relativeOffset, batchPosition);
        if (state.maxTimestamp > timeIndex.lastTimestamp() || timeIndex.entryCount === 0) timeIndex.append(state.maxTimestamp, relativeOffset);
        bytesSinceLastIndexEntry = 0;
      }
      bytesSinceLastIndexEntry += totalBytes;
      if (state.firstBatchTimestamp < 0 && state.sizeBytes === 0) state.firstBatchTimestamp = maxTimestamp;
      state.sizeBytes = batchPosition + totalBytes;
      state.nextOffset = lastOffset + 1;
      state.lastBatchRelativeOffset = relativeOffset;
      state.lastBatchPosition = batchPosition;
      at += totalBytes;
    }
    position += valid;
  }
  if (stop === 'end' && state.sizeBytes < fileBytes) stop = 'damaged';
  return { state, offsetIndex, timeIndex, validBytes: state.sizeBytes, stop };
}

/**
 * Adds the closing entries a roll or a clean close adds (the last batch in both indexes),
 * so a scanned segment that is not the active one passes the cheap start-up check next
 * time instead of being scanned again at every start.
 */
export function addClosingEntries(scan: ScanResult): void {
  const { state, offsetIndex, timeIndex } = scan;
  if (state.lastBatchRelativeOffset < 0) return;
  if (offsetIndex.lastRelativeOffset() !== state.lastBatchRelativeOffset) offsetIndex.append(state.lastBatchRelativeOffset, state.lastBatchPosition);
  if (timeIndex.lastRelativeOffset() !== state.lastBatchRelativeOffset) {
    timeIndex.append(Math.max(state.maxTimestamp, timeIndex.lastTimestamp()), state.lastBatchRelativeOffset);
  }
}
