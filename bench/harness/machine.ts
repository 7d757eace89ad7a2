// Facts about the machine and the code under test, stamped into every result record so a
// number can be traced back: git commit, Node version, CPU model and count, OS, date.

import { execFileSync } from 'node:child_process';
import { cpus, loadavg, release, totalmem, platform } from 'node:os';

export interface MachineInfo {
  commit: string;
  /** True when the work tree had uncommitted changes to tracked files. */
  dirty: boolean;
  node: string;
  cpuModel: string;
  cpus: number;
  os: string;
  memoryGiB: number;
  /** 1-minute load average when the info was taken: other work competing for the CPUs. */
  loadAverage: number;
  date: string;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    // Not a git checkout (e.g. an installed package): the commit is simply unknown.
    return undefined;
  }
}

/** The CPU model as /proc/cpuinfo names it ("AMD EPYC ..."), falling back to os.cpus(). */
export function cpuModel(cpuinfo?: string): string {
  const text = cpuinfo ?? readCpuinfo();
  const match = text === undefined ? null : /^model name\s*:\s*(.+)$/m.exec(text);
  if (match?.[1]) return match[1].trim();
  return cpus()[0]?.model.trim() ?? 'unknown';
}

function readCpuinfo(): string | undefined {
  if (platform() !== 'linux') return undefined;
  try {
    // Synchronous read of a tiny virtual file, done once per run.
    return execFileSync('cat', ['/proc/cpuinfo'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined; // Fall back to os.cpus() in cpuModel.
  }
}

export function machineInfo(cwd = process.cwd()): MachineInfo {
  const commit = git(['rev-parse', '--short=12', 'HEAD'], cwd) ?? 'unknown';
  const status = git(['status', '--porcelain', '--untracked-files=no'], cwd);
  return {
    commit,
    dirty: status !== undefined && status.length > 0,
    node: process.version,
    cpuModel: cpuModel(),
    cpus: cpus().length,
    os: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    date: new Date().toISOString(),
  };
}
