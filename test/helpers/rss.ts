// Reads a child process's resident set size from /proc/<pid>/status (Linux), for the
// memory tests that run a real broker process while an abusive client runs.

import { readFileSync } from 'node:fs';

/** VmRSS of `pid` in bytes. */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Samples rssBytes(pid) every `intervalMs` while `during` runs; returns the largest sample. */
export async function peakRssDuring(pid: number, during: () => Promise<void>, intervalMs = 25): Promise<number> {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // Safe: the process exited; the test sees that through its own checks.
    }
  }, intervalMs);
  try {
    await during();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, rssBytes(pid));
}

/**
 * True while the kernel holds an ESTABLISHED IPv4 TCP connection from `localPort` to
 * `remotePort` (from /proc/net/tcp): a peer's close shows here even when the socket is
 * paused and Node has not read it yet.
 */
export function tcpEstablished(localPort: number, remotePort: number): boolean {
  const hex = (port: number): string => port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .some((line) => {
      const [, local, remote, state] = line.trim().split(/\s+/);
      return local?.endsWith(`:${hex(localPort)}`) && remote?.endsWith(`:${hex(remotePort)}`) && state === '01';
    });
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
