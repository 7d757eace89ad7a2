// Browsing a partition's messages for a human (the web console), newest first: reads the
// stored batches before an offset and decodes their records. This is control-path work —
// the hot path never decodes records — so it is bounded instead: at most
// MAX_BROWSE_MESSAGES records per call and at most MAX_BROWSE_READ_BYTES read from storage,
// so one click cannot make the broker read or inflate a segment.

import { decodeBatch, LOG_OVERHEAD, type DecodedRecord } from '../../records/index.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';

export const MAX_BROWSE_MESSAGES = 500;
export const MAX_BROWSE_READ_BYTES = 4 * 1024 * 1024;
/** A compressed batch inflates to at most this much when browsing. */
const MAX_BROWSE_UNCOMPRESSED_BYTES = 16 * 1024 * 1024;

export interface BrowseRequest {
  topic: string;
  partition: number;
  /** Records before this offset (exclusive); null for the log end (the newest). */
  beforeOffset: number | null;
  limit: number;
}

export interface BrowsePage {
  logStartOffset: number;
  logEndOffset: number;
  /** Newest first. */
  records: DecodedRecord[];
  /** The offset to ask `beforeOffset` for the next (older) page; null when the log start is reached. */
  olderBeforeOffset: number | null;
}

export function browseMessages(ctx: BrokerContext, request: BrowseRequest): BrowsePage {
  const { topic, partition } = request;
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_BROWSE_MESSAGES) {
    throw new SpoolError(Errors.INVALID_REQUEST, `limit must be 1..${MAX_BROWSE_MESSAGES}, got ${request.limit}`);
  }
  const log = ctx.logs.getPartition(topic, partition);
  const { logStartOffset, logEndOffset } = log;
  const beforeOffset = request.beforeOffset === null ? logEndOffset : Math.min(request.beforeOffset, logEndOffset);
  if (!Number.isInteger(beforeOffset) || beforeOffset < 0) throw new SpoolError(Errors.OFFSET_OUT_OF_RANGE, `offset ${request.beforeOffset} is not an offset`);
  const fromOffset = Math.max(logStartOffset, beforeOffset - request.limit);
  const records: DecodedRecord[] = [];
  let nextOffset = fromOffset;
  let readBytes = 0;
  // Whole batches from the one holding fromOffset; a compacted or sparse log may need more than one read.
  while (nextOffset < beforeOffset && readBytes < MAX_BROWSE_READ_BYTES) {
    const read = log.read(nextOffset, Math.min(1024 * 1024, MAX_BROWSE_READ_BYTES - readBytes));
    if (read.bytes.length === 0) break;
    readBytes += read.bytes.length;
    let position = 0;
    let lastOffset = nextOffset;
    while (position + LOG_OVERHEAD <= read.bytes.length) {
      const batch = decodeBatch(read.bytes, position, { maxUncompressedBytes: MAX_BROWSE_UNCOMPRESSED_BYTES });
      for (const record of batch.records) {
        if (record.offset >= nextOffset && record.offset < beforeOffset) records.push(record);
      }
      lastOffset = batch.header.baseOffset + batch.header.lastOffsetDelta;
      position += batch.header.totalBytes;
      if (lastOffset + 1 >= beforeOffset) break;
    }
    if (lastOffset + 1 <= nextOffset) break;
    nextOffset = lastOffset + 1;
  }
  records.reverse();
  const page = records.length > request.limit ? records.slice(0, request.limit) : records;
  return { logStartOffset, logEndOffset, records: page, olderBeforeOffset: fromOffset > logStartOffset ? fromOffset : null };
}
