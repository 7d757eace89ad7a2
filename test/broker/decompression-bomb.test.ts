// Proves decompression on produce is bounded by max.message.bytes: a gzip batch of about
// 200 KB that inflates 1000x (to 200 MiB) is refused with INVALID_RECORD naming the bound,
// ten of them leave the broker's RSS (a child process, /proc/<pid>/status VmRSS) within
// tens of MB of where it started, and a second client's produce + fetch round trips stay
// fast meanwhile (unbounded, each bomb cost ~280 MB and ~215 ms of blocked event loop).

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { writeVarint } from '../../src/records/index.js';
import { Errors } from '../../src/util/errors.js';
import { startBroker, randomTopic, type BrokerProcess } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';
import { craftBatch } from '../records/craft.js';
import { batchOf } from './records.js';

const INFLATED_BYTES = 200 * 1024 * 1024;
const MAX_MESSAGE_BYTES = 1048588;

let broker: BrokerProcess;
let topic: string;
let bomb: Buffer;

/** One record whose value is 200 MiB of zeros, gzipped (the records section of the bomb). */
function makeBomb(): Buffer {
  const section = Buffer.alloc(INFLATED_BYTES + 32);
  let at = writeVarint(section, 0, INFLATED_BYTES + 20); // record length (approximately; never read that far)
  section[at++] = 0; // attributes
  at = writeVarint(section, at, 0); // timestampDelta
  at = writeVarint(section, at, 0); // offsetDelta
  at = writeVarint(section, at, -1); // null key
  at = writeVarint(section, at, INFLATED_BYTES); // value length
  return craftBatch(section, { recordCount: 1, codec: 1, baseTimestamp: Date.now(), compress: (bytes) => gzipSync(bytes, { level: 9 }) });
}

function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match![1]) * 1024;
}

beforeAll(async () => {
  bomb = makeBomb();
  broker = await startBroker({ args: ['--fsync', 'never'] });
  topic = randomTopic();
  const admin = await RawClient.connect(broker.port);
  expect((await admin.createTopic(topic, 1)).topics[0]!.errorCode).toBe(0);
  await admin.produce(topic, 0, batchOf(['warm-up']));
  await admin.close();
}, 30_000);

afterAll(async () => {
  expect(await broker.stop()).toBe(0);
  broker.cleanup();
});

describe('a gzip bomb on produce', () => {
  it('is refused with INVALID_RECORD naming the bound; RSS stays bounded; others stay fast', async () => {
    expect(bomb.length).toBeLessThan(MAX_MESSAGE_BYTES); // passes the size check: only inflating finds it
    const attacker = await RawClient.connect(broker.port);
    const bystander = await RawClient.connect(broker.port);
    const rssBefore = rssBytes(broker.child.pid!);
    const roundTripsMs: number[] = [];
    let attacking = true;
    const bystanding = (async () => {
      let offset = 1;
      while (attacking) {
        const start = performance.now();
        const produced = await bystander.produce(topic, 0, batchOf(['still here']));
        const { parts } = await bystander.fetch([{ topic, partition: 0, offset: produced.baseOffset }]);
        roundTripsMs.push(performance.now() - start);
        expect(parts[0]!.length).toBeGreaterThan(0);
        offset = produced.baseOffset + 1;
      }
      return offset;
    })();
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        attacker.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 1000, partitions: [{ topic, partition: 0, size: bomb.length }] }, bomb),
      ),
    );
    attacking = false;
    const logEnd = await bystanding;
    const rssAfter = rssBytes(broker.child.pid!);
    for (const answer of answers) {
      const result = answer.header.partitions[0]!;
      expect(result.errorCode).toBe(Errors.INVALID_RECORD.code);
      expect(result.errorMessage).toContain(`more than ${MAX_MESSAGE_BYTES} bytes`);
    }
    // Nothing of the bombs was stored: the bystander's records are the only ones after the warm-up.
    const { header } = await bystander.fetch([{ topic, partition: 0, offset: 0 }]);
    expect(header.partitions[0]!.highWatermark).toBe(logEnd);
    expect(rssAfter - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(roundTripsMs.length).toBeGreaterThan(0);
    // Generous for a shared 2-core machine; an unbounded inflate blocks ~215 ms per bomb.
    expect(Math.max(...roundTripsMs)).toBeLessThan(150);
    await attacker.close();
    await bystander.close();
  }, 30_000);
});
