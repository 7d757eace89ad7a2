// The acknowledged-messages checker of issue #12 as a command (the logic is
// test/helpers/ack-checker.ts, shared with the fault tests):
//
//   npx tsx bench/cluster-check.ts --acked producer-a.jsonl [--acked producer-b.jsonl ...] \
//       (--read read-back.jsonl | --cluster etcd://127.0.0.1:2379 --topic T --partitions N)
//
// --acked: a producer's own log of acknowledged messages, one JSON line each
//   {"producer","key","partition","offset","sequence"} (AckLog writes it), values being
//   `<producer>:<sequence>`. --read: what was read back, one JSON line each
//   {"partition","offset","value"}; or --cluster/--topic/--partitions to read every partition
//   from its leader as etcd names it (from offset 0 to the high watermark).
// Prints `acked A, read R: lost L, duplicated D, reordered O, moved M` and up to ten examples;
// exits 1 when anything acknowledged was lost, reordered or moved (duplicates alone are
// at-least-once, not a failure).

import { Command } from 'commander';
import { EtcdStore } from '../src/cluster/etcd-store.js';
import { parseClusterUrl } from '../src/cluster/etcd-url.js';
import { KeyLayout } from '../src/cluster/layout.js';
import { checkAcks, formatCheck, readJsonLines, readPartition, type AckedMessage, type ReadMessage } from '../test/helpers/ack-checker.js';
import { etcdLocator } from '../test/helpers/ack-producer.js';

const program = new Command('cluster-check')
  .requiredOption('--acked <file>', 'a producer ack log (JSON lines); repeatable', (value: string, previous: string[]) => [...previous, value], [] as string[])
  .option('--read <file>', 'the messages read back (JSON lines)')
  .option('--cluster <etcd-url>', 'read back from the cluster instead: etcd://host:port[/root]')
  .option('--topic <name>', 'with --cluster: the topic')
  .option('--partitions <n>', 'with --cluster: its partition count', (value: string) => Number(value), 1)
  .parse();

const options = program.opts<{ acked: string[]; read?: string; cluster?: string; topic?: string; partitions: number }>();

async function readBack(): Promise<ReadMessage[]> {
  if (options.read !== undefined) return readJsonLines<ReadMessage>(options.read);
  if (options.cluster === undefined || options.topic === undefined) throw new Error('give --read <file>, or --cluster <etcd-url> with --topic');
  const url = parseClusterUrl(options.cluster);
  const store = new EtcdStore({ endpoints: url.endpoints });
  try {
    const locate = etcdLocator(store, new KeyLayout(url.root));
    const read: ReadMessage[] = [];
    for (let partition = 0; partition < options.partitions; partition++) {
      const leader = await locate(options.topic, partition);
      if (!leader) throw new Error(`${options.topic}/${partition} has no leader`);
      read.push(...(await readPartition(leader.port, options.topic, partition)));
    }
    return read;
  } finally {
    store.close();
  }
}

const acked = options.acked.flatMap((file) => readJsonLines<AckedMessage>(file));
const result = checkAcks(acked, await readBack());
console.log(formatCheck(result));
for (const example of result.examples) console.log(`  ${example}`);
process.exitCode = result.lost + result.reordered + result.moved > 0 ? 1 : 0;
