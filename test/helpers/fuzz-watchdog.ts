// The fuzz test's watchdog: a well-behaved client on its own connection that, every
// ~100 ms while the fuzzers run, does ApiVersions, Metadata, an acks-all produce of one
// record to the watched topic (which the fuzzers also hit) and a fetch of that record,
// and every ~1 s opens a fresh connection for an ApiVersions round trip; a second connection
// does only ApiVersions every ~100 ms (so a stall shows whether the whole broker stopped). It times every
// call, keeps the acknowledged records (for the end and restart checks) and names every
// call that took longer than the budget or failed.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { decodeBatch, forEachBatch } from '../../src/records/index.js';
import { batchOf } from '../broker/records.js';
import { RawClient } from './raw-client.js';

export interface AckedRecord {
  partition: number;
  offset: number;
  value: string;
}

export interface WatchdogReport {
  rounds: number;
  acked: AckedRecord[];
  /** The slowest time of each call kind, ms. */
  maxMs: Record<string, number>;
  /** Every call slower than the budget or failed, e.g. "produce #12 at 3400 ms: 1203 ms". */
  problems: string[];
  /**
   * Calls slower than the budget while the broker used less than half the budget of CPU
   * time: it was waiting (for a CPU taken by other processes on a small box, or for the
   * disk), not busy keeping everyone waiting. Printed, not failed (see brokerCpuMs).
   */
  starved: string[];
}

export interface WatchdogOptions {
  port: number;
  topic: string;
  partitions: number;
  budgetMs: number;
  intervalMs: number;
  done(): boolean;
  /** The broker's pid: a slow call is a problem only if the broker used CPU meanwhile (brokerCpuMs). */
  brokerPid?: number | undefined;
}

/** Clock ticks per second of /proc's CPU times. */
const CLOCK_TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    // Safe: 100 is Linux's USER_HZ on every common architecture.
    return 100;
  }
})();

/**
 * CPU time (user + system, all threads) the process has used, ms, from /proc/<pid>/stat
 * (fields 14 and 15, counted after the parenthesised command name); undefined when unreadable.
 * A call that took longer than the budget while the broker used little CPU means the broker
 * was waiting for a CPU, not working: on a 2-core box shared with other test processes a
 * runnable broker can wait a second for one.
 */
export function brokerCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    // Safe: without /proc every slow call counts as a problem (the stricter reading).
    return undefined;
  }
}

/**
 * The record at `offset` in fetched bytes: only the batch holding it is decoded, so
 * neighbouring batches the fuzzers stored (valid CRC, mangled records) do not hide it.
 * Counts the batches that did not decode in `corrupt`.
 */
export function recordAt(bytes: Buffer, offset: number, corrupt: { batches: number } = { batches: 0 }): { offset: number; value: string } | undefined {
  let found: { offset: number; value: string } | undefined;
  forEachBatch(bytes, (header, position) => {
    if (found || offset < header.baseOffset || offset > header.baseOffset + header.lastOffsetDelta) return;
    try {
      const record = decodeBatch(bytes, position, { verifyCrc: true }).records.find((r) => r.offset === offset);
      if (record) found = { offset, value: record.value?.toString() ?? '' };
    } catch {
      // A corrupt batch holding the offset: reported as not found by the caller.
      corrupt.batches++;
    }
  });
  return found;
}

const MAX_PROBLEMS = 20;

/** A call that never answers is reported at this point and ends the watchdog. */
const HUNG_MS = 10_000;

export async function runWatchdog(options: WatchdogOptions): Promise<WatchdogReport> {
  const report: WatchdogReport = { rounds: 0, acked: [], maxMs: {}, problems: [], starved: [] };
  const started = Date.now();
  const timed = async <T>(name: string, call: () => Promise<T>): Promise<T> => {
    const begin = performance.now();
    const cpuBeginMs = brokerCpuMs(options.brokerPid);
    const startedAtMs = Date.now() - started;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        call(),
        new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${name} hung for ${HUNG_MS} ms`)), HUNG_MS))),
      ]);
    } finally {
      clearTimeout(timer);
      const ms = performance.now() - begin;
      report.maxMs[name] = Math.max(report.maxMs[name] ?? 0, Math.round(ms));
      if (ms > options.budgetMs) {
        const cpuEndMs = brokerCpuMs(options.brokerPid);
        const cpuMs = cpuBeginMs === undefined || cpuEndMs === undefined ? undefined : cpuEndMs - cpuBeginMs;
        const line = `${name} started ${startedAtMs} ms into the run took ${Math.round(ms)} ms (budget ${options.budgetMs} ms; broker CPU meanwhile ${cpuMs ?? '?'} ms)`;
        // Starved: the broker got under half the budget of CPU. A hang (HUNG_MS) is always a problem.
        if (cpuMs !== undefined && cpuMs < options.budgetMs / 2 && ms < HUNG_MS) report.starved.push(line);
        else report.problems.push(line);
      }
    }
  };

  // A second connection with only ApiVersions every interval, timed on its own: when both
  // it and the main sequence stall at once the whole broker stalled, not one connection.
  const probe = (async () => {
    const prober = await RawClient.connect(options.port);
    try {
      while (!options.done()) {
        const begin = Date.now();
        await timed('probe ApiVersions', () => prober.request(ApiKey.ApiVersions, {}));
        await sleep(Math.max(0, options.intervalMs - (Date.now() - begin)));
      }
    } catch (error) {
      report.problems.push(`probe stopped at ${Date.now() - started} ms: ${String(error)}`);
    } finally {
      prober.destroy();
    }
  })();
  const client = await RawClient.connect(options.port);
  try {
    while (!options.done()) {
      const roundStart = Date.now();
      const round = report.rounds++;
      const versions = await timed('ApiVersions', () => client.request(ApiKey.ApiVersions, { clientSoftwareName: 'watchdog' }));
      if (versions.header['errorCode'] !== 0) report.problems.push(`ApiVersions #${round} failed: ${JSON.stringify(versions.header)}`);
      const metadata = await timed('Metadata', () => client.request<M.MetadataResponse>(ApiKey.Metadata, { topics: [options.topic] }));
      if (metadata.header.errorCode !== 0 || metadata.header.topics[0]?.errorCode !== 0) report.problems.push(`Metadata #${round} failed: ${JSON.stringify(metadata.header)}`);

      const partition = round % options.partitions;
      const value = `wd-${round}`;
      const produced = await timed('Produce', () =>
        client.request<M.ProduceResponse>(ApiKey.Produce, { acks: -1, timeoutMs: 30_000, partitions: [{ topic: options.topic, partition, size: batchOf([value]).length }] }, batchOf([value])),
      );
      const result = produced.header.partitions?.[0];
      if (produced.header.errorCode !== 0 || result?.errorCode !== 0) {
        report.problems.push(`Produce #${round} failed: ${JSON.stringify(produced.header)}`);
      } else {
        report.acked.push({ partition, offset: result.baseOffset, value });
        const fetched = await timed('Fetch', () => client.fetch([{ topic: options.topic, partition, offset: result.baseOffset, maxBytes: 64 * 1024 }]));
        const record = fetched.parts[0] ? recordAt(fetched.parts[0], result.baseOffset) : undefined;
        if (record?.value !== value) report.problems.push(`Fetch #${round} of ${options.topic}-${partition}@${result.baseOffset} returned ${JSON.stringify(record)} (header ${JSON.stringify(fetched.header)}), expected ${value}`);
      }

      if (round % 10 === 0) {
        await timed('connect+ApiVersions', async () => {
          const fresh = await RawClient.connect(options.port);
          try {
            await fresh.request(ApiKey.ApiVersions, {});
          } finally {
            fresh.destroy();
          }
        });
      }
      await sleep(Math.max(0, options.intervalMs - (Date.now() - roundStart)));
    }
  } catch (error) {
    report.problems.push(`watchdog stopped at ${Date.now() - started} ms: ${String(error)}`);
  } finally {
    client.destroy();
  }
  await probe;
  if (report.problems.length > MAX_PROBLEMS) report.problems.splice(MAX_PROBLEMS, Infinity, `... and ${report.problems.length - MAX_PROBLEMS} more`);
  return report;
}
