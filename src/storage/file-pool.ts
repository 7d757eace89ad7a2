// A bounded pool of open segment files (.log, .index, .timeindex), least recently used
// closed first. Storage used to hold one fd per segment for the broker's lifetime (+2 per
// active segment), so 1000 partitions under `ulimit -n 1024` took every descriptor and
// left none for sockets. Now a segment holds a PooledFile: a path and flags, opened on
// first use, closed when the pool needs room, opened again on the next use.
//
// Safety: an fd is only used synchronously right after fd() returned it (every read and
// write in storage is a positional readSync/writeSync), so nothing can close it in
// between. The one asynchronous use, fdatasync in the thread pool, pins the file
// (pin() ... release) and a pinned file is never closed by the pool; close() of a pinned
// file waits for the last release. An fsync through a reopened fd covers the file's dirty
// pages written through the old one (Linux fsync is per inode, not per descriptor).
//
// One pool per process (RLIMIT_NOFILE is per process): `sharedFilePool`, sized by the
// last LogManager.open (`maxOpenFiles`, default half the soft RLIMIT_NOFILE read from
// /proc/self/limits, so the other half stays for sockets and everything else).

import { readFileSync } from 'node:fs';
import type { StorageFs } from './fs.js';

/** Used when /proc/self/limits cannot be read (not Linux). */
const FALLBACK_OPEN_FILE_LIMIT = 1024;
/** Cap when the soft limit is "unlimited" or huge. */
const MAX_DEFAULT_POOL = 65_536;
export const MIN_OPEN_FILES = 8;

/** The soft RLIMIT_NOFILE of this process, from /proc/self/limits (null when unknown). */
export function softOpenFileLimit(): number | null {
  try {
    const limits = readFileSync('/proc/self/limits', 'utf8');
    const line = limits.split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.POSITIVE_INFINITY;
    const value = Number(soft);
    return Number.isSafeInteger(value) && value > 0 ? value : null;
  } catch {
    // Not Linux: the caller falls back to a conservative default.
    return null;
  }
}

/** Half the soft open-file limit (at least MIN_OPEN_FILES): the default pool size. */
export function defaultMaxOpenFiles(): number {
  const soft = softOpenFileLimit() ?? FALLBACK_OPEN_FILE_LIMIT;
  return Math.max(MIN_OPEN_FILES, Math.min(MAX_DEFAULT_POOL, Math.floor(soft / 2)));
}

export class PooledFile {
  /** Open descriptor, or -1 while closed (never opened, or evicted). */
  descriptor = -1;
  pins = 0;
  private closeWhenReleased = false;
  closed = false;

  constructor(
    readonly pool: FilePool,
    readonly fs: StorageFs,
    readonly path: string,
    /** Flags to open it again after eviction; never truncating ('r+' or 'r'). */
    readonly reopenFlags: string,
  ) {}

  /** The open fd (opened now if needed). Use it at once, synchronously. */
  fd(): number {
    if (this.closed) {
      // As a closed descriptor would: the caller's disk-error path puts the partition offline.
      const error = new Error(`EBADF: ${this.path} was closed`) as NodeJS.ErrnoException;
      error.code = 'EBADF';
      throw error;
    }
    return this.pool.use(this);
  }

  /**
   * Keeps the fd open until the returned function is called (for async fdatasync). Waits
   * while the pool is full of pinned files, so a thousand partitions rolling in one tick
   * run their fsyncs at most maxOpenFiles at a time instead of opening a thousand files.
   */
  async pin(): Promise<() => void> {
    await this.pool.acquirePinSlot();
    try {
      this.fd();
    } catch (error) {
      this.pool.releasePinSlot();
      throw error;
    }
    this.pins++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.pins--;
      this.pool.releasePinSlot();
      if (this.pins === 0 && this.closeWhenReleased) this.pool.closeFile(this);
    };
  }

  /** Closes the fd and forgets the file (after a pinned use ends, if one runs). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pins > 0) this.closeWhenReleased = true;
    else this.pool.closeFile(this);
  }
}

export class FilePool {
  /** Open files, least recently used first (Map keeps insertion order). */
  private readonly open = new Map<PooledFile, true>();
  private mostRecent: PooledFile | null = null;
  /** Pins held (fsyncs in flight); at most maxOpenFiles - 1 (see PooledFile.pin). */
  pinSlots = 0;
  private readonly pinWaiters: Array<() => void> = [];
  /** Opens done by the pool (first opens and reopens after eviction), for tests and stats. */
  opens = 0;
  evictions = 0;

  constructor(public maxOpenFiles: number = defaultMaxOpenFiles()) {}

  get openCount(): number {
    return this.open.size;
  }

  /** A file opened with `flags` now (e.g. 'w+' to create it), reopened with `reopenFlags` later. */
  openFile(fs: StorageFs, path: string, flags: string, reopenFlags = 'r+'): PooledFile {
    const file = new PooledFile(this, fs, path, reopenFlags);
    this.makeRoom(1);
    file.descriptor = this.openWithRetry(fs, path, flags);
    this.opens++;
    this.touch(file);
    return file;
  }

  /** Takes over an fd the caller opened (recovery, compaction) as a pooled file. */
  adopt(fs: StorageFs, path: string, fd: number, reopenFlags = 'r+'): PooledFile {
    const file = new PooledFile(this, fs, path, reopenFlags);
    file.descriptor = fd;
    this.touch(file);
    this.makeRoom(0);
    return file;
  }

  /** PooledFile.fd(): the open fd, opening it (and closing the LRU file) when needed. */
  use(file: PooledFile): number {
    if (file.descriptor < 0) {
      this.makeRoom(1);
      file.descriptor = this.openWithRetry(file.fs, file.path, file.reopenFlags);
      this.opens++;
    }
    if (this.mostRecent !== file) this.touch(file);
    return file.descriptor;
  }

  /** Takes a pin slot, waiting while all are taken (one slot always stays for synchronous use). */
  acquirePinSlot(): Promise<void> {
    if (this.pinSlots < this.maxOpenFiles - 1) {
      this.pinSlots++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.pinWaiters.push(resolve));
  }

  releasePinSlot(): void {
    // A waiter takes the slot over (it stays counted), so nobody can slip in between.
    const next = this.pinWaiters.shift();
    if (next) next();
    else this.pinSlots--;
  }

  closeFile(file: PooledFile): void {
    if (file.descriptor < 0) return;
    const fd = file.descriptor;
    file.descriptor = -1;
    this.open.delete(file);
    if (this.mostRecent === file) this.mostRecent = null;
    file.fs.closeSync(fd);
  }

  private touch(file: PooledFile): void {
    this.open.delete(file);
    this.open.set(file, true);
    this.mostRecent = file;
  }

  /** Closes least recently used, unpinned files until `extra` more fit. */
  private makeRoom(extra: number): void {
    if (this.open.size + extra <= this.maxOpenFiles) return;
    for (const file of this.open.keys()) {
      if (this.open.size + extra <= this.maxOpenFiles) return;
      // Every fd() result is used at once, before any other fd() call, so even the most
      // recent file may go; only pinned ones (an fsync in flight) stay.
      if (file.pins > 0) continue;
      this.closeFile(file);
      this.evictions++;
    }
    // Everything left is pinned (fsyncs in flight): go over the bound for now rather than
    // fail; the pins end when those fsyncs do.
  }

  /** On EMFILE/ENFILE (sockets took the rest), close half the pool and try once more. */
  private openWithRetry(fs: StorageFs, path: string, flags: string): number {
    try {
      return fs.openSync(path, flags);
    } catch (error) {
      if (!isOutOfDescriptors(error)) throw error;
      if (this.open.size === 0) throw this.outOfDescriptors(error, path);
      const keep = this.maxOpenFiles;
      this.maxOpenFiles = Math.max(MIN_OPEN_FILES, Math.floor(this.open.size / 2));
      this.makeRoom(1);
      this.maxOpenFiles = keep;
      try {
        return fs.openSync(path, flags);
      } catch (retryError) {
        throw isOutOfDescriptors(retryError) ? this.outOfDescriptors(retryError, path) : retryError;
      }
    }
  }

  /**
   * Even the pool could not make room: say what holds the descriptors and what to change,
   * instead of a bare "EMFILE: too many open files". Keeps the errno code (storageError
   * turns it into KAFKA_STORAGE_ERROR for the partition, as any failed open).
   */
  private outOfDescriptors(cause: unknown, path: string): NodeJS.ErrnoException {
    const code = (cause as NodeJS.ErrnoException).code ?? 'EMFILE';
    const limit = softOpenFileLimit();
    const which = code === 'ENFILE' ? 'the system-wide open-file table is full' : `the process is at its open-file limit (ulimit -n ${limit === null ? 'unknown' : limit})`;
    const error = new Error(
      `${code}: too many open files: cannot open ${path}: ${which}; the segment file pool holds ${this.open.size} of at most ${this.maxOpenFiles} files (${this.pinSlots} pinned by fsyncs in flight), so connections and other files hold the rest. Raise the open-file limit (ulimit -n, LimitNOFILE=) or lower --max-open-files`,
      { cause },
    ) as NodeJS.ErrnoException;
    error.code = code;
    return error;
  }
}

function isOutOfDescriptors(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE';
}

/** The process's pool (see the file comment). */
export const sharedFilePool = new FilePool();
