// The acknowledged-messages checker of issue #12: it takes what the producers themselves logged
// as acknowledged (one JSON line per ack: producer, key, partition, offset, sequence) and what
// was read back from the cluster after all faults (partition, offset, value), and counts
//   lost        acked messages not read back at all (must be 0 under acks=all);
//   duplicated  extra copies read back of one (producer, sequence) (a retry after a lost
//               answer writes twice: allowed by at-least-once, counted so it is visible);
//   reordered   acked messages read back (first copy) before an acked message of the same
//               producer and partition with a lower sequence;
//   moved       acked messages with no copy at the offset the ack named (under acks=all the
//               acknowledged offset is final: a leader change must not move it; an earlier,
//               unacknowledged copy of a retried batch may sit before it).
// Every message's value is `<producer>:<sequence>` (messageValue), so a read-back record names
// its origin without a side table. Used by the fault tests and by `npx tsx bench/cluster-check.ts`.

import { appendFileSync, readFileSync } from 'node:fs';
import { decodeBatch, forEachBatch } from '../../src/records/index.js';
import { RawClient } from './raw-client.js';

export interface AckedMessage {
  producer: string;
  key: string;
  partition: number;
  offset: number;
  sequence: number;
}

export interface ReadMessage {
  partition: number;
  offset: number;
  value: string;
}

export interface CheckResult {
  acked: number;
  read: number;
  lost: number;
  duplicated: number;
  reordered: number;
  moved: number;
  /** Up to 10 examples of each problem, for a failing test's message. */
  examples: string[];
}

export function messageValue(producer: string, sequence: number): string {
  return `${producer}:${sequence}`;
}

function parseValue(value: string): { producer: string; sequence: number } | null {
  const at = value.lastIndexOf(':');
  if (at <= 0) return null;
  const sequence = Number(value.slice(at + 1));
  return Number.isSafeInteger(sequence) ? { producer: value.slice(0, at), sequence } : null;
}

export function checkAcks(acked: readonly AckedMessage[], read: readonly ReadMessage[]): CheckResult {
  const examples: string[] = [];
  const note = (text: string): void => {
    if (examples.length < 10) examples.push(text);
  };
  // First copy of each (producer, sequence) in log order, per partition; copies counted.
  const sorted = [...read].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const first = new Map<string, ReadMessage>();
  const offsets = new Map<string, Set<string>>();
  let duplicated = 0;
  for (const message of sorted) {
    const origin = parseValue(message.value);
    if (!origin) continue;
    const id = messageValue(origin.producer, origin.sequence);
    const at = offsets.get(id) ?? new Set<string>();
    at.add(`${message.partition}/${message.offset}`);
    offsets.set(id, at);
    if (first.has(id)) {
      duplicated++;
      note(`duplicated ${id} at ${message.partition}/${message.offset}`);
    } else first.set(id, message);
  }
  let lost = 0;
  let moved = 0;
  const ackedIds = new Set<string>();
  for (const ack of acked) {
    const id = messageValue(ack.producer, ack.sequence);
    ackedIds.add(id);
    const found = first.get(id);
    if (!found || found.partition !== ack.partition) {
      lost++;
      note(`lost ${id} (acked at ${ack.partition}/${ack.offset})`);
    } else if (!offsets.get(id)!.has(`${ack.partition}/${ack.offset}`)) {
      moved++;
      note(`moved ${id}: acked at ${ack.offset}, read at ${[...offsets.get(id)!].join(' ')}`);
    }
  }
  // Walk the first copies in log order; per (producer, partition) the acked sequences must rise.
  let reordered = 0;
  const highest = new Map<string, number>();
  for (const message of sorted) {
    const origin = parseValue(message.value);
    if (!origin) continue;
    const id = messageValue(origin.producer, origin.sequence);
    if (!ackedIds.has(id) || first.get(id) !== message) continue;
    const stream = `${origin.producer}@${message.partition}`;
    const before = highest.get(stream) ?? -1;
    if (origin.sequence < before) {
      reordered++;
      note(`reordered ${id} at ${message.partition}/${message.offset} after sequence ${before}`);
    } else highest.set(stream, origin.sequence);
  }
  return { acked: acked.length, read: read.length, lost, duplicated, reordered, moved, examples };
}

export function formatCheck(result: CheckResult): string {
  return `acked ${result.acked}, read ${result.read}: lost ${result.lost}, duplicated ${result.duplicated}, reordered ${result.reordered}, moved ${result.moved}`;
}

/** A producer's own log of acknowledgements: one JSON line per acked message, appended as acked. */
export class AckLog {
  constructor(readonly path: string) {}

  append(messages: readonly AckedMessage[]): void {
    if (messages.length > 0) appendFileSync(this.path, messages.map((message) => JSON.stringify(message) + '\n').join(''));
  }
}

/** Reads JSON lines (an ack log or a read-back dump); a torn last line (a killed writer) is skipped. */
export function readJsonLines<T>(path: string): T[] {
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // The last line of a writer killed mid-write.
    }
  }
  return out;
}

/** Every record of topic-partition on the broker at `port` from offset 0 to its high watermark. */
export async function readPartition(port: number, topic: string, partition: number, host = '127.0.0.1'): Promise<ReadMessage[]> {
  const client = await RawClient.connect(port, host);
  try {
    const out: ReadMessage[] = [];
    let offset = 0;
    for (;;) {
      const { header, parts } = await client.fetch([{ topic, partition, offset, maxBytes: 4 * 1024 * 1024 }]);
      const entry = header.partitions[0]!;
      if (entry.errorCode !== 0) throw new Error(`fetch ${topic}/${partition} at ${offset}: error ${entry.errorCode} ${entry.errorMessage ?? ''}`);
      const bytes = parts[0];
      let last = -1;
      if (bytes && bytes.length > 0) {
        forEachBatch(bytes, (_header, position) => {
          for (const record of decodeBatch(bytes, position, { verifyCrc: true }).records) {
            if (record.offset < offset) continue;
            out.push({ partition, offset: record.offset, value: record.value?.toString() ?? '' });
            last = record.offset;
          }
        });
      }
      if (last < 0) return out;
      offset = last + 1;
    }
  } finally {
    client.socket.destroy();
  }
}
