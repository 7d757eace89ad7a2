// Proves the snappy, lz4 and zstd codecs: hand-built vectors decoded byte for byte (raw
// snappy blocks, a xerial-framed snappy stream as the Java client writes it, an LZ4 frame
// with an overlapping match), sections compressed by the lz4 and zstd command-line tools
// (fixtures) decoded to the records spool encoded, round trips through the builder for each
// codec spool writes, validation on produce accepting them, every codec's decompression
// stopping at the bound (INVALID_RECORD), and damaged input giving SpoolErrors only.

import { describe, expect, it } from 'vitest';
import { compressRecords, decompressRecords } from '../../src/records/compression.js';
import { XERIAL_MAGIC } from '../../src/records/codecs/snappy.js';
import { Compression, decodeBatch, encodeBatch, validateBatch } from '../../src/records/index.js';
import { isSpoolError } from '../../src/util/errors.js';
import { craftBatch } from './craft.js';
import { expectSpoolError, readHexFixture } from './helpers.js';

const MIB = 1024 * 1024;
const LIMIT = 1048588;

/** The 20 records whose section the CLI fixtures hold (same generator as when they were made). */
const FIXTURE_RECORDS = Array.from({ length: 20 }, (_, i) => ({
  key: `key-${i % 4}`,
  value: `value ${i} `.repeat(8),
  headers: { n: String(i) },
  timestamp: 1_700_000_000_000 + i,
}));
const FIXTURE_BATCH = encodeBatch(FIXTURE_RECORDS);
const FIXTURE_SECTION = FIXTURE_BATCH.subarray(61);

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

/** Java's framing: magic, version 1, compatible 1, then [int32 BE length, raw block]... */
function xerial(...blocks: Buffer[]): Buffer {
  const header = Buffer.concat([XERIAL_MAGIC, hex('00000001 00000001')]);
  return Buffer.concat([header, ...blocks.flatMap((block) => [int32(block.length), block])]);
}

function int32(value: number): Buffer {
  const buf = Buffer.alloc(4);
  buf.writeInt32BE(value);
  return buf;
}

// Raw snappy blocks built by hand from the format:
//   0c | 08 61 62 63 | 15 03   length 12 | literal "abc" (tag (3-1)<<2) | copy-1: len 9 ((9-4)<<2|1), offset 3
//   05 | 10 68 65 6c 6c 6f     length 5  | literal "hello" (tag (5-1)<<2)
const SNAPPY_ABC = hex('0c 08 616263 15 03');
const SNAPPY_HELLO = hex('05 10 68656c6c6f');

function decodesTo(codec: number, compressed: Buffer, expected: Buffer): void {
  expect(decompressRecords(codec, compressed, MIB).toString('hex')).toBe(expected.toString('hex'));
}

function expectRecords(batch: Buffer): void {
  validateBatch(batch, 0, LIMIT, { producer: true });
  const records = decodeBatch(batch, 0).records;
  expect(records.map((r) => [r.key?.toString(), r.value?.toString(), r.headers[0]![1].toString(), r.timestamp])).toEqual(
    FIXTURE_RECORDS.map((r, i) => [r.key, r.value, String(i), r.timestamp]),
  );
}

describe('snappy (codec 2)', () => {
  it('decodes hand-built raw blocks', () => {
    decodesTo(Compression.snappy, SNAPPY_ABC, Buffer.from('abcabcabcabc'));
    decodesTo(Compression.snappy, SNAPPY_HELLO, Buffer.from('hello'));
  });

  it('decodes a hand-built xerial stream (Java client framing), one block and two', () => {
    const framed = xerial(SNAPPY_ABC, SNAPPY_HELLO);
    expect(framed.subarray(0, 16).toString('hex')).toBe('82534e415050590000000001' + '00000001');
    decodesTo(Compression.snappy, framed, Buffer.from('abcabcabcabchello'));
    decodesTo(Compression.snappy, xerial(SNAPPY_HELLO), Buffer.from('hello'));
  });

  it('a batch with a xerial-framed section validates and decodes', () => {
    const chunks = [FIXTURE_SECTION.subarray(0, 1000), FIXTURE_SECTION.subarray(1000)];
    const batch = craftBatch(FIXTURE_SECTION, { recordCount: 20, codec: Compression.snappy, compress: () => xerial(...chunks.map((c) => compressRecords(Compression.snappy, c))) });
    expectRecords(batch);
  });

  it('refuses a block whose declared length passes the bound before decompressing', () => {
    expectSpoolError(() => decompressRecords(Compression.snappy, hex('80 80 80 80 08 00'), MIB), 'INVALID_RECORD'); // claims 2^31
    const zeros = compressRecords(Compression.snappy, Buffer.alloc(10 * MIB));
    expectSpoolError(() => decompressRecords(Compression.snappy, zeros, MIB), 'INVALID_RECORD');
    expectSpoolError(() => decompressRecords(Compression.snappy, xerial(zeros.subarray(0, 200)), MIB), 'INVALID_RECORD');
  });
});

describe('lz4 (codec 3, LZ4 frame)', () => {
  it('decodes a hand-built frame with an overlapping match', () => {
    // magic | FLG 60 (v01, independent blocks) BD 40 (64 KiB) HC 82 | block 6 bytes:
    // token 35 (3 literals, match 5+4) "abc" offset 0003 | end mark
    const frame = hex('04224d18 60 40 82 06000000 35 616263 0300 00000000');
    decodesTo(Compression.lz4, frame, Buffer.from('abcabcabcabc'));
    // The same 12 bytes stored uncompressed (bit 31 of the block size).
    decodesTo(Compression.lz4, hex('04224d18 60 40 82 0c000080 616263616263616263616263 00000000'), Buffer.from('abcabcabcabc'));
  });

  it('decodes a section compressed by the lz4 CLI (linked blocks, content checksum)', () => {
    const compressed = readHexFixture('lz4-frame-section.hex');
    decodesTo(Compression.lz4, compressed, FIXTURE_SECTION);
    expectRecords(craftBatch(FIXTURE_SECTION, { recordCount: 20, codec: Compression.lz4, compress: () => compressed }));
  });

  it('stops at the bound', () => {
    const zeros = compressRecords(Compression.lz4, Buffer.alloc(10 * MIB));
    expect(decompressRecords(Compression.lz4, zeros, 10 * MIB).length).toBe(10 * MIB);
    expectSpoolError(() => decompressRecords(Compression.lz4, zeros, MIB), 'INVALID_RECORD');
  });
});

describe('zstd (codec 4, decode only)', () => {
  it('decodes sections compressed by the zstd CLI, with and without a content size', () => {
    for (const name of ['zstd-content-size-section.hex', 'zstd-streaming-section.hex']) {
      const compressed = readHexFixture(name);
      decodesTo(Compression.zstd, compressed, FIXTURE_SECTION);
      expectRecords(craftBatch(FIXTURE_SECTION, { recordCount: 20, codec: Compression.zstd, compress: () => compressed }));
    }
  });

  it('stops at the bound: a 338-byte frame of 10 MiB of zeros; a huge declared window or size', () => {
    const zeros = readHexFixture('zstd-zeros-10mib.hex');
    expect(decompressRecords(Compression.zstd, zeros, 10 * MIB).length).toBe(10 * MIB);
    expectSpoolError(() => decompressRecords(Compression.zstd, zeros, MIB), 'INVALID_RECORD');
    // Window descriptor f8: 2^41 bytes; then an empty last raw block.
    expectSpoolError(() => decompressRecords(Compression.zstd, hex('28b52ffd 00 f8 010000'), MIB), 'INVALID_RECORD');
    // Single segment, 4-byte content size 0x7fffffff.
    expectSpoolError(() => decompressRecords(Compression.zstd, hex('28b52ffd a0 ffffff7f 010000'), MIB), 'INVALID_RECORD');
  });

  it('the builder does not write zstd', () => {
    expectSpoolError(() => compressRecords(Compression.zstd, Buffer.from('x')), 'UNSUPPORTED_COMPRESSION');
  });
});

describe('every codec', () => {
  it('round trips through the builder and passes produce validation (gzip, snappy, lz4)', () => {
    for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
      const batch = encodeBatch(FIXTURE_RECORDS, { compression });
      expect(batch.readInt16BE(21) & 7).toBe(Compression[compression]);
      expectRecords(batch);
    }
  });

  it('damaged compressed bytes give SpoolErrors, never a crash or a RangeError', () => {
    const sections: Array<[number, Buffer]> = [
      [Compression.gzip, compressRecords(Compression.gzip, FIXTURE_SECTION)],
      [Compression.snappy, compressRecords(Compression.snappy, FIXTURE_SECTION)],
      [Compression.snappy, xerial(compressRecords(Compression.snappy, FIXTURE_SECTION))],
      [Compression.lz4, readHexFixture('lz4-frame-section.hex')],
      [Compression.zstd, readHexFixture('zstd-streaming-section.hex')],
      [Compression.zstd, readHexFixture('zstd-content-size-section.hex')],
    ];
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (const [codec, section] of sections) {
      for (let trial = 0; trial < 300; trial++) {
        const damaged = Buffer.from(section);
        const cut = trial % 10 === 0;
        if (cut) {
          const length = random(damaged.length);
          checkDamaged(codec, damaged.subarray(0, length));
          continue;
        }
        for (let flips = 1 + random(3); flips > 0; flips--) {
          const at = random(damaged.length);
          damaged[at] = damaged[at]! ^ (1 << random(8));
        }
        checkDamaged(codec, damaged);
      }
    }
  });
});

function checkDamaged(codec: number, damaged: Buffer): void {
  try {
    const batch = craftBatch(damaged, { recordCount: 20, codec, compress: () => damaged });
    validateBatch(batch, 0, LIMIT, { producer: true });
    decodeBatch(batch, 0); // whatever validation accepts must decode
  } catch (error) {
    expect(isSpoolError(error), `codec ${codec}: ${String(error)}`).toBe(true);
  }
}
