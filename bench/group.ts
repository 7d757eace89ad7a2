// Consumer-group benchmark: `npx tsx bench/group.ts [--messages N] [--size B] [--repeats R] [--tiny]`.
// Starts a broker process (dist/cli/main.js serve, port 0, temp dir, --fsync never; run
// `npx tsc` first), fills an 8-partition topic with N messages of B bytes, then measures:
//
//   throughput  a group of 1, 2 and 4 members, each a process of its own (so they do not
//               share one event loop), consuming the whole topic with run({ eachBatch })
//               and auto-commit: msg/s of the group in total. The members join first,
//               with their partitions paused; the clock starts when the group is stable
//               and every member is told to go, and stops at the last message consumed.
//   failover    3 members with a 3 s session timeout while messages keep arriving; one is
//               SIGKILLed; the time until each of its partitions is consumed again by a
//               survivor (max over its partitions). Expected: the session timeout minus
//               the time since the victim's last heartbeat (< 1 s), plus up to one
//               survivor heartbeat interval (1 s), plus an OffsetFetch and a fetch.
//
// Back-of-envelope: the group cannot go faster than one producer-less replay of the topic
// (bench/sdk-e2e.ts: ~1.5 M msg/s eachBatch on one core), and with 2 cores shared by the
// broker and the members, more than ~2 members only add contention.
// Prints a table and one JSON object per result (JSON Lines) on stdout.
// Workers: the same file with --worker (see worker() below).

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Client } from '../src/client/index.js';
import { startBroker, type BrokerProcess } from '../test/helpers/broker.js';
import { machineInfo } from './harness/machine.js';

const SELF = fileURLToPath(import.meta.url);
const PARTITIONS = 8;

function argument(name: string, fallback: string): string {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1]! : fallback;
}

const now = (): number => performance.timeOrigin + performance.now();

if (process.argv.includes('--worker')) await worker();
else await main();

// --- worker: one group member ---------------------------------------------------------
// stdout lines: "ready", "assigned <p,..>", "revoked <p,..>", "first <p> <ms>" (first message of a partition
// after it was assigned, wall clock), "progress <count> <lastMessageMs>" (every 50 ms while
// it changes). stdin "go\n" resumes the paused partitions; SIGTERM closes and exits.

async function worker(): Promise<void> {
  const paused = process.argv.includes('--paused');
  const client = new Client({ brokers: [argument('--broker', '')] });
  const consumer = client.consumer({
    groupId: argument('--group', ''),
    sessionTimeoutMs: Number(argument('--session-ms', '10000')),
    maxBytesPerPartition: 4 * 1024 * 1024,
  });
  const out = (line: string): void => void process.stdout.write(`${line}\n`);
  let going = !paused;
  const fresh = new Set<number>();
  await consumer.subscribe({
    topics: [argument('--topic', '')],
    fromBeginning: true,
    onAssigned: (partitions) => {
      // Until "go", a new partition is paused: no fetch work happens before the clock starts.
      if (!going) consumer.pause(partitions);
      for (const { partition } of partitions) fresh.add(partition);
      out(`assigned ${partitions.map((entry) => entry.partition).join(',')}`);
    },
    onRevoked: (partitions) => out(`revoked ${partitions.map((entry) => entry.partition).join(',')}`),
  });
  out('ready');
  let count = 0;
  let lastMs = 0;
  let reported = 0;
  const timer = setInterval(() => {
    if (count === reported) return;
    reported = count;
    out(`progress ${count} ${lastMs}`);
  }, 50);
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => {
    if (!chunk.includes('go') || going) return;
    going = true;
    consumer.resume(consumer.assigned());
  });
  process.on('SIGTERM', () => {
    clearInterval(timer);
    void client.close().then(() => process.exit(0));
  });
  await consumer.run({
    eachBatch: ({ batch }) => {
      count += batch.messages.length;
      lastMs = now();
      if (fresh.delete(batch.partition)) out(`first ${batch.partition} ${lastMs}`);
    },
  });
}

interface Worker {
  child: ChildProcess;
  lines: string[];
  count: number;
  lastMs: number;
  assigned: Set<number>;
  firsts: Map<number, number>;
  exited: Promise<void>;
}

function spawnWorker(broker: BrokerProcess, group: string, topic: string, sessionMs: number, paused: boolean): Worker {
  const args = ['--import', 'tsx', SELF, '--worker', '--broker', broker.address, '--group', group, '--topic', topic, '--session-ms', String(sessionMs)];
  if (paused) args.push('--paused');
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const state: Worker = {
    child,
    lines: [],
    count: 0,
    lastMs: 0,
    assigned: new Set(),
    firsts: new Map(),
    exited: new Promise((resolve) => child.once('exit', () => resolve())),
  };
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const [event, first, second] = line.split(' ');
      if (event === 'progress') {
        state.count = Number(first);
        state.lastMs = Number(second);
      } else if (event === 'assigned') {
        for (const partition of (first ?? '').split(',').filter(Boolean)) state.assigned.add(Number(partition));
      } else if (event === 'revoked') {
        for (const partition of (first ?? '').split(',').filter(Boolean)) state.assigned.delete(Number(partition));
      } else if (event === 'first') state.firsts.set(Number(first), Number(second));
      else state.lines.push(line);
    }
  });
  return state;
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function stopAll(workers: Worker[]): Promise<void> {
  for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGTERM');
  await Promise.all(workers.map((worker) => worker.exited));
}

async function groupStable(client: Client, group: string, members: number): Promise<boolean> {
  // Before the first member joins, the group does not exist (GROUP_ID_NOT_FOUND).
  const [description] = await client.admin().describeGroups({ groupIds: [group] }).catch(() => []);
  return description !== undefined && description.state === 'stable' && description.members.length === members && description.members.every((member) => member.assignment.length > 0);
}

async function main(): Promise<void> {
  const tiny = process.argv.includes('--tiny');
  const total = Number(argument('--messages', tiny ? '20000' : '2000000'));
  const size = Number(argument('--size', '100'));
  const repeats = Number(argument('--repeats', tiny ? '1' : '3'));
  const failoverSessionMs = Number(argument('--session-ms', tiny ? '1000' : '3000'));
  const machine = machineInfo();
  const broker = await startBroker({ args: ['--fsync', 'never'] });
  const client = new Client({ brokers: [broker.address] });
  const results: Array<Record<string, unknown>> = [];
  try {
    const topic = 'bench-group';
    await client.admin().createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] });
    await fill(client, topic, total, size);

    for (const members of [1, 2, 4]) {
      for (let run = 1; run <= repeats; run++) {
        const group = `throughput-${members}-${run}`;
        const workers = Array.from({ length: members }, () => spawnWorker(broker, group, topic, 10_000, true));
        try {
          await waitUntil(() => groupStable(client, group, members), 60_000, `group of ${members} stable`);
          await waitUntil(() => workers.reduce((sum, worker) => sum + worker.assigned.size, 0) >= PARTITIONS, 30_000, 'assignments started');
          const goMs = now();
          for (const worker of workers) worker.child.stdin!.write('go\n');
          await waitUntil(() => workers.reduce((sum, worker) => sum + worker.count, 0) >= total, 300_000, `group of ${members} to consume ${total}`);
          const endMs = Math.max(...workers.map((worker) => worker.lastMs));
          const seconds = (endMs - goMs) / 1000;
          const result = { bench: 'group-throughput', members, run, partitions: PARTITIONS, messages: total, messageBytes: size, seconds, msgsPerSec: Math.round(total / seconds), perMember: workers.map((worker) => worker.count), ...machine };
          results.push(result);
          console.log(JSON.stringify(result));
        } finally {
          await stopAll(workers);
        }
      }
    }

    for (let run = 1; run <= repeats; run++) results.push(await failover(broker, client, topic, failoverSessionMs, run, machine));
  } finally {
    await client.close();
    await broker.stop();
    broker.cleanup();
  }
  printTable(results, { total, size, repeats, failoverSessionMs, machine });
}

async function fill(client: Client, topic: string, total: number, size: number): Promise<void> {
  const value = Buffer.alloc(size, 'x');
  const perSend = 1000;
  const messages = Array.from({ length: perSend }, (_, index) => ({ value, partition: index % PARTITIONS }));
  const producer = client.producer({ acks: 1, lingerMs: 5 });
  const inFlight = new Set<Promise<unknown>>();
  for (let sent = 0; sent < total; sent += perSend) {
    const promise = producer.send({ topic, messages: messages.slice(0, Math.min(perSend, total - sent)) });
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise));
    if (inFlight.size >= 32) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await producer.close();
}

/** 3 members, messages arriving all the time; SIGKILL one; time until its partitions are consumed again. */
async function failover(broker: BrokerProcess, client: Client, topic: string, sessionMs: number, run: number, machine: object): Promise<Record<string, unknown>> {
  const group = `failover-${run}`;
  // Start at the end: only the messages produced from now on are consumed.
  await client.admin().resetOffsets({ groupId: group, topic, to: 'latest' });
  const workers = Array.from({ length: 3 }, () => spawnWorker(broker, group, topic, sessionMs, false));
  const producer = client.producer({ acks: 1, lingerMs: 2 });
  let producing = true;
  const messages = Array.from({ length: PARTITIONS * 10 }, (_, index) => ({ value: 'x', partition: index % PARTITIONS }));
  const feeding = (async () => {
    while (producing) {
      await producer.send({ topic, messages });
      await new Promise((resolve) => setTimeout(resolve, 10)); // ~8 k msg/s: every partition gets data every 10 ms
    }
  })();
  try {
    await waitUntil(() => groupStable(client, group, 3), 60_000, 'failover group stable');
    await waitUntil(() => workers.every((worker) => worker.assigned.size > 0 && worker.count > 0), 30_000, 'every member consuming');
    await waitUntil(() => workers.reduce((sum, worker) => sum + worker.assigned.size, 0) === PARTITIONS, 30_000, 'revocations reported');
    const victim = workers[0]!;
    const survivors = workers.slice(1);
    const victimPartitions = [...victim.assigned];
    for (const worker of survivors) worker.firsts.clear();
    const killMs = now();
    victim.child.kill('SIGKILL');
    await waitUntil(() => victimPartitions.every((partition) => survivors.some((worker) => worker.firsts.has(partition))), 60_000, 'partitions consumed again');
    const resumedMs = Math.max(...victimPartitions.map((partition) => Math.min(...survivors.filter((worker) => worker.firsts.has(partition)).map((worker) => worker.firsts.get(partition)!))));
    const result = { bench: 'group-failover', run, sessionTimeoutMs: sessionMs, members: 3, movedPartitions: victimPartitions.length, failoverMs: Math.round(resumedMs - killMs), ...machine };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    producing = false;
    await feeding;
    await producer.close();
    await stopAll(workers);
  }
}

function printTable(results: Array<Record<string, unknown>>, settings: { total: number; size: number; repeats: number; failoverSessionMs: number; machine: ReturnType<typeof machineInfo> }): void {
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  console.log('');
  console.log(`consumer groups: ${settings.total} msgs of ${settings.size} B on ${PARTITIONS} partitions, fsync never, run({ eachBatch }), auto-commit 5 s; median of ${settings.repeats}`);
  console.log('| members | msg/s (total) | runs |');
  console.log('| --- | --- | --- |');
  for (const members of [1, 2, 4]) {
    const rates = results.filter((result) => result.bench === 'group-throughput' && result.members === members).map((result) => result.msgsPerSec as number);
    if (rates.length > 0) console.log(`| ${members} | ${median(rates).toLocaleString('en-US')} | ${rates.map((rate) => rate.toLocaleString('en-US')).join(', ')} |`);
  }
  const failovers = results.filter((result) => result.bench === 'group-failover').map((result) => result.failoverMs as number);
  if (failovers.length > 0) {
    console.log(`failover (session ${settings.failoverSessionMs} ms, 3 members, SIGKILL one): median ${median(failovers)} ms; runs ${failovers.join(', ')} ms`);
  }
  const { machine } = settings;
  console.log(`machine: ${machine.cpus} x ${machine.cpuModel}, ${machine.os}, node ${machine.node}, load ${machine.loadAverage}, ${machine.date}, commit ${machine.commit}${machine.dirty ? ' (dirty)' : ''}`);
}
