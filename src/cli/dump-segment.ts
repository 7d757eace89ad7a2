// `spool dump-segment <file>`: an offline look at one segment file, for a human (like
// Kafka's kafka-dump-log). A .log prints each batch (offsets, count, byte position and
// size, timestamps, compression, whether its CRC-32C holds) and, with --records, each
// record; a .index / .timeindex prints its header and entries. Files are read batch by
// batch with positional reads, so a 1 GiB segment is never loaded whole. It needs no
// broker and never writes to the file.

import type { Command } from 'commander';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { decodeBatch, LOG_OVERHEAD, BATCH_HEADER_BYTES, readBatchHeader, validateBatch, type BatchHeader } from '../records/index.js';
import { INDEX_HEADER_BYTES, OffsetIndexFormat, TimeIndexFormat, readInt64, type IndexFormat } from '../storage/index-format.js';
import { UsageError } from './args.js';
import { OutputWriter, formatTime } from './output.js';

const COMPRESSION_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
/** A batch claiming more than this is treated as garbage rather than allocated. */
const MAX_BATCH_BYTES = 256 * 1024 * 1024;

export function registerDumpSegment(program: Command): void {
  program
    .command('dump-segment <file>')
    .description('print the batches of a .log, or the entries of a .index / .timeindex (offline)')
    .option('--records', 'also print every record of each batch (key, value, headers)')
    .action(async (file: string, options: { records?: boolean }) => {
      const out = new OutputWriter(process.stdout);
      const write = (line: string): Promise<void> | void => {
        out.write(`${line}\n`);
        return out.mustWait ? out.drained() : undefined;
      };
      try {
        if (file.endsWith('.log')) await dumpLog(file, options.records === true, write, () => out.closed);
        else if (file.endsWith('.timeindex')) await dumpIndex(file, TimeIndexFormat, write);
        else if (file.endsWith('.index')) await dumpIndex(file, OffsetIndexFormat, write);
        else throw new UsageError(`dump-segment reads .log, .index or .timeindex files, not '${basename(file)}'`);
      } finally {
        await out.end();
      }
    });
}

type WriteLine = (line: string) => Promise<void> | void;

/** The segment's base offset from its 20-digit file name, or 0 when the name is not one. */
export function segmentBaseOffset(file: string): number {
  const match = /^(\d{20})\.(log|index|timeindex)$/.exec(basename(file));
  return match ? Number(match[1]) : 0;
}

function openForReading(file: string): { fd: number; size: number } {
  try {
    const fd = openSync(file, 'r');
    return { fd, size: fstatSync(fd).size };
  } catch (error) {
    throw new UsageError(`cannot open ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, buffer, filled, length - filled, position + filled);
    if (read === 0) return buffer.subarray(0, filled);
    filled += read;
  }
  return buffer;
}

async function dumpLog(file: string, withRecords: boolean, write: WriteLine, stopped: () => boolean): Promise<void> {
  const { fd, size } = openForReading(file);
  try {
    await write(`dumping ${file} (${size} bytes, segment base offset ${segmentBaseOffset(file)})`);
    let position = 0;
    let batches = 0;
    let records = 0;
    let invalid = 0;
    while (position < size && !stopped()) {
      const remaining = size - position;
      if (remaining < LOG_OVERHEAD) {
        await write(`position: ${position} trailing ${remaining} bytes: not a whole batch header`);
        break;
      }
      const lengthBytes = readExactly(fd, LOG_OVERHEAD, position);
      const totalBytes = lengthBytes.readInt32BE(8) + LOG_OVERHEAD;
      if (totalBytes < BATCH_HEADER_BYTES || totalBytes > MAX_BATCH_BYTES) {
        await write(`position: ${position} batchLength ${totalBytes - LOG_OVERHEAD} is not a plausible batch: stopping (${remaining} bytes left)`);
        break;
      }
      if (totalBytes > remaining) {
        await write(`position: ${position} torn batch: needs ${totalBytes} bytes, ${remaining} present`);
        break;
      }
      const batch = readExactly(fd, totalBytes, position);
      const header = readBatchHeader(batch, 0);
      let status = 'valid';
      try {
        validateBatch(batch, 0);
      } catch (error) {
        status = `INVALID (${(error as Error).message})`;
        invalid++;
      }
      await write(formatBatch(header, position, status));
      if (withRecords) await writeRecords(batch, write);
      batches++;
      records += header.recordCount;
      position += totalBytes;
    }
    await write(`${batches} batch${batches === 1 ? '' : 'es'}, ${records} record${records === 1 ? '' : 's'}, ${invalid} invalid, ${position} of ${size} bytes read`);
  } finally {
    closeSync(fd);
  }
}

function formatBatch(header: BatchHeader, position: number, crcStatus: string): string {
  const compression = COMPRESSION_NAMES[header.compression] ?? `unknown(${header.compression})`;
  return [
    `baseOffset: ${header.baseOffset}`,
    `lastOffset: ${header.baseOffset + header.lastOffsetDelta}`,
    `count: ${header.recordCount}`,
    `position: ${position}`,
    `size: ${header.totalBytes}`,
    `baseTimestamp: ${formatTime(header.baseTimestamp)}`,
    `maxTimestamp: ${formatTime(header.maxTimestamp)}`,
    `compression: ${compression}`,
    `crc: ${header.crc.toString(16).padStart(8, '0')} ${crcStatus}`,
  ].join(' | ');
}

async function writeRecords(batch: Buffer, write: WriteLine): Promise<void> {
  let decoded;
  try {
    decoded = decodeBatch(batch, 0);
  } catch (error) {
    await write(`  (records not decodable: ${(error as Error).message})`);
    return;
  }
  for (const record of decoded.records) {
    const headers = record.headers.map(([name, value]) => `${name}=${value.toString('utf8')}`).join(',');
    await write(
      `  offset: ${record.offset} | timestamp: ${formatTime(record.timestamp)} | key: ${showBytes(record.key)} | value: ${showBytes(record.value)}${headers === '' ? '' : ` | headers: ${headers}`}`,
    );
  }
}

/** UTF-8 text as JSON (quoted, escaped), null as null, so odd bytes stay readable on one line. */
function showBytes(bytes: Buffer | null): string {
  return bytes === null ? 'null' : JSON.stringify(bytes.toString('utf8'));
}

async function dumpIndex(file: string, format: IndexFormat, write: WriteLine): Promise<void> {
  const { fd, size } = openForReading(file);
  try {
    const baseOffset = segmentBaseOffset(file);
    await write(`dumping ${file} (${size} bytes, ${format.name}, segment base offset ${baseOffset})`);
    if (size < INDEX_HEADER_BYTES) {
      await write(`header: missing (${size} bytes; the broker rebuilds this index from the log)`);
      return;
    }
    const header = readExactly(fd, INDEX_HEADER_BYTES, 0);
    const magic = header.readUInt32BE(0);
    const version = header.readUInt16BE(4);
    const entryBytes = header.readUInt16BE(6);
    const magicText = header.subarray(0, 4).toString('latin1');
    const headerOk = magic === format.magic && version === format.version && entryBytes === format.entryBytes;
    await write(`header: magic ${magicText} version ${version} entryBytes ${entryBytes}${headerOk ? '' : ` (expected ${format.name} v${format.version}, ${format.entryBytes}-byte entries)`}`);
    if (!headerOk) return;
    const entryCount = Math.floor((size - INDEX_HEADER_BYTES) / entryBytes);
    const trailing = (size - INDEX_HEADER_BYTES) % entryBytes;
    const chunkEntries = 4096;
    for (let first = 0; first < entryCount; first += chunkEntries) {
      const count = Math.min(chunkEntries, entryCount - first);
      const data = readExactly(fd, count * entryBytes, INDEX_HEADER_BYTES + first * entryBytes);
      for (let i = 0; i < count; i++) {
        const at = i * entryBytes;
        if (format === TimeIndexFormat) {
          const timestamp = readInt64(data, at);
          const relativeOffset = data.readUInt32BE(at + 8);
          await write(`timestamp: ${formatTime(timestamp)} (${timestamp}) | relativeOffset: ${relativeOffset} | offset: ${baseOffset + relativeOffset}`);
        } else {
          const relativeOffset = data.readUInt32BE(at);
          const position = data.readUInt32BE(at + 4);
          await write(`relativeOffset: ${relativeOffset} | offset: ${baseOffset + relativeOffset} | position: ${position}`);
        }
      }
    }
    await write(`${entryCount} entr${entryCount === 1 ? 'y' : 'ies'}${trailing > 0 ? `, ${trailing} trailing bytes (a partial entry)` : ''}`);
  } finally {
    closeSync(fd);
  }
}
