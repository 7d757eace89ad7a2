// The data-directory lock: one process at a time may own a data directory (Kafka's
// `.lock`). Node has no flock(), and the one npm package that wraps it (fs-ext) compiles a
// native addon at install time (node-gyp fetches Node's headers from outside the npm
// registry), so this is a pure-Node scheme built on atomic file-system operations:
//
//   dataDir/.lock      DataDirLock => { "format": 1, "pid": int, "startTime": string,
//                                       "bootId": string, "hostname": string }
//                      one JSON line, mode as the other files (see file-modes.ts)
//
// Acquire: write our record to a private temp file, fsync it, then link(temp, .lock).
//   link() is atomic and fails with EEXIST when .lock exists, so a starter either owns a
//   complete lock file or sees someone else's complete one: never a half-written one.
// Held: the record names a live process when /proc/<pid>/stat exists and its start time
//   (field 22, clock ticks since boot) and the boot id equal the record's; a pid reused by
//   another process after a kill -9 has another start time. Without /proc (not Linux),
//   kill(pid, 0) decides. A record from another host cannot be checked: it counts as held.
// Stale (holder gone): taken over under a guard, `.lock.takeover`, itself created with
//   link() (so one taker at a time); under the guard the taker reads .lock again and, if
//   it is still the stale record, renames its own fresh file over it (atomic replace).
//   Two starters racing on a stale lock thus end with one owner and one refusal. A guard
//   whose own holder died (a crash inside the few microseconds of a takeover) is removed
//   when its record names a dead process.
// Release: unlink .lock if it still holds our record.
//
// Not covered: a data directory shared by two hosts over a network file system (the
// other host's pid cannot be checked; such a lock is reported as held and must be
// removed by hand), and a second crash inside a takeover racing a third starter.

import * as nodeFs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Errors, SpoolError } from '../util/errors.js';

export const LOCK_FILE_NAME = '.lock';
const TAKEOVER_SUFFIX = '.takeover';
const LOCK_FORMAT = 1;
const MAX_ATTEMPTS = 20;

interface LockRecord {
  format: number;
  pid: number;
  startTime: string;
  bootId: string;
  hostname: string;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null. */
export function processStartTime(pid: number): string | null {
  let stat: string;
  try {
    stat = nodeFs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // No such process (or no /proc): the caller decides with kill(pid, 0).
    return null;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3] ?? null;
}

function bootId(): string {
  try {
    return nodeFs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // Not Linux: no boot id; pid liveness falls back to kill(pid, 0).
    return '';
  }
}

function ourRecord(): LockRecord {
  return { format: LOCK_FORMAT, pid: process.pid, startTime: processStartTime(process.pid) ?? '', bootId: bootId(), hostname: hostname() };
}

function parseRecord(text: string): LockRecord | null {
  try {
    const doc = JSON.parse(text) as Record<string, unknown>;
    if (doc.format !== LOCK_FORMAT || typeof doc.pid !== 'number' || !Number.isSafeInteger(doc.pid) || doc.pid <= 0) return null;
    if (typeof doc.startTime !== 'string' || typeof doc.bootId !== 'string' || typeof doc.hostname !== 'string') return null;
    return doc as unknown as LockRecord;
  } catch {
    // Not a record we wrote (a lock file is always written whole, via link): unreadable.
    return null;
  }
}

/** True when the process a record names is still running (see the file comment). */
function holderAlive(record: LockRecord, here: LockRecord): boolean {
  if (record.hostname !== here.hostname) return true;
  if (record.bootId !== '' && here.bootId !== '' && record.bootId !== here.bootId) return false;
  const startTime = processStartTime(record.pid);
  if (startTime !== null) return record.startTime === '' || startTime === record.startTime;
  if (here.startTime !== '') return false; // /proc works here and has no such pid
  try {
    process.kill(record.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readIfExists(path: string): string | null {
  try {
    return nodeFs.readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

let tempSequence = 0;

/** Writes `text` to a fresh private file next to `path` (fsynced) and returns its name. */
function writeTemp(path: string, text: string, fileMode: number): string {
  const temp = `${path}.${process.pid}-${++tempSequence}.tmp`;
  const fd = nodeFs.openSync(temp, 'wx', fileMode);
  try {
    nodeFs.writeSync(fd, text);
    nodeFs.fsyncSync(fd);
  } finally {
    nodeFs.closeSync(fd);
  }
  return temp;
}

/** link(from, to); false when `to` exists. */
function linkExclusive(from: string, to: string): boolean {
  try {
    nodeFs.linkSync(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

function lockedError(dataDir: string, path: string, record: LockRecord | null, text: string): SpoolError {
  const who = record
    ? `pid ${record.pid}${record.hostname !== hostname() ? ` on host ${record.hostname}` : ''}`
    : `an unreadable lock file (${JSON.stringify(text.slice(0, 60))}); remove ${path} if no broker uses the directory`;
  return new SpoolError(Errors.DATA_DIR_LOCKED, `data directory ${dataDir} is in use by ${who} (lock file ${path})`);
}

export class DataDirLock {
  private released = false;
  constructor(
    readonly path: string,
    private readonly text: string,
  ) {}

  /**
   * Takes the lock of `dataDir` (which must exist) or throws SpoolError DATA_DIR_LOCKED
   * naming the holder's pid. A stale lock (its process is gone) is taken over.
   */
  static acquire(dataDir: string, fileMode = 0o600): DataDirLock {
    const path = join(dataDir, LOCK_FILE_NAME);
    const here = ourRecord();
    const text = JSON.stringify(here) + '\n';
    const temp = writeTemp(path, text, fileMode);
    try {
      for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        if (linkExclusive(temp, path)) return owned(dataDir, path, text);
        const current = readIfExists(path);
        if (current === null) continue; // released meanwhile: try again
        const record = parseRecord(current);
        if (record === null || holderAlive(record, here)) throw lockedError(dataDir, path, record, current);
        if (takeOver(path, current, temp, here, fileMode)) return owned(dataDir, path, text);
      }
      throw new SpoolError(Errors.DATA_DIR_LOCKED, `data directory ${dataDir}: could not take ${path} after ${MAX_ATTEMPTS} attempts (other starters racing)`);
    } finally {
      nodeFs.rmSync(temp, { force: true });
    }
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (readIfExists(this.path) === this.text) nodeFs.rmSync(this.path, { force: true });
  }
}

const LEFTOVER_TEMP = /^\.lock(?:\.takeover)?\.(\d+)-\d+\.tmp$/;

/** The lock is ours: remove temp files that starters killed mid-acquire left behind. */
function owned(dataDir: string, path: string, text: string): DataDirLock {
  for (const name of nodeFs.readdirSync(dataDir)) {
    const match = LEFTOVER_TEMP.exec(name);
    // Only a dead starter's: a live one's temp is about to be linked (and then refused).
    if (match && Number(match[1]) !== process.pid && processStartTime(Number(match[1])) === null) {
      nodeFs.rmSync(join(dataDir, name), { force: true });
    }
  }
  return new DataDirLock(path, text);
}

/**
 * Replaces the stale lock whose text is `stale` by ours, under the takeover guard.
 * Returns false when the guard is busy or the lock changed (the caller looks again).
 */
function takeOver(path: string, stale: string, ourTemp: string, here: LockRecord, fileMode: number): boolean {
  const guard = path + TAKEOVER_SUFFIX;
  const guardTemp = writeTemp(guard, JSON.stringify(here) + '\n', fileMode);
  try {
    if (!linkExclusive(guardTemp, guard)) {
      const holder = parseRecord(readIfExists(guard) ?? '');
      // A guard left by a taker that died mid-takeover: remove it; someone retries.
      if (holder === null || !holderAlive(holder, here)) nodeFs.rmSync(guard, { force: true });
      return false;
    }
  } finally {
    nodeFs.rmSync(guardTemp, { force: true });
  }
  try {
    // Under the guard nobody else replaces .lock; a new owner can appear only through
    // link(), which fails while .lock exists. So if it still holds the stale record, the
    // rename below replaces exactly that record.
    if (readIfExists(path) !== stale) return false;
    const fresh = writeTemp(path, nodeFs.readFileSync(ourTemp, 'utf8'), fileMode);
    nodeFs.renameSync(fresh, path);
    return true;
  } finally {
    nodeFs.rmSync(guard, { force: true });
  }
}
