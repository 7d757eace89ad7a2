// The file-system calls storage makes, behind one small interface, so tests can inject
// faults (ENOSPC or EIO on a write or an fsync) the way Redpanda's failure probes do.
// The hot path is synchronous and positional (writeSync/readSync with an explicit
// position); only fdatasync has an asynchronous form, so an `always` fsync can run in
// the thread pool while the event loop keeps appending to other partitions.

import * as nodeFs from 'node:fs';

export interface StorageFs {
  openSync(path: string, flags: string): number;
  closeSync(fd: number): void;
  /** Positional read; returns bytes read (fewer at end of file). */
  readSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  /** Positional write; may write fewer bytes than asked (callers loop). */
  writeSync(fd: number, buffer: Buffer, offset: number, length: number, position: number): number;
  fileSizeSync(fd: number): number;
  ftruncateSync(fd: number, length: number): void;
  fdatasyncSync(fd: number): void;
  fdatasync(fd: number): Promise<void>;
  /** fsync of a directory, so a rename or a new file in it survives a power loss. */
  fsyncDirSync(path: string): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string): void;
  readdirSync(path: string): string[];
  /** Recursive remove; no error when missing. */
  rmSync(path: string): void;
  existsSync(path: string): boolean;
  isDirectorySync(path: string): boolean;
}

/**
 * Permission bits of what storage creates. The default keeps the data private to the
 * broker's user (files 0600, directories 0700). The process umask still applies, so it
 * can only narrow these.
 */
export interface FileModes {
  fileMode: number;
  dirMode: number;
}

export const DEFAULT_FILE_MODE = 0o600;

/** Directories get the file mode plus search (x) wherever it grants read: 0600 -> 0700, 0640 -> 0750. */
export function fileModes(fileMode = DEFAULT_FILE_MODE): FileModes {
  if (!Number.isInteger(fileMode) || fileMode < 0 || fileMode > 0o777 || (fileMode & 0o600) !== 0o600) {
    throw new RangeError(`file mode must be octal 600..777 with owner read and write, got ${fileMode.toString(8)}`);
  }
  return { fileMode, dirMode: fileMode | ((fileMode & 0o444) >> 2) };
}

/** node:fs creating files and directories with `modes`. */
export function createNodeStorageFs(modes: FileModes = fileModes()): StorageFs {
  return {
    ...nodeStorageFsBase,
    openSync: (path, flags) => nodeFs.openSync(path, flags, modes.fileMode),
    mkdirSync: (path) => {
      nodeFs.mkdirSync(path, { recursive: true, mode: modes.dirMode });
    },
  };
}

const nodeStorageFsBase: StorageFs = {
  openSync: (path, flags) => nodeFs.openSync(path, flags),
  closeSync: (fd) => nodeFs.closeSync(fd),
  readSync: (fd, buffer, offset, length, position) => nodeFs.readSync(fd, buffer, offset, length, position),
  writeSync: (fd, buffer, offset, length, position) => nodeFs.writeSync(fd, buffer, offset, length, position),
  fileSizeSync: (fd) => nodeFs.fstatSync(fd).size,
  ftruncateSync: (fd, length) => nodeFs.ftruncateSync(fd, length),
  fdatasyncSync: (fd) => nodeFs.fdatasyncSync(fd),
  fdatasync: (fd) =>
    new Promise<void>((resolve, reject) => {
      nodeFs.fdatasync(fd, (error) => (error ? reject(error) : resolve()));
    }),
  fsyncDirSync: (path) => {
    const fd = nodeFs.openSync(path, 'r');
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
  renameSync: (from, to) => nodeFs.renameSync(from, to),
  unlinkSync: (path) => nodeFs.unlinkSync(path),
  mkdirSync: (path) => {
    nodeFs.mkdirSync(path, { recursive: true });
  },
  readdirSync: (path) => nodeFs.readdirSync(path),
  rmSync: (path) => nodeFs.rmSync(path, { recursive: true, force: true }),
  existsSync: (path) => nodeFs.existsSync(path),
  isDirectorySync: (path) => {
    try {
      return nodeFs.statSync(path).isDirectory();
    } catch {
      // A path that cannot be stat'ed is, for our purposes, not a directory.
      return false;
    }
  },
};

/** node:fs with the default modes (files 0600, directories 0700). */
export const nodeStorageFs: StorageFs = createNodeStorageFs();

/** Writes all of buffer[offset, offset+length) at `position`, looping on short writes. */
export function writeFullySync(fs: StorageFs, fd: number, buffer: Buffer, position: number, offset = 0, length = buffer.length - offset): void {
  let written = 0;
  while (written < length) {
    written += fs.writeSync(fd, buffer, offset + written, length - written, position + written);
  }
}

/** Reads up to `length` bytes at `position` into buffer[offset..]; returns bytes read (short only at end of file). */
export function readFullySync(fs: StorageFs, fd: number, buffer: Buffer, position: number, offset = 0, length = buffer.length - offset): number {
  let read = 0;
  while (read < length) {
    const n = fs.readSync(fd, buffer, offset + read, length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}

/** Reads a whole (small) file: metadata and index files, never segments. */
export function readWholeFileSync(fs: StorageFs, path: string): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fileSizeSync(fd);
    const buffer = Buffer.allocUnsafe(size);
    const read = readFullySync(fs, fd, buffer, 0);
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}
