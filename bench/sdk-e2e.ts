// End-to-end SDK benchmark: `npx tsx bench/sdk-e2e.ts [--messages N] [--size B] [--tiny]`.
// Starts a broker process (dist/cli/main.js serve, port 0, temp dir; run `npx tsc` first),
// then measures one producer (acks=1, 100-byte values, one partition) in msg/s and MB/s,
// and a consumer replaying the topic from the start (iterator and run/eachBatch). The
// producer is driven the way a throughput-minded user drives it: send() of arrays of
// messages, many sends outstanding. Back-of-envelope: 100 B values make ~110 B records,
// so 500 k msg/s is ~55 MB/s through loopback and one disk write path. Besides wall-clock
// rates it prints the CPU time per message of the client process and of the broker
// process (from /proc), which stay meaningful when other work shares the machine.
// --tls: the same runs over TLS (certificates made with openssl in a temp dir, as the tests
// make them; the broker gets --tls-cert/--tls-key, the client ssl: { ca }), to measure the
// cost of encryption beside a plaintext run. --sasl scram-sha-256|scram-sha-512: the broker
// runs with that mechanism, a bootstrap user and --super-users for it, the client logs in as
// it (bench/security-modes.ts); combinable with --tls. --acks all|1 (default 1).

import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '../src/client/index.js';
import { startBroker } from '../test/helpers/broker.js';
import { benchSecurity, parseSaslMechanism } from './security-modes.js';
import { sendAll } from './send-loop.js';

function argument(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const tiny = process.argv.includes('--tiny');
const total = argument('--messages', tiny ? 20_000 : 3_000_000);
const size = argument('--size', 100);
const perSend = argument('--per-send', 1000);
const outstanding = argument('--outstanding', 64);
const partitions = argument('--partitions', 1);
// maxBytesPerPartition of the replaying consumers: 4 MiB (the SDK default is 1 MiB, as in Kafka; with one
// partition a bigger fetch hides the fetch round trip better).
const fetchBytes = argument('--fetch-bytes', 4 * 1024 * 1024);
// --phases produce,iterator,eachBatch (default all): the replays need the produce phase first.
const phases = new Set((process.argv.includes('--phases') ? process.argv[process.argv.indexOf('--phases') + 1]! : 'produce,iterator,eachBatch').split(','));
const fsync = process.argv.includes('--fsync') ? process.argv[process.argv.indexOf('--fsync') + 1]! : 'never';
const acks = process.argv.includes('--acks') && process.argv[process.argv.indexOf('--acks') + 1] === 'all' ? 'all' : 1;
const security = benchSecurity({
  tls: process.argv.includes('--tls'),
  ...(process.argv.includes('--sasl') ? { sasl: parseSaslMechanism(process.argv[process.argv.indexOf('--sasl') + 1]) } : {}),
});

// --broker-prof <dir>: the broker process runs with `node --cpu-prof --cpu-prof-dir <dir>` (the
// profile is written when it exits). The test helper spawns process.execPath, so for this one
// start it points at a small wrapper script that adds the flags.
const brokerProf = process.argv.includes('--broker-prof') ? process.argv[process.argv.indexOf('--broker-prof') + 1]! : null;
const nodePath = process.execPath;
if (brokerProf !== null) {
  const wrapper = join(mkdtempSync(join(tmpdir(), 'spool-prof-')), 'node');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(nodePath)} --cpu-prof --cpu-prof-dir ${JSON.stringify(brokerProf)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  process.execPath = wrapper;
}
const broker = await startBroker({ args: ['--fsync', fsync, ...security.brokerArgs], env: security.brokerEnv });
process.execPath = nodePath;
const client = new Client({ brokers: [broker.address], ...security.clientConfig });
try {
  const topic = 'bench';
  await client.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });

  // Produce: one array of message objects reused for every send (the producer encodes
  // synchronously in send(), so the objects are free again when send() returns).
  const value = Buffer.alloc(size, 'x');
  const messages = Array.from({ length: perSend }, () => ({ value }));
  const producer = client.producer({ acks, lingerMs: 5 });
  let mark = cpuMark();
  const produceStart = performance.now();
  await sendAll(producer, topic, messages, total, outstanding);
  await producer.flush();
  const produceSeconds = (performance.now() - produceStart) / 1000;
  report('produce', total, produceSeconds, size, mark);

  // Replay with the async iterator.
  if (phases.has('iterator')) {
    const consumer = client.consumer({ autoOffsetReset: 'earliest', maxBytesPerPartition: fetchBytes });
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    mark = cpuMark();
    const start = performance.now();
    let count = 0;
    let bytes = 0;
    for await (const message of consumer) {
      bytes += message.value!.length;
      if (++count === total) break;
    }
    report('replay (for await)', count, (performance.now() - start) / 1000, bytes / count, mark);
    await consumer.close();
  }

  // Replay with run({ eachBatch }).
  if (phases.has('eachBatch')) {
    const consumer = client.consumer({ autoOffsetReset: 'earliest', maxBytesPerPartition: fetchBytes });
    await consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 'earliest' as const })));
    mark = cpuMark();
    const start = performance.now();
    let count = 0;
    await consumer.run({
      eachBatch: async ({ batch }) => {
        count += batch.messages.length;
        if (count >= total) void consumer.close();
      },
    });
    report('replay (eachBatch)', count, (performance.now() - start) / 1000, size, mark);
  }
} finally {
  await client.close();
  await broker.stop();
  broker.cleanup();
  security.cleanup();
}

interface CpuMark {
  client: NodeJS.CpuUsage;
  brokerMs: number;
}

/** CPU ms of the broker process so far (utime + stime from /proc; 0 where there is no /proc). */
function brokerCpuMs(): number {
  try {
    const fields = readFileSync(`/proc/${broker.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
  } catch {
    return 0; // not Linux: the CPU columns read 0
  }
}

function cpuMark(): CpuMark {
  return { client: process.cpuUsage(), brokerMs: brokerCpuMs() };
}

function report(what: string, count: number, seconds: number, messageBytes: number, mark: CpuMark): void {
  const rate = count / seconds;
  const clientUsage = process.cpuUsage(mark.client);
  const clientNs = ((clientUsage.user + clientUsage.system) * 1000) / count;
  const brokerNs = ((brokerCpuMs() - mark.brokerMs) * 1e6) / count;
  console.log(
    `${what.padEnd(20)} ${count} msgs of ${size} B in ${seconds.toFixed(2)} s: ${Math.round(rate).toLocaleString('en-US')} msg/s, ` +
      `${((rate * messageBytes) / 1e6).toFixed(1)} MB/s; CPU per message: client ${Math.round(clientNs)} ns, broker ${Math.round(brokerNs)} ns ` +
      `(acks=${acks}, fsync ${fsync}${security.label === 'plaintext' ? '' : `, ${security.label}`})`,
  );
}
