// Shared helpers for the storage tests: temp data directories, record batches built with
// records' encodeBatch, and a file system that fails on demand.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBatch, forEachBatch } from '../../src/records/index.js';
import { type StorageFs, nodeStorageFs } from '../../src/storage/fs.js';

export function tempDataDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'spool-storage-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One batch of `records` records, values of `valueBytes` bytes tagged with `tag`. */
export function makeBatch(tag: number, records = 1, valueBytes = 20, timestamp = 1_700_000_000_000): Buffer {
  const inputs = [];
  for (let i = 0; i < records; i++) {
    const value = `${tag}:${i}:`.padEnd(valueBytes, 'x');
    inputs.push({ key: `key-${tag}-${i}`, value, timestamp: timestamp + i });
  }
  return encodeBatch(inputs);
}

/** Base offset, record count and bytes of every batch in a buffer. */
export function batchesOf(buf: Buffer): Array<{ baseOffset: number; lastOffset: number; bytes: Buffer }> {
  const out: Array<{ baseOffset: number; lastOffset: number; bytes: Buffer }> = [];
  forEachBatch(buf, (header, position) => {
    out.push({ baseOffset: header.baseOffset, lastOffset: header.baseOffset + header.lastOffsetDelta, bytes: buf.subarray(position, position + header.totalBytes) });
  });
  return out;
}

/** The bytes of a batch from position 12 on (partitionLeaderEpoch .. end): everything but baseOffset/length. */
export function batchBody(batch: Buffer): Buffer {
  return batch.subarray(12);
}

export type FaultOp = 'write' | 'fdatasync' | 'open' | 'truncate';

/** node:fs with programmable failures: `fail('write', 'ENOSPC')` makes the next writes throw. */
export class FaultyFs implements StorageFs {
  private faults = new Map<FaultOp, { code: string; remaining: number; partialBytes: number }>();
  constructor(private readonly base: StorageFs = nodeStorageFs) {}

  /** Fails the next `times` calls of `op` with errno `code`; a failing write first writes `partialBytes`. */
  fail(op: FaultOp, code: string, times = Number.POSITIVE_INFINITY, partialBytes = 0): void {
    this.faults.set(op, { code, remaining: times, partialBytes });
  }

  heal(): void {
    this.faults.clear();
  }

  private check(op: FaultOp): { code: string; partialBytes: number } | null {
    const fault = this.faults.get(op);
    if (!fault || fault.remaining <= 0) return null;
    fault.remaining--;
    return fault;
  }

  private error(code: string, op: string): NodeJS.ErrnoException {
    const error = new Error(`${code}: injected failure of ${op}`) as NodeJS.ErrnoException;
    error.code = code;
    return error;
  }

  openSync(path: string, flags: string): number {
    if (this.check('open')) throw this.error('EIO', 'open');
    return this.base.openSync(path, flags);
  }
  closeSync(fd: number): void {
    this.base.closeSync(fd);
  }
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    return this.base.readSync(fd, buffer, offset, length, position);
  }
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number {
    const fault = this.check('write');
    if (fault) {
      if (fault.partialBytes > 0) this.base.writeSync(fd, buffer, offset, Math.min(length, fault.partialBytes), position);
      throw this.error(fault.code, 'write');
    }
    return this.base.writeSync(fd, buffer, offset, length, position);
  }
  fileSizeSync(fd: number): number {
    return this.base.fileSizeSync(fd);
  }
  ftruncateSync(fd: number, length: number): void {
    if (this.check('truncate')) throw this.error('EIO', 'truncate');
    this.base.ftruncateSync(fd, length);
  }
  fdatasyncSync(fd: number): void {
    const fault = this.check('fdatasync');
    if (fault) throw this.error(fault.code, 'fdatasync');
    this.base.fdatasyncSync(fd);
  }
  fdatasync(fd: number): Promise<void> {
    const fault = this.check('fdatasync');
    if (fault) return Promise.reject(this.error(fault.code, 'fdatasync'));
    return this.base.fdatasync(fd);
  }
  fsyncDirSync(path: string): void {
    this.base.fsyncDirSync(path);
  }
  renameSync(from: string, to: string): void {
    this.base.renameSync(from, to);
  }
  unlinkSync(path: string): void {
    this.base.unlinkSync(path);
  }
  mkdirSync(path: string): void {
    this.base.mkdirSync(path);
  }
  readdirSync(path: string): string[] {
    return this.base.readdirSync(path);
  }
  rmSync(path: string): void {
    this.base.rmSync(path);
  }
  existsSync(path: string): boolean {
    return this.base.existsSync(path);
  }
  isDirectorySync(path: string): boolean {
    return this.base.isDirectorySync(path);
  }
}
