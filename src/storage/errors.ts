// The one place where a disk error becomes a SpoolError. ENOSPC is NOT_ENOUGH_SPACE;
// every other I/O failure is KAFKA_STORAGE_ERROR. Both are sticky on the partition
// (see PartitionLogImpl.goOffline): once a write or fsync failed, nothing later may
// pretend the log is in a known state.

import { AssertionError } from '../util/assert.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';

export function storageError(error: unknown, what: string): SpoolError {
  // A bug is never turned into a disk error: it goes on up and stops the process.
  if (error instanceof AssertionError) throw error;
  if (isSpoolError(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const kind = code === 'ENOSPC' ? Errors.NOT_ENOUGH_SPACE : Errors.KAFKA_STORAGE_ERROR;
  const detail = error instanceof Error ? error.message : String(error);
  return new SpoolError(kind, `${what}: ${detail}`, { cause: error });
}

/**
 * A stored batch that cannot be served (bad header, unknown codec, records that do not
 * decode or a CRC that does not match): a read-side problem of that one batch. It fails
 * the request that met it, never the partition (only I/O errors put a partition
 * offline). `baseOffset` is the bad batch's first offset and `nextOffset` the first offset
 * after it, so a consumer can seek past it.
 */
export class CorruptBatchError extends SpoolError {
  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly baseOffset: number,
    readonly nextOffset: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(Errors.CORRUPT_MESSAGE, `corrupt stored batch in ${topic}-${partition} at offset ${baseOffset} (next offset ${nextOffset}): ${detail}`, options);
  }
}

/**
 * Thrown by a segment that met a bad stored batch header while reading; the partition log
 * turns it into a CorruptBatchError (it knows the topic). `nextOffset` is the offset after
 * the batch, or the segment's end when the batch's length cannot be trusted.
 */
export class StoredBatchError extends SpoolError {
  constructor(
    readonly baseOffset: number,
    readonly nextOffset: number,
    detail: string,
  ) {
    super(Errors.CORRUPT_MESSAGE, detail);
  }
}
