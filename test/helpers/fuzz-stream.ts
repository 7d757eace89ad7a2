// One fuzzing connection: writes mutated request frames (fuzz-mutate.ts) to a broker as
// fast as it answers, several frames per write or one frame split over several writes,
// reads and decodes whatever comes back, and reconnects whenever the broker closes the
// connection (allowed on untrustworthy input) or stops reading (a lying size prefix
// leaves the broker waiting for bytes that never come).
//
// Guard: the test's protected topics must survive, so a frame that would reach the broker
// as a request that removes records by design (DeleteTopics, DeleteRecords, or an
// AlterConfigs that may set retention or compaction) naming one of them is never sent. A shadow of the broker's framing
// (size prefix, limit, fixed fields) sees which frames each write completes; when one is
// such a request the connection is dropped before that write instead.

import { connect, type Socket } from 'node:net';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { ApiKey } from '../../src/protocol/apis.js';
import { decodeBody } from '../../src/protocol/body.js';
import { ResponseFrameDecoder } from '../../src/protocol/frame.js';
import { encodeSeed, type FuzzNames, type Prng, validSeed } from './fuzz-corpus.js';
import { mutateSeed } from './fuzz-mutate.js';

export interface FuzzStats {
  connections: number;
  connectFailures: number;
  /** Inputs written whole (an input the broker closed the connection on midway is not counted). */
  inputs: number;
  bytesWritten: number;
  responses: number;
  /** Connections the broker closed (or reset) on us. */
  closedByBroker: number;
  /** Connections we dropped because the broker stopped answering (lying sizes, backpressure). */
  droppedStalled: number;
  /** Frames withheld by the guard (destructive APIs naming a protected topic). */
  guarded: number;
  /** Count of responses per top-level errorCode. */
  errorCodes: Map<number, number>;
  /** Responses that did not decode: a broker bug (kept: hex of the first bytes). */
  badResponses: string[];
  /** The last few inputs written before an UNKNOWN (code 1) answer, hex, for the report. */
  unknownInputs: string[];
}

export function newStats(): FuzzStats {
  return { connections: 0, connectFailures: 0, inputs: 0, bytesWritten: 0, responses: 0, closedByBroker: 0, droppedStalled: 0, guarded: 0, errorCodes: new Map(), badResponses: [], unknownInputs: [] };
}

/** What the broker's frame decoder would do with the bytes of one connection. */
class ShadowFramer {
  private buffered = Buffer.alloc(0);
  private dead = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** The request frames `chunk` completes (whole frames, size prefix included). */
  feed(chunk: Buffer): Buffer[] {
    if (this.dead) return [];
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const frames: Buffer[] = [];
    while (this.buffered.length >= 4) {
      const size = this.buffered.readUInt32BE(0);
      if (size > this.maxFrameBytes || size < 8) {
        this.dead = true; // the broker closes the connection here
        break;
      }
      if (this.buffered.length < 4 + size) break;
      frames.push(this.buffered.subarray(0, 4 + size));
      this.buffered = this.buffered.subarray(4 + size);
    }
    return frames;
  }
}

export interface FuzzConnectionOptions {
  port: number;
  prng: Prng;
  names: FuzzNames;
  maxFrameBytes: number;
  stats: FuzzStats;
  /** Stop when this returns true. */
  done(): boolean;
}

const MAX_UNANSWERED_INPUTS = 64;
/** One input stops gaining frames past this (the broker's limit is 1 MiB per frame). */
const MAX_INPUT_BYTES = 2 * 1024 * 1024;
const STALL_MS = 200;
const MAX_BUFFERED_WRITE_BYTES = 256 * 1024;

/** APIs that drop records by design when they name a topic: never aimed at a protected one. */
const DESTRUCTIVE_APIS: ReadonlySet<number> = new Set([ApiKey.DeleteTopics, ApiKey.DeleteRecords, ApiKey.AlterConfigs]);

/** Runs one fuzzing connection (reconnecting as needed) until `done()`. */
export async function runFuzzConnection(options: FuzzConnectionOptions): Promise<void> {
  const { prng, stats } = options;
  const protectedNames = options.names.protectedTopics.map((name) => Buffer.from(name));
  let correlationId = 1;
  const recent: string[] = [];

  const isDangerous = (frame: Buffer): boolean =>
    frame.length >= 10 && DESTRUCTIVE_APIS.has(frame.readUInt16BE(8)) && protectedNames.some((name) => frame.includes(name));

  const makeInput = (): Buffer => {
    const frames: Buffer[] = [];
    let inputBytes = 0;
    for (let i = 0, count = prng.chance(0.7) ? 1 : prng.range(2, 5); i < count && inputBytes < MAX_INPUT_BYTES; i++) {
      if (i > 0 && prng.chance(0.1)) frames.push(frames[i - 1]!);
      else {
        const seed = validSeed(prng, options.names, correlationId++);
        const frame = prng.chance(0.15) ? encodeSeed(seed) : mutateSeed(prng, seed);
        // Past the broker's limit the size prefix alone closes the connection: the rest is waste.
        frames.push(frame.length > MAX_INPUT_BYTES ? frame.subarray(0, MAX_INPUT_BYTES) : frame);
      }
      inputBytes += frames[i]!.length;
    }
    return Buffer.concat(frames);
  };

  const splitInput = (input: Buffer): Buffer[] => {
    if (input.length < 2 || prng.chance(0.7)) return [input];
    if (input.length < 64 && prng.chance(0.2)) return [...input].map((byte) => Buffer.from([byte]));
    const cuts = Array.from({ length: prng.range(1, 3) }, () => prng.range(1, input.length - 1)).sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const cut of cuts) {
      chunks.push(input.subarray(from, cut));
      from = cut;
    }
    chunks.push(input.subarray(from));
    return chunks.filter((chunk) => chunk.length > 0);
  };

  while (!options.done()) {
    let socket: Socket;
    try {
      socket = await new Promise<Socket>((resolve, reject) => {
        const s = connect({ port: options.port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
        s.once('error', reject);
      });
    } catch {
      stats.connectFailures++;
      await sleep(50);
      continue;
    }
    stats.connections++;
    let closed = false;
    let droppedByUs = false;
    let unanswered = 0;
    let wake: (() => void) | null = null;
    const decoder = new ResponseFrameDecoder({ maxFrameBytes: 1024 * 1024 * 1024 });
    const shadow = new ShadowFramer(options.maxFrameBytes);
    socket.on('data', (chunk: Buffer) => {
      unanswered = 0;
      try {
        for (const frame of decoder.push(chunk)) {
          stats.responses++;
          const errorCode = Number(decodeBody(frame.body).header['errorCode']);
          stats.errorCodes.set(errorCode, (stats.errorCodes.get(errorCode) ?? 0) + 1);
          if (errorCode === 1 && stats.unknownInputs.length < 10) stats.unknownInputs.push(...recent);
        }
      } catch (error) {
        if (stats.badResponses.length < 10) stats.badResponses.push(`${String(error)}: ${chunk.subarray(0, 64).toString('hex')}`);
        socket.destroy();
      }
      wake?.();
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      closed = true;
      if (!droppedByUs) stats.closedByBroker++;
      wake?.();
    });
    const waitForAnswer = async (ms: number): Promise<void> => {
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(ms)]);
      wake = null;
    };
    const drop = (): void => {
      droppedByUs = true;
      socket.destroy();
    };

    inputs: for (let i = 0, limit = prng.range(20, 400); i < limit && !closed && !options.done(); i++) {
      const input = makeInput();
      recent.push(input.subarray(0, 2048).toString('hex'));
      if (recent.length > 3) recent.shift();
      for (const chunk of splitInput(input)) {
        if (shadow.feed(chunk).some(isDangerous)) {
          stats.guarded++;
          drop();
          break inputs;
        }
        socket.write(chunk);
        stats.bytesWritten += chunk.length;
        if (prng.chance(0.3)) await nextTurn();
        if (closed) break inputs;
      }
      stats.inputs++;
      unanswered++;
      // Let the test process breathe (the watchdog shares this event loop) and bound how
      // far ahead of the broker this connection runs.
      await nextTurn();
      if (socket.writableLength > MAX_BUFFERED_WRITE_BYTES || unanswered > MAX_UNANSWERED_INPUTS) {
        await waitForAnswer(STALL_MS);
        if (!closed && (socket.writableLength > MAX_BUFFERED_WRITE_BYTES || unanswered > MAX_UNANSWERED_INPUTS)) {
          stats.droppedStalled++;
          drop();
        }
      }
    }
    if (!closed) {
      droppedByUs = true;
      if (prng.chance(0.5)) socket.end();
      else socket.destroy();
      await Promise.race([new Promise((resolve) => socket.once('close', resolve)), sleep(500)]);
      socket.destroy();
    }
  }
}
