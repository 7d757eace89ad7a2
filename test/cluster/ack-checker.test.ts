// Proves the acknowledged-messages checker (test/helpers/ack-checker.ts) counts what it says:
// a clean log gives zeros; a missing acked message is lost; a second copy is duplicated (and
// not lost); an acked message read before a lower sequence of its producer and partition is
// reordered; one at another offset than acked is moved; unacked extras in the log are fine;
// the ack log round-trips through its JSON-lines file with a torn last line skipped. Pure, no
// broker.

import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AckLog, checkAcks, messageValue, readJsonLines, type AckedMessage, type ReadMessage } from '../helpers/ack-checker.js';

const ack = (sequence: number, offset: number, partition = 0, producer = 'a'): AckedMessage => ({ producer, key: producer, partition, offset, sequence });
const read = (sequence: number, offset: number, partition = 0, producer = 'a'): ReadMessage => ({ partition, offset, value: messageValue(producer, sequence) });

describe('ack checker', () => {
  it('counts nothing on a clean log, with unacked extras and two producers', () => {
    const acked = [ack(0, 0), ack(1, 1), ack(0, 2, 0, 'b'), ack(2, 0, 1)];
    const log = [read(0, 0), read(1, 1), read(0, 2, 0, 'b'), read(3, 3), read(2, 0, 1)];
    expect(checkAcks(acked, log)).toMatchObject({ acked: 4, read: 5, lost: 0, duplicated: 0, reordered: 0, moved: 0 });
  });

  it('counts lost, duplicated, reordered and moved', () => {
    const acked = [ack(0, 0), ack(1, 1), ack(2, 2), ack(3, 3), ack(4, 4)];
    // 1 missing; 0 twice; 3 before 2 (so both moved); 4 at offset 5 instead of 4.
    const log = [read(0, 0), read(0, 1), read(3, 2), read(2, 3), read(4, 5)];
    const result = checkAcks(acked, log);
    expect(result).toMatchObject({ lost: 1, duplicated: 1, reordered: 1, moved: 3 });
    expect(result.examples.join('\n')).toContain('lost a:1');
  });

  it('does not count a retried batch as moved when its acknowledged copy is where the ack said', () => {
    // The first, unacknowledged attempt at 0-1 survived; the retry was acknowledged at 2-3.
    const result = checkAcks([ack(0, 2), ack(1, 3)], [read(0, 0), read(1, 1), read(0, 2), read(1, 3)]);
    expect(result).toMatchObject({ lost: 0, duplicated: 2, reordered: 0, moved: 0 });
  });

  it('reads an ack log back, skipping a torn last line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-acklog-'));
    try {
      const log = new AckLog(join(dir, 'acks.jsonl'));
      log.append([ack(0, 0), ack(1, 1)]);
      appendFileSync(log.path, '{"producer":"a","ke');
      expect(readJsonLines<AckedMessage>(log.path)).toEqual([ack(0, 0), ack(1, 1)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
