// Proves the offset and time indexes: lookups return the nearest entry at or below the
// target (binary search against a linear reference over random entries), entries must
// grow, and the file images match golden bytes (header 'SPOI'/'SPTI', version 1, entry
// size) and decode back; a wrong header, a partial entry or a disorder is refused.

import { describe, expect, it } from 'vitest';
import { checkIndexFile, INDEX_HEADER_BYTES, OffsetIndexFormat, TimeIndexFormat } from '../../src/storage/index-format.js';
import { OffsetIndex } from '../../src/storage/offset-index.js';
import { TimeIndex } from '../../src/storage/time-index.js';

describe('OffsetIndex', () => {
  it('finds the nearest entry at or below a relative offset', () => {
    const index = new OffsetIndex(2);
    const entries: Array<[number, number]> = [];
    let relativeOffset = 0;
    let position = 0;
    for (let i = 0; i < 1000; i++) {
      relativeOffset += 1 + Math.floor(Math.random() * 10);
      position += 61 + Math.floor(Math.random() * 5000);
      index.append(relativeOffset, position);
      entries.push([relativeOffset, position]);
    }
    for (let target = 0; target < relativeOffset + 20; target += 3) {
      let expected = 0;
      for (const [r, p] of entries) if (r <= target) expected = p;
      expect(index.lookup(target)).toBe(expected);
    }
  });

  it('refuses an entry that is not past the last one', () => {
    const index = new OffsetIndex();
    index.append(5, 100);
    expect(() => index.append(5, 200)).toThrow();
    expect(() => index.append(6, 100)).toThrow();
  });

  it('has a versioned file format (golden bytes) and round-trips', () => {
    const index = new OffsetIndex();
    index.append(0, 0);
    index.append(3, 4096);
    const file = index.encodeFile();
    expect(file.toString('hex')).toBe('53504f49' + '0001' + '0008' + '00000000' + '00000000' + '00000003' + '00001000');
    const decoded = OffsetIndex.decode(file)!;
    expect(decoded.entryCount).toBe(2);
    expect(decoded.entry(1)).toEqual({ relativeOffset: 3, position: 4096 });
    expect(index.takePending()!.length).toBe(16);
    expect(index.takePending()).toBeNull();
  });

  it('refuses a bad header, a partial entry and entries out of order', () => {
    const index = new OffsetIndex();
    index.append(1, 10);
    index.append(2, 20);
    const file = index.encodeFile();
    expect(OffsetIndex.decode(file.subarray(0, file.length - 3))).toBeNull();
    const badMagic = Buffer.from(file);
    badMagic[0] = 0;
    expect(OffsetIndex.decode(badMagic)).toBeNull();
    const badVersion = Buffer.from(file);
    badVersion.writeUInt16BE(2, 4);
    expect(OffsetIndex.decode(badVersion)).toBeNull();
    const disorder = Buffer.from(file);
    disorder.writeUInt32BE(0, INDEX_HEADER_BYTES + 8);
    expect(OffsetIndex.decode(disorder)).toBeNull();
    expect(checkIndexFile(file, TimeIndexFormat)).toBeNull();
    expect(checkIndexFile(file, OffsetIndexFormat)).toBe(2);
  });
});

describe('TimeIndex', () => {
  it('starts a search at the last entry with a smaller timestamp', () => {
    const index = new TimeIndex(1);
    index.append(1000, 0);
    index.append(2000, 10);
    index.append(2000, 15);
    index.append(5000, 20);
    expect(index.lookup(500)).toBe(0);
    expect(index.lookup(1000)).toBe(0);
    expect(index.lookup(1001)).toBe(0);
    expect(index.lookup(2000)).toBe(0);
    expect(index.lookup(2001)).toBe(15);
    expect(index.lookup(9999)).toBe(20);
  });

  it('refuses a smaller timestamp or a relative offset that does not grow', () => {
    const index = new TimeIndex();
    index.append(1000, 5);
    expect(() => index.append(999, 6)).toThrow();
    expect(() => index.append(1000, 5)).toThrow();
  });

  it('has a versioned file format (golden bytes) with int64 timestamps, -1 included', () => {
    const index = new TimeIndex();
    index.append(-1, 0);
    index.append(1_700_000_000_123, 7);
    const file = index.encodeFile();
    expect(file.toString('hex')).toBe('53505449' + '0001' + '000c' + 'ffffffffffffffff' + '00000000' + '0000018bcfe5687b' + '00000007');
    const decoded = TimeIndex.decode(file)!;
    expect(decoded.entry(0)).toEqual({ timestamp: -1, relativeOffset: 0 });
    expect(decoded.entry(1)).toEqual({ timestamp: 1_700_000_000_123, relativeOffset: 7 });
  });
});
