// What the scale benchmark reads about the broker process from /proc (Linux only): resident
// memory (VmRSS of /proc/<pid>/status), open file descriptors (entries of /proc/<pid>/fd)
// and CPU time (utime + stime of /proc/<pid>/stat, in clock ticks of 10 ms). Off Linux every
// probe answers null and the tables print "-".

import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on every Linux we run on). */
const TICKS_PER_SECOND = 100;

export function rssMiB(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : null;
  } catch {
    return null; // not Linux, or the process is gone: nothing to report
  }
}

export function openFds(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null; // as above
  }
}

/** CPU time (user + system) the process used so far, in ms; null when unknown. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: count fields after its closing ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? ((utime + stime) * 1000) / TICKS_PER_SECOND : null;
  } catch {
    return null; // as above
  }
}

/** Measures CPU % of one core over the interval from start() to stop(). */
export function cpuMeter(pid: number): { stop(): number | null } {
  const startCpu = cpuMs(pid);
  const startWall = performance.now();
  return {
    stop() {
      const endCpu = cpuMs(pid);
      const wallMs = performance.now() - startWall;
      if (startCpu === null || endCpu === null || wallMs <= 0) return null;
      return Math.round(((endCpu - startCpu) / wallMs) * 1000) / 10;
    },
  };
}
