// Counts a process's established TCP connections to a port on this machine, from
// /proc/<pid>/fd (its socket inodes) and /proc/net/tcp (IPv4; the brokers connect to
// 127.0.0.1). Linux only; for tests and benchmarks that check how many connections a
// follower broker holds to each leader.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

const ESTABLISHED = '01';

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.add(match[1]!);
    } catch {
      // The descriptor closed while listing.
    }
  }
  return inodes;
}

/** Established connections from process `pid` to `remotePort` (any local address). */
export function connectionsTo(pid: number, remotePort: number): number {
  const inodes = socketInodes(pid);
  let count = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const remote = fields[2]!;
    if (fields[3] !== ESTABLISHED || Number.parseInt(remote.slice(remote.indexOf(':') + 1), 16) !== remotePort) continue;
    if (inodes.has(fields[9]!)) count++;
  }
  return count;
}
