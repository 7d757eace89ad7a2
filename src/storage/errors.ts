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
