// Proves the record walk that the broker runs on produced batches ({ producer: true }):
// batches with a valid CRC but broken records are refused with the named code for each rule
// (CORRUPT_MESSAGE framing, INVALID_RECORD, INVALID_TIMESTAMP, UNSUPPORTED_COMPRESSION),
// good ones pass, a client's control or transactional batch is refused INVALID_RECORD
// (rule 13) while recovery and replicas ({ producer } off) take it, and, by mutating every byte of a real batch (CRC fixed up each time),
// that whatever passes validation also decodes: nothing stored can stop a reader.

import { describe, expect, it } from 'vitest';
import { Attributes, decodeBatch, encodeBatch, hasTransactionalBatch, setProducerFields, validateBatch, validateBatches } from '../../src/records/index.js';
import { isSpoolError } from '../../src/util/errors.js';
import { craftBatch, encodeRecords, fixCrc } from './craft.js';
import { expectSpoolError } from './helpers.js';

const PRODUCER = { producer: true } as const;
const LIMIT = 1048588;
const T0 = 1_700_000_000_000;

function produced(batch: Buffer, options: Parameters<typeof validateBatch>[3] = PRODUCER): void {
  validateBatch(batch, 0, LIMIT, options);
}

describe('validateBatch { producer: true } walks the records', () => {
  it('accepts real batches, uncompressed and gzip, with headers and null keys/values', () => {
    const records = [
      { key: 'k', value: 'v', headers: { h: 'x' }, timestamp: T0 },
      { key: null, value: null, timestamp: T0 + 5 },
      { value: Buffer.alloc(300, 1), timestamp: T0 - 100 },
    ];
    for (const compression of ['none', 'gzip'] as const) {
      const batch = encodeBatch(records, { compression });
      expect(validateBatches(batch, LIMIT, PRODUCER).recordCount).toBe(3);
    }
  });

  it('a hand-built batch equal to what the builder writes passes', () => {
    const section = encodeRecords([{ offsetDelta: 0 }, { offsetDelta: 1, timestampDelta: 3 }]);
    produced(craftBatch(section, { recordCount: 2 }));
    produced(craftBatch(section, { recordCount: 2, codec: 1 }));
  });

  it('garbage records under a valid CRC: CORRUPT_MESSAGE (uncompressed and gzip)', () => {
    const garbage = Buffer.alloc(40, 0xff); // varints that never end
    expectSpoolError(() => produced(craftBatch(garbage, { recordCount: 2 })), 'CORRUPT_MESSAGE');
    expectSpoolError(() => produced(craftBatch(garbage, { recordCount: 2, codec: 1 })), 'CORRUPT_MESSAGE');
    // Without { producer } only the header and CRC are checked, as recovery needs.
    expect(() => validateBatch(craftBatch(garbage, { recordCount: 2 }), 0)).not.toThrow();
  });

  it('fewer or more records than declared, or bytes left over: CORRUPT_MESSAGE', () => {
    const two = encodeRecords([{ offsetDelta: 0 }, { offsetDelta: 1 }]);
    expectSpoolError(() => produced(craftBatch(two, { recordCount: 3 })), 'CORRUPT_MESSAGE');
    expectSpoolError(() => produced(craftBatch(two, { recordCount: 1 })), 'CORRUPT_MESSAGE');
    expectSpoolError(() => produced(craftBatch(Buffer.concat([two, Buffer.alloc(9)]), { recordCount: 2 })), 'CORRUPT_MESSAGE');
    expectSpoolError(() => produced(craftBatch(two, { recordCount: 3, codec: 1 })), 'CORRUPT_MESSAGE');
  });

  it('a record whose fields overrun or underrun its length: CORRUPT_MESSAGE', () => {
    const one = encodeRecords([{ offsetDelta: 0, value: Buffer.from('hello') }]);
    const longer = Buffer.from(one);
    longer[0] = longer[0]! + 2; // length says 1 more byte than the fields use
    expectSpoolError(() => produced(craftBatch(Buffer.concat([longer, Buffer.alloc(1)]), { recordCount: 1 })), 'CORRUPT_MESSAGE');
    const negative = Buffer.from(one);
    negative[negative.length - 7] = 0x05; // valueLength -3
    expectSpoolError(() => produced(craftBatch(negative, { recordCount: 1 })), 'CORRUPT_MESSAGE');
  });

  it('offset deltas not 0..n-1 in order: INVALID_RECORD', () => {
    for (const deltas of [[1, 2], [0, 0], [1, 0], [0, 2]]) {
      const section = encodeRecords(deltas.map((offsetDelta) => ({ offsetDelta })));
      expectSpoolError(() => produced(craftBatch(section, { recordCount: 2 })), 'INVALID_RECORD');
      expectSpoolError(() => produced(craftBatch(section, { recordCount: 2, codec: 1 })), 'INVALID_RECORD');
    }
  });

  it('lastOffsetDelta other than recordCount - 1: CORRUPT_MESSAGE', () => {
    const section = encodeRecords([{ offsetDelta: 0 }, { offsetDelta: 1 }]);
    expectSpoolError(() => produced(craftBatch(section, { recordCount: 2, lastOffsetDelta: 5 })), 'CORRUPT_MESSAGE');
  });

  it('a null header key: INVALID_RECORD; a null header value is legal', () => {
    const nullKey = encodeRecords([{ offsetDelta: 0, headers: [[null, Buffer.from('v')]] }]);
    expectSpoolError(() => produced(craftBatch(nullKey, { recordCount: 1 })), 'INVALID_RECORD');
    produced(craftBatch(encodeRecords([{ offsetDelta: 0, headers: [[Buffer.from('k'), null]] }]), { recordCount: 1 }));
  });

  it('a gzip batch claiming 2^31 - 1 records is refused before inflating: INVALID_RECORD', () => {
    const section = encodeRecords([{ offsetDelta: 0 }]);
    expectSpoolError(() => produced(craftBatch(section, { recordCount: 2 ** 31 - 1, codec: 1 })), 'INVALID_RECORD');
    // And a count that fits the bound but not the bytes is caught by the walk.
    expectSpoolError(() => produced(craftBatch(section, { recordCount: 1000, codec: 1 })), 'CORRUPT_MESSAGE');
  });

  it('negative timestamps other than -1: INVALID_TIMESTAMP; -1 (none) is accepted', () => {
    const section = encodeRecords([{ offsetDelta: 0, timestampDelta: 0 }, { offsetDelta: 1, timestampDelta: -5 }]);
    expectSpoolError(() => produced(craftBatch(section, { recordCount: 2, baseTimestamp: 2 })), 'INVALID_TIMESTAMP');
    produced(craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 1, baseTimestamp: -1 }));
    expectSpoolError(() => produced(craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 1, maxTimestamp: -2 })), 'INVALID_TIMESTAMP');
  });

  it('message.timestamp.difference.max.ms against the broker clock (CreateTime only)', () => {
    const batch = craftBatch(encodeRecords([{ offsetDelta: 0 }, { offsetDelta: 1, timestampDelta: 60_000 }]), { recordCount: 2, baseTimestamp: T0 });
    produced(batch, { producer: true, timestamps: { nowMs: T0, differenceMaxMs: -1 } });
    produced(batch, { producer: true, timestamps: { nowMs: T0, differenceMaxMs: 60_000 } });
    produced(batch, { producer: true, timestamps: { nowMs: T0 + 120_000, differenceMaxMs: 120_000 } });
    expectSpoolError(() => produced(batch, { producer: true, timestamps: { nowMs: T0, differenceMaxMs: 59_999 } }), 'INVALID_TIMESTAMP');
    expectSpoolError(() => produced(batch, { producer: true, timestamps: { nowMs: T0 + 120_001, differenceMaxMs: 120_000 } }), 'INVALID_TIMESTAMP');
    // -1 (no timestamp) is never judged by distance.
    produced(craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 1, baseTimestamp: -1 }), { producer: true, timestamps: { nowMs: T0, differenceMaxMs: 0 } });
    // LogAppendTime: record timestamps are not the broker's concern.
    const logAppend = craftBatch(encodeRecords([{ offsetDelta: 0 }]), { recordCount: 1, baseTimestamp: 5, attributeBits: 0x08 });
    produced(logAppend, { producer: true, timestamps: { nowMs: T0, differenceMaxMs: 0 } });
  });

  it('every single-byte mutation that passes validation also decodes (uncompressed and gzip)', () => {
    const records = [
      { key: 'k', value: 'v1', headers: { h: 'x' }, timestamp: T0 },
      { key: null, value: 'hello', timestamp: T0 + 5 },
    ];
    for (const compression of ['none', 'gzip'] as const) {
      const original = encodeBatch(records, { compression });
      let accepted = 0;
      for (let at = 21; at < original.length; at++) {
        for (const xor of [0x01, 0x80, 0xff]) {
          const mutated = Buffer.from(original);
          mutated[at]! ^= xor;
          fixCrc(mutated);
          let passed = false;
          try {
            validateBatch(mutated, 0, LIMIT, PRODUCER);
            passed = true;
          } catch (error) {
            expect(isSpoolError(error), String(error)).toBe(true);
          }
          if (passed) {
            accepted++;
            expect(() => decodeBatch(mutated, 0), `byte ${at} ^ ${xor}`).not.toThrow();
          }
        }
      }
      expect(accepted).toBeGreaterThan(0); // e.g. value bytes and timestamps may change freely
    }
  });
});

describe('rule 13: a client may not write a control or a transactional batch', () => {
  const section = encodeRecords([{ offsetDelta: 0 }]);
  it('the control bit, alone or with the transactional bit: INVALID_RECORD naming it; without { producer } it passes', () => {
    for (const bits of [Attributes.CONTROL, Attributes.CONTROL | Attributes.TRANSACTIONAL]) {
      for (const codec of [0, 1]) {
        const batch = craftBatch(section, { recordCount: 1, codec, attributeBits: bits });
        expectSpoolError(() => produced(batch), 'INVALID_RECORD');
        expect(() => produced(batch)).toThrow(/control/);
        expect(() => validateBatch(batch, 0, LIMIT)).not.toThrow();
      }
    }
  });

  it('the transactional bit: INVALID_RECORD naming it; an idempotent batch without it passes', () => {
    const transactional = craftBatch(section, { recordCount: 1, attributeBits: Attributes.TRANSACTIONAL });
    expectSpoolError(() => produced(transactional), 'INVALID_RECORD');
    expect(() => produced(transactional)).toThrow(/transactional/);
    expect(() => validateBatch(transactional, 0, LIMIT)).not.toThrow();
    const idempotent = craftBatch(section, { recordCount: 1 });
    setProducerFields(idempotent, 0, 42, 3, 0);
    expect(() => produced(idempotent)).not.toThrow();
  });

  it('a flipped control bit under a stale CRC is CORRUPT_MESSAGE, not INVALID_RECORD', () => {
    const batch = craftBatch(section, { recordCount: 1 });
    batch[22] = batch[22]! | Attributes.CONTROL; // attributes' low byte, CRC not fixed
    expectSpoolError(() => produced(batch), 'CORRUPT_MESSAGE');
  });

  it('hasTransactionalBatch finds the bit in any whole batch and stops at a partial one', () => {
    const plain = craftBatch(section, { recordCount: 1 });
    const transactional = craftBatch(section, { recordCount: 1, attributeBits: Attributes.TRANSACTIONAL });
    expect(hasTransactionalBatch(Buffer.concat([plain, plain]))).toBe(false);
    expect(hasTransactionalBatch(Buffer.concat([plain, transactional]))).toBe(true);
    expect(hasTransactionalBatch(Buffer.concat([plain, transactional.subarray(0, transactional.length - 1)]))).toBe(false);
    expect(hasTransactionalBatch(Buffer.alloc(0))).toBe(false);
  });
});
