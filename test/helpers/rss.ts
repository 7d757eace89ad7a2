// Resident memory of a child process, read from /proc/<pid>/status (VmRSS), for memory
// tests that start the broker as a child process and bound its growth under abuse.

import { readFileSync } from 'node:fs';

/** VmRSS of process `pid` in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** The largest VmRSS of `samples` readings `intervalMs` apart (RSS accounting lags a little). */
export async function peakRssBytes(pid: number, samples = 5, intervalMs = 20): Promise<number> {
  let peak = 0;
  for (let i = 0; i < samples; i++) {
    peak = Math.max(peak, rssBytes(pid));
    if (i + 1 < samples) await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return peak;
}
