// The errors every codec reports the same way: output past the bound (INVALID_RECORD,
// naming it) and bytes that do not decompress (CORRUPT_MESSAGE, naming the codec).

import type { SpoolError } from '../../util/errors.js';
import { corrupt, invalidRecord } from '../errors.js';

export function tooLarge(codec: string, compressedBytes: number, maxOutputBytes: number): SpoolError {
  return invalidRecord(
    `${codec} records section of ${compressedBytes} bytes decompresses to more than ${maxOutputBytes} bytes, the bound on a decompressed batch (max.message.bytes on the broker)`,
  );
}

export function malformed(codec: string, message: string): SpoolError {
  return corrupt(`${codec} records section does not decompress: ${message}`);
}
