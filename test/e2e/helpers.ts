// Child-process group members for the e2e tests: spawns test/e2e/fixtures/group-consumer.ts
// and parses its event lines (see that file) as they arrive.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURE = resolve(dirname(fileURLToPath(import.meta.url)), 'fixtures/group-consumer.ts');

export interface ChildMember {
  child: ChildProcess;
  /** "p:o" of every processed message, in order. */
  processed: string[];
  /** Partitions held now (assigned minus revoked/lost). */
  owned: Set<number>;
  events: string[];
  /** processed.length when each event arrived (events and messages are in the order the member wrote them). */
  eventAt: number[];
  exited: Promise<number | null>;
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnMember(args: { broker: string; group: string; topic: string; sessionMs?: number; commitIntervalMs?: number; delayMs?: number; maxMessages?: number; fromBeginning?: boolean }): ChildMember {
  const argv = ['--import', 'tsx', FIXTURE, '--broker', args.broker, '--group', args.group, '--topic', args.topic];
  if (args.sessionMs !== undefined) argv.push('--session-ms', String(args.sessionMs));
  if (args.commitIntervalMs !== undefined) argv.push('--commit-interval-ms', String(args.commitIntervalMs));
  if (args.delayMs !== undefined) argv.push('--delay-ms', String(args.delayMs));
  if (args.maxMessages !== undefined) argv.push('--max-messages', String(args.maxMessages));
  if (args.fromBeginning === true) argv.push('--from-beginning');
  const child = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const member: ChildMember = {
    child,
    processed: [],
    owned: new Set(),
    events: [],
    eventAt: [],
    exited: new Promise((resolveExit) => child.once('exit', (code) => resolveExit(code))),
    stderr: () => stderr,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await member.exited;
    },
  };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('m ')) {
        const [, partition, offset] = line.split(' ');
        member.processed.push(`${partition}:${offset}`);
        continue;
      }
      member.events.push(line);
      member.eventAt.push(member.processed.length);
      const [event, list] = line.split(' ');
      const partitions = list === undefined || list === '' ? [] : list.split(',').map(Number);
      if (event === 'assigned') for (const partition of partitions) member.owned.add(partition);
      if (event === 'revoked' || event === 'lost') for (const partition of partitions) member.owned.delete(partition);
    }
  });
  return member;
}
