// spool's Kafka listener against its native protocol, through the same W1 (produce 1M x
// 100 B, acked) and W3 (replay of W1) loops as the peer benchmark (bench/harness/runner.ts):
//
//   npx tsc -p tsconfig.json && npx tsx bench/kafka-listener.ts [--scale 1] [--repeat 1]
//       [--clients native,native-1000,kafkajs,raw-native,raw-kafka] [--raw-rate 0] [--fsync 1000]
//       [--json results.jsonl] [--tiny]
//
// One broker process (dist/cli/main.js serve --port 0 --kafka-listener 127.0.0.1:0, temp
// dir) serves every client in turn, one at a time, interleaved per repeat:
//   native       the native SDK as in the peer benchmark (bench/peers/spool.ts): lingerMs 5,
//                batchBytes 256 KiB, so the SDK merges the 1,000-message send() calls into
//                batches of ~2,300 and requests of up to 1 MiB (one in flight per partition).
//   native-1000  the native SDK shaped like kafkajs: lingerMs 0, batchBytes = the encoded size
//                of 1,000 of these records, one batch per request: every Produce request
//                carries one RecordBatch of 1,000 records, as kafkajs sends them.
//   kafkajs      kafkajs 2.2.4 on the Kafka listener (bench/peers/spool-kafkajs.ts): send() of
//                1,000 messages = one request of one RecordBatch of 1,000, acks -1; replay with
//                a fresh group, run({ eachBatch }), autoCommit off, 4 MiB per partition.
//   raw-native,  the same batches with next to no client work (bench/peers/spool-raw.ts): one
//   raw-kafka    RecordBatch of 1,000 encoded once and sent as the records of every Produce
//                request, 20 in flight; replay by 4 MiB fetches counting records from batch
//                headers. The same requests on both listeners: the listeners' own ceiling.
//                `--raw-rate N` paces their produce at N msg/s (e.g. the rate kafkajs reached),
//                since the broker's CPU per message grows as the rate falls.
// Every client hands the runner's loop 1,000 messages per call with 20,000 in flight, acks
// all; the replay reads with 4 MiB per partition per fetch.
//
// Besides msg/s it measures, per workload, the CPU time per message of this (client)
// process and of the broker process (its threads' schedstat in /proc), and each as a
// share of one core over the wall time: the broker's CPU per message is the protocol's own
// cost, independent of how fast the client library is, and a client near 100% of a core
// with the broker well below says the client is the bottleneck. JSON lines (RunResult of
// bench/harness/report.ts plus those fields) go to stdout and --json; the table to stderr.
// `--tiny` (the test suite: test/bench/kafka-listener-tiny.test.ts) runs 5,000 messages.

import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { machineInfo } from './harness/machine.js';
import { makeResult, toJsonLine, type RunResult } from './harness/report.js';
import { makePayload, runWorkload } from './harness/runner.js';
import { scaleWorkload, WORKLOADS, type Target } from './harness/workloads.js';
import { encodeBatch } from '../src/records/index.js';
import { startBroker } from '../test/helpers/broker.js';
import { KafkajsTarget } from './peers/spool-kafkajs.js';
import { RawKafkaTarget, RawNativeTarget } from './peers/spool-raw.js';
import { SPOOL_TUNING, SpoolTarget } from './peers/spool.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLIENTS = ['native', 'native-1000', 'kafkajs', 'raw-native', 'raw-kafka'] as const;
type ClientName = (typeof CLIENTS)[number];

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '1' },
    clients: { type: 'string', default: CLIENTS.join(',') },
    fsync: { type: 'string', default: '1000' },
    json: { type: 'string' },
    tiny: { type: 'boolean', default: false },
    'raw-rate': { type: 'string', default: '0' },
  },
});
const scale = values.tiny ? 0.005 : Number(values.scale);
const repeat = Number(values.repeat);
const rawRate = Number(values['raw-rate']);
const clients = values.clients.split(',').map((name) => name.trim()) as ClientName[];
for (const name of clients) if (!CLIENTS.includes(name)) throw new Error(`unknown client ${name} (${CLIENTS.join(', ')})`);
if (!(repeat >= 1)) throw new Error('--repeat must be >= 1');

const w1 = scaleWorkload(WORKLOADS.W1, scale);
const w3 = scaleWorkload(WORKLOADS.W3, scale);
/**
 * batchBytes that closes a native batch at exactly the runner's batchMessages W1 records:
 * the encoded size of such a batch plus half a record. At exactly the size, the SDK's size
 * estimate of the last record closed batches at 999 (checked by counting the records of
 * every batch in the log: 1,000 each, as kafkajs's).
 */
const kafkajsShapedBatchBytes =
  encodeBatch(Array.from({ length: SPOOL_TUNING.batchMessages }, () => ({ value: makePayload(w1.messageBytes), timestamp: Date.now() }))).length +
  Math.ceil(w1.messageBytes / 2);

interface CpuMark {
  wallMs: number;
  clientUs: number;
  brokerMs: number;
}

interface CpuFields {
  listener: 'native' | 'kafka';
  clientCpuNsPerMsg: number;
  brokerCpuNsPerMsg: number;
  /** CPU time over wall time (less the group join, when there is one), in % of one core. */
  clientCpuPercent: number;
  brokerCpuPercent: number;
  /** kafkajs replay: ms from the request to the first batch (connect, join with the broker's 1 s initial rebalance delay, sync, offsets). */
  joinMs?: number;
  /** kafkajs replay: messages / (seconds - joinMs), the rate once the group is joined. */
  msgsPerSecAfterJoin?: number;
}

type ListenerResult = RunResult & CpuFields;

const broker = await startBroker({ args: ['--fsync', values.fsync, '--kafka-listener', '127.0.0.1:0'] });
const brokerPid = broker.child.pid!;

/**
 * CPU time of the broker process so far, in ms: the sum over its threads of
 * /proc/<pid>/task/<tid>/schedstat's first field (ns on CPU; Node's threads live as long as
 * the process), which resolves a 100 ms run where /proc/<pid>/stat's 10 ms ticks do not.
 */
function brokerCpuMs(): number {
  let totalNs = 0;
  for (const tid of readdirSync(`/proc/${brokerPid}/task`)) {
    try {
      totalNs += Number(readFileSync(`/proc/${brokerPid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read: its time is lost (Node's worker threads do not end).
    }
  }
  return totalNs / 1e6;
}

function cpuMark(): CpuMark {
  const usage = process.cpuUsage();
  return { wallMs: performance.now(), clientUs: usage.user + usage.system, brokerMs: brokerCpuMs() };
}

function cpuSince(mark: CpuMark, messages: number, listener: CpuFields['listener'], joinMs = 0): CpuFields {
  const now = cpuMark();
  const wallMs = now.wallMs - mark.wallMs - joinMs;
  const clientMs = (now.clientUs - mark.clientUs) / 1000;
  const brokerMs = now.brokerMs - mark.brokerMs;
  const perMessage = (ms: number): number => (messages > 0 ? Math.round((ms * 1e6) / messages) : 0);
  return {
    listener,
    clientCpuNsPerMsg: perMessage(clientMs),
    brokerCpuNsPerMsg: perMessage(brokerMs),
    clientCpuPercent: Math.round((clientMs / wallMs) * 100),
    brokerCpuPercent: Math.round((brokerMs / wallMs) * 100),
  };
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(resolve(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version?: string };
  return manifest.version ?? '?';
}

function makeTarget(name: ClientName): Target {
  const fsync = values.fsync;
  const spoolVersion = (JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as { version?: string }).version ?? '?';
  const versions = { server: `spool ${spoolVersion} (dist/)`, client: `spool SDK ${spoolVersion} (dist/)` };
  switch (name) {
    case 'native':
      return new SpoolTarget(broker.port, fsync, SPOOL_TUNING, versions, {
        name: 'spool (native SDK)',
        producerConfig: { acks: 'all' },
        producerText: 'lingerMs 5, batchBytes 256 KiB',
      });
    case 'native-1000':
      return new SpoolTarget(broker.port, fsync, SPOOL_TUNING, versions, {
        name: 'spool (native SDK, 1,000-msg requests)',
        producerConfig: { acks: 'all', lingerMs: 0, batchBytes: kafkajsShapedBatchBytes, maxRequestBytes: 1 },
        producerText: `lingerMs 0, batchBytes ${kafkajsShapedBatchBytes} = one batch of ${SPOOL_TUNING.batchMessages}, one batch per request`,
      });
    case 'raw-native':
      return new RawNativeTarget(broker.port, fsync, w1.messageBytes, rawRate);
    case 'raw-kafka':
      return new RawKafkaTarget(broker.port, broker.kafkaAddress!, fsync, w1.messageBytes, rawRate);
    case 'kafkajs':
      return new KafkajsTarget(broker.kafkaAddress!, fsync, undefined, {
        serverVersion: `spool ${spoolVersion} (dist/), Kafka listener`,
        clientVersion: `kafkajs ${packageVersion('kafkajs')}`,
      });
  }
}

const machine = machineInfo(REPO);
const suffix = Math.random().toString(36).slice(2, 8);
const results: ListenerResult[] = [];

function record(result: ListenerResult): void {
  results.push(result);
  const line = toJsonLine(result);
  process.stdout.write(`${line}\n`);
  if (values.json) appendFileSync(values.json, `${line}\n`);
  process.stderr.write(
    `${result.system} ${result.workload} run ${result.run}: ${result.msgsPerSec.toLocaleString('en-US')} msg/s; CPU per msg client ${result.clientCpuNsPerMsg} ns ` +
      `(${result.clientCpuPercent}% of a core), broker ${result.brokerCpuNsPerMsg} ns (${result.brokerCpuPercent}%)` +
      (result.joinMs !== undefined ? `; join ${result.joinMs} ms, ${(result.msgsPerSecAfterJoin ?? 0).toLocaleString('en-US')} msg/s after it` : '') +
      `; load ${result.loadAverage}${result.complete ? '' : ` INCOMPLETE: ${result.error ?? ''}`}\n`,
  );
}

try {
  for (let run = 1; run <= repeat; run++) {
    for (const name of clients) {
      const target = makeTarget(name);
      const listener = name === 'kafkajs' || name === 'raw-kafka' ? 'kafka' : 'native';
      const stream = `kl-${name}-${run}-${suffix}`;
      await target.setup();
      try {
        for (const workload of [w1, w3]) {
          const machineNow = { ...machine, loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100 };
          const mark = cpuMark();
          const measurement = await runWorkload(target, workload, stream);
          const joinMs = workload.kind === 'replay' && target instanceof KafkajsTarget ? target.lastJoinMs : undefined;
          const cpu = cpuSince(mark, measurement.messages, listener, joinMs);
          if (joinMs !== undefined) {
            cpu.joinMs = Math.round(joinMs);
            const seconds = measurement.seconds - joinMs / 1000;
            cpu.msgsPerSecAfterJoin = seconds > 0 ? Math.round(measurement.messages / seconds) : 0;
          }
          record({ ...makeResult({ system: target.name, workload, run, measurement, settings: target.settings, machine: machineNow }), ...cpu });
        }
        await target.deleteStream(stream);
      } finally {
        await target.close();
      }
    }
  }
} finally {
  await broker.stop();
  broker.cleanup();
}

/** The median of the runs of one (system, workload) by rate (after the join for a kafkajs replay). */
function median(system: string, workload: string): ListenerResult | undefined {
  const runs = results.filter((r) => r.system === system && r.workload === workload).sort((a, b) => rateOf(a) - rateOf(b));
  return runs[Math.floor((runs.length - 1) / 2)];
}

// W3 of kafkajs is compared by its rate after the group join (the native replay has no group).
const rateOf = (row: ListenerResult): number => row.msgsPerSecAfterJoin ?? row.msgsPerSec;
const systems = [...new Set(results.map((r) => r.system))];
const lines = ['workload  system                                     msgs/s  after join  client ns/msg  broker ns/msg  client CPU  broker CPU  load'];
for (const workload of ['W1', 'W3']) {
  for (const system of systems) {
    const row = median(system, workload);
    if (!row) continue;
    const afterJoin = row.msgsPerSecAfterJoin !== undefined ? row.msgsPerSecAfterJoin.toLocaleString('en-US') : '-';
    lines.push(
      `${workload.padEnd(8)}  ${system.padEnd(40)} ${row.msgsPerSec.toLocaleString('en-US').padStart(9)}  ${afterJoin.padStart(10)}  ` +
        `${String(row.clientCpuNsPerMsg).padStart(13)}  ${String(row.brokerCpuNsPerMsg).padStart(13)}  ` +
        `${`${row.clientCpuPercent}%`.padStart(10)}  ${`${row.brokerCpuPercent}%`.padStart(10)}  ${row.loadAverage}`,
    );
  }
}
// Kafka listener / native listener, for the pairs that do the same client work.
const PAIRS: Array<[ClientName, ClientName, string]> = [
  ['raw-kafka', 'raw-native', 'raw requests, same batches (listener vs listener)'],
  ['kafkajs', 'native-1000', 'kafkajs vs native SDK, same 1,000-record requests'],
  ['kafkajs', 'native', 'kafkajs vs native SDK as usually driven'],
];
const nameOf = new Map(clients.map((client) => [client, makeTarget(client).name]));
for (const [kafka, native, what] of PAIRS) {
  for (const workload of ['W1', 'W3']) {
    const k = median(nameOf.get(kafka) ?? '', workload);
    const n = median(nameOf.get(native) ?? '', workload);
    if (!k || !n) continue;
    const percent = (a: number, b: number): string => (b > 0 ? `${Math.round((a / b) * 100)}%` : '-');
    lines.push(
      `${workload} ${what}: rate ${percent(rateOf(k), rateOf(n))} of native, broker CPU per message ${percent(k.brokerCpuNsPerMsg, n.brokerCpuNsPerMsg)} of native`,
    );
  }
}
process.stderr.write(`\nmedian of ${repeat} (by rate), ${w1.messages} messages of ${w1.messageBytes} B, --fsync ${values.fsync}\n${lines.join('\n')}\n`);
