// The cost of encryption and authentication, measured (issue #13): W1 (produce 1M x 100 B,
// acks all) and W3 (replay of W1) through the native SDK, back to back in three modes:
//
//   npx tsc -p tsconfig.json && npx tsx bench/security.ts [--messages 1000000] [--repeat 1]
//       [--modes plaintext,tls,scram-tls] [--sasl scram-sha-512] [--fsync 1000]
//       [--connects 20] [--json results.jsonl] [--tiny]
//
// Each mode has its own broker process (dist/cli/main.js serve --port 0, temp dir), all
// started up front; the runs are interleaved per repeat (plaintext, tls, scram-tls,
// plaintext, ...) so a change in the machine's load falls on every mode alike:
//   plaintext  no TLS, no SASL.
//   tls        --tls-cert/--tls-key (EC P-256 certificate from openssl; the client trusts its CA).
//   scram      --sasl <mechanism> without TLS (not in the default list: SCRAM alone sends
//              the data in clear, but it separates the cost of authentication from TLS's).
//   scram-tls  both: the SDK logs in with SCRAM (--sasl, default scram-sha-512) over TLS.
//              SASL turns ACLs on; the bench user is a --super-users member (bench/security-modes.ts).
// The client is the peer benchmark's spool target (bench/peers/spool.ts: lingerMs 5, send()
// of 1,000 messages, <= 20,000 in flight; replay with run({ eachBatch }) and 4 MiB fetches).
//
// Per mode and workload it reports msgs/s, MB/s (2^20 B of values), the CPU time per
// message of this (client) process and of the broker process (its threads' schedstat), and
// per mode the connection setup time: the median over --connects fresh Clients of the time
// from new Client() to the answer of its first request (admin().listTopics(): TCP connect,
// TLS handshake, SASL exchange, Metadata), which is what a reconnect costs. The table is
// markdown on stdout (the median of the repeats, by rate, with the rate as a % of
// plaintext's), after one JSON line per run (RunResult of bench/harness/report.ts plus
// `mode`, the CPU fields and `connectMs`); --json also appends the lines to a file.
// Before the measured runs, an unrecorded warm-up W1 of min(--messages, 50,000) goes through
// each mode's broker (JIT of the client and broker code paths, TLS and SCRAM included).
// `--tiny` (test/bench/security-tiny.test.ts) runs 5,000 messages and 2 connects.

import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './harness/machine.js';
import { makeResult, toJsonLine, type RunResult } from './harness/report.js';
import { runWorkload } from './harness/runner.js';
import { WORKLOADS, type Workload } from './harness/workloads.js';
import { startBroker, type BrokerProcess } from '../test/helpers/broker.js';
import { SPOOL_CLIENT_PATH, SPOOL_TUNING, SpoolTarget } from './peers/spool.js';
import { benchSecurity, parseSaslMechanism, type BenchSecurity } from './security-modes.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MODES = ['plaintext', 'tls', 'scram', 'scram-tls'] as const;
type Mode = (typeof MODES)[number];

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    repeat: { type: 'string', default: '1' },
    modes: { type: 'string', default: 'plaintext,tls,scram-tls' },
    sasl: { type: 'string', default: 'scram-sha-512' },
    fsync: { type: 'string', default: '1000' },
    connects: { type: 'string' },
    json: { type: 'string' },
    tiny: { type: 'boolean', default: false },
  },
});
const messages = Number(values.messages ?? (values.tiny ? 5_000 : WORKLOADS.W1.messages));
const repeat = Number(values.repeat);
const connects = Number(values.connects ?? (values.tiny ? 2 : 20));
const mechanism = parseSaslMechanism(values.sasl);
const modes = values.modes.split(',').map((name) => name.trim()) as Mode[];
for (const mode of modes) if (!MODES.includes(mode)) throw new Error(`unknown mode ${mode} (${MODES.join(', ')})`);
if (!(repeat >= 1)) throw new Error('--repeat must be >= 1');
if (!(messages >= 1)) throw new Error('--messages must be >= 1');
if (!(connects >= 1)) throw new Error('--connects must be >= 1');

const w1: Workload = { ...WORKLOADS.W1, messages, title: `${messages} x 100 B, acked` };
const w3: Workload = { ...WORKLOADS.W3, messages, title: 'replay W1 from start' };

interface CpuFields {
  mode: Mode;
  clientCpuNsPerMsg: number;
  brokerCpuNsPerMsg: number;
  /** Median ms from new Client() to its first answer, for this mode (the same on W1 and W3 rows of one repeat). */
  connectMs: number;
}
type SecurityResult = RunResult & CpuFields;

interface ModeBroker {
  mode: Mode;
  security: BenchSecurity;
  broker: BrokerProcess;
}

/** CPU ms of a process so far: the sum of its threads' schedstat run time (ns resolution). */
function processCpuMs(pid: number): number {
  let totalNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      totalNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read: its time is lost (Node's worker threads do not end).
    }
  }
  return totalNs / 1e6;
}

function clientCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

type ClientConstructor = new (config: Record<string, unknown>) => { admin(): { listTopics(): Promise<string[]> }; close(): Promise<void> };

/** Median ms from new Client() to the answer of its first request, over `connects` fresh clients. */
async function connectMs(Client: ClientConstructor, entry: ModeBroker): Promise<number> {
  const times: number[] = [];
  for (let index = 0; index < connects; index++) {
    const start = performance.now();
    const client = new Client({ ...entry.security.clientConfig, brokers: [entry.broker.address], clientId: 'bench-connect' });
    try {
      await client.admin().listTopics();
      times.push(performance.now() - start);
    } finally {
      await client.close();
    }
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor((times.length - 1) / 2)]! * 100) / 100;
}

const securityOf: Record<Mode, () => BenchSecurity> = {
  plaintext: () => benchSecurity({ tls: false }),
  tls: () => benchSecurity({ tls: true }),
  scram: () => benchSecurity({ tls: false, sasl: mechanism }),
  'scram-tls': () => benchSecurity({ tls: true, sasl: mechanism }),
};

const WARM_UP_MESSAGES = 50_000;

function modeTarget(entry: ModeBroker): SpoolTarget {
  return new SpoolTarget(entry.broker.port, values.fsync, SPOOL_TUNING, { server: `spool ${spoolVersion} (dist/)`, client: `spool SDK ${spoolVersion} (dist/)` }, {
    name: `spool (${entry.security.label})`,
    producerConfig: { acks: 'all' },
    producerText: 'lingerMs 5, batchBytes 256 KiB',
    clientConfig: entry.security.clientConfig,
  });
}

const machine = machineInfo(REPO);
const spoolVersion = (JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
const suffix = Math.random().toString(36).slice(2, 8);
const results: SecurityResult[] = [];
const brokers: ModeBroker[] = [];

try {
  const module = (await import(pathToFileURL(SPOOL_CLIENT_PATH).href)) as { Client: ClientConstructor };
  for (const mode of modes) {
    const security = securityOf[mode]();
    brokers.push({ mode, security, broker: await startBroker({ args: ['--fsync', values.fsync, ...security.brokerArgs], env: security.brokerEnv }) });
  }
  // Warm-up, not recorded: the first mode's first run would otherwise also pay for this
  // process's JIT compiling the client (a W1 of WARM_UP_MESSAGES through each mode's broker,
  // so the TLS and SCRAM code paths are compiled too).
  for (const entry of brokers) {
    const target = modeTarget(entry);
    await target.setup();
    try {
      await runWorkload(target, { ...w1, messages: Math.min(messages, WARM_UP_MESSAGES) }, `sec-warm-up-${suffix}`);
      await target.deleteStream(`sec-warm-up-${suffix}`);
    } finally {
      await target.close();
    }
  }
  for (let run = 1; run <= repeat; run++) {
    for (const entry of brokers) {
      const connect = await connectMs(module.Client, entry);
      const target = modeTarget(entry);
      const stream = `sec-${entry.mode}-${run}-${suffix}`;
      await target.setup();
      try {
        for (const workload of [w1, w3]) {
          const machineNow = { ...machine, loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
          const clientBefore = clientCpuMs();
          const brokerBefore = processCpuMs(entry.broker.child.pid!);
          const measurement = await runWorkload(target, workload, stream);
          const perMessage = (ms: number): number => (measurement.messages > 0 ? Math.round((ms * 1e6) / measurement.messages) : 0);
          const result: SecurityResult = {
            ...makeResult({ system: target.name, workload, run, measurement, settings: target.settings, machine: machineNow }),
            mode: entry.mode,
            clientCpuNsPerMsg: perMessage(clientCpuMs() - clientBefore),
            brokerCpuNsPerMsg: perMessage(processCpuMs(entry.broker.child.pid!) - brokerBefore),
            connectMs: connect,
          };
          results.push(result);
          const line = toJsonLine(result);
          process.stdout.write(`${line}\n`);
          if (values.json) appendFileSync(values.json, `${line}\n`);
        }
        await target.deleteStream(stream);
      } finally {
        await target.close();
      }
    }
  }
} finally {
  for (const entry of brokers) {
    await entry.broker.stop();
    entry.broker.cleanup();
  }
  for (const entry of brokers) entry.security.cleanup();
}

/** The median run of (mode, workload) by rate. */
function median(mode: Mode, workload: string): SecurityResult | undefined {
  const runs = results.filter((r) => r.mode === mode && r.workload === workload).sort((a, b) => a.msgsPerSec - b.msgsPerSec);
  return runs[Math.floor((runs.length - 1) / 2)];
}

function medianConnect(mode: Mode): number {
  const times = results.filter((r) => r.mode === mode && r.workload === 'W1').map((r) => r.connectMs).sort((a, b) => a - b);
  return times[Math.floor((times.length - 1) / 2)] ?? 0;
}

const loads = results.map((r) => r.loadAverage);
const lines = [
  '',
  `median of ${repeat} (by rate); ${messages.toLocaleString('en-US')} messages of 100 B, acks all, --fsync ${values.fsync}; ` +
    `load average ${Math.min(...loads)}-${Math.max(...loads)}; commit ${machine.commit}${machine.dirty ? ' (dirty)' : ''}, ${machine.cpus} x ${machine.cpuModel}, Node ${machine.node}`,
  '',
  '| workload | mode | msgs/s | MB/s | % of plaintext | client CPU ns/msg | broker CPU ns/msg | connection setup ms |',
  '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const workload of ['W1', 'W3']) {
  const plain = modes.includes('plaintext') ? median('plaintext', workload) : undefined;
  for (const mode of modes) {
    const row = median(mode, workload);
    if (!row) continue;
    const percent = plain && plain.msgsPerSec > 0 ? `${Math.round((row.msgsPerSec / plain.msgsPerSec) * 100)}%` : '-';
    lines.push(
      `| ${workload} | ${row.system.replace(/^spool \((.*)\)$/, '$1')} | ${row.msgsPerSec.toLocaleString('en-US')} | ${row.mbPerSec} | ${percent} | ` +
        `${row.clientCpuNsPerMsg} | ${row.brokerCpuNsPerMsg} | ${medianConnect(mode)} |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
const incomplete = results.filter((r) => !r.complete);
if (incomplete.length > 0) {
  process.stderr.write(`incomplete runs: ${incomplete.map((r) => `${r.system} ${r.workload} run ${r.run}: ${r.error ?? ''}`).join('; ')}\n`);
  process.exitCode = 1;
}
