// Producer ids for InitProducerId, never reused after a restart: ids are handed out from a
// block whose end is written durably (atomic write + fsync) before the block's first id is
// given, so a crash at any point restarts past every id already answered (a crash skips
// at most the rest of a block). One fsync per PRODUCER_ID_BLOCK ids.
//
//   meta/producer-ids.json => { "format": 1, "nextBlockStart": int }

import { join } from 'node:path';
import { Errors, SpoolError } from '../util/errors.js';
import { type StorageFs, readWholeFileSync } from './fs.js';
import { writeFileAtomicSync } from './metadata.js';

export const PRODUCER_IDS_FORMAT = 1;
export const PRODUCER_ID_BLOCK = 1000;
export const PRODUCER_IDS_FILE = 'producer-ids.json';

export class ProducerIdAllocator {
  private nextId: number;
  private blockEnd: number;

  constructor(
    private readonly fs: StorageFs,
    metaDir: string,
  ) {
    this.path = join(metaDir, PRODUCER_IDS_FILE);
    this.nextId = this.blockEnd = this.fs.existsSync(this.path) ? readNextBlockStart(readWholeFileSync(this.fs, this.path), this.path) : 0;
  }

  private readonly path: string;

  /** The next producer id (durable before it is returned). */
  allocate(): number {
    if (this.nextId >= this.blockEnd) {
      const blockEnd = this.nextId + PRODUCER_ID_BLOCK;
      if (blockEnd > Number.MAX_SAFE_INTEGER) throw new SpoolError(Errors.UNKNOWN, 'producer ids are exhausted');
      writeFileAtomicSync(this.fs, this.path, Buffer.from(`${JSON.stringify({ format: PRODUCER_IDS_FORMAT, nextBlockStart: blockEnd })}\n`));
      this.blockEnd = blockEnd;
    }
    return this.nextId++;
  }
}

function readNextBlockStart(data: Buffer, path: string): number {
  const parsed = JSON.parse(data.toString('utf8')) as { format?: unknown; nextBlockStart?: unknown };
  if (parsed.format !== PRODUCER_IDS_FORMAT || typeof parsed.nextBlockStart !== 'number' || !Number.isSafeInteger(parsed.nextBlockStart) || parsed.nextBlockStart < 0) {
    throw new Error(`${path}: not a producer-ids file of format ${PRODUCER_IDS_FORMAT}`);
  }
  return parsed.nextBlockStart;
}
