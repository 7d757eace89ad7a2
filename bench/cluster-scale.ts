// The numbers behind src/cluster/README.md "Plan for 100 brokers and 100,000 partitions",
// computed with the real code, not guessed:
// - placement of 1,000 topics x 100 partitions (RF 3) over 100 brokers: leaders per broker;
// - bytes etcd holds: every key and value encoded as the cluster module encodes them;
// - a broker failure: how many partition keys the controller rewrites, in how many
//   transactions, and how many watch events (and bytes) etcd sends to the 100 brokers;
// - CPU of one controller pass (nextPartitionState over every partition) and of a broker
//   decoding the whole listing at start (what the view does);
// - with Debian's etcd present (--etcd): the wall time of the failover's batched CAS writes
//   against a real local etcd (a scaled-down run: the batches a 1,000-leader failover writes).
//
//   npx tsx bench/cluster-scale.ts [--etcd]      (seconds; the machine is shared: CPU numbers are rough)

import { performance } from 'node:perf_hooks';
import { KeyLayout } from '../src/cluster/layout.js';
import { nextPartitionState } from '../src/cluster/leader-election.js';
import { placeReplicas } from '../src/cluster/placement.js';
import { MAX_TRANSACTION_OPERATIONS } from '../src/cluster/store.js';
import { decodePartitionState, encodeValue, type PartitionState } from '../src/cluster/values.js';
import { DEFAULT_LEASE_TTL_MS } from '../src/cluster/lease-keeper.js';

const BROKERS = 100;
const TOPICS = 1_000;
const PARTITIONS_PER_TOPIC = 100;
const RF = 3;
const layout = new KeyLayout('/spool');
const brokers = Array.from({ length: BROKERS }, (_, index) => index + 1);

// Placement, with load carried across topics as the controller does.
const leaders = new Map<number, number>();
const replicaCounts = new Map<number, number>();
const assignments: number[][][] = [];
let started = performance.now();
for (let topic = 0; topic < TOPICS; topic++) {
  const placed = placeReplicas(brokers, PARTITIONS_PER_TOPIC, RF, { leaders, replicas: replicaCounts });
  for (const chosen of placed) {
    leaders.set(chosen[0]!, (leaders.get(chosen[0]!) ?? 0) + 1);
    for (const id of chosen) replicaCounts.set(id, (replicaCounts.get(id) ?? 0) + 1);
  }
  assignments.push(placed);
}
const placementMs = performance.now() - started;
const leaderCounts = [...leaders.values()];
const replicaLoad = [...replicaCounts.values()];

// What etcd holds.
const states: { key: string; value: Buffer; state: PartitionState; replicas: number[] }[] = [];
let bytes = 0;
for (let topic = 0; topic < TOPICS; topic++) {
  const name = `topic-${String(topic).padStart(4, '0')}`;
  const placed = assignments[topic]!;
  bytes += layout.topic(name).length + encodeValue({ partitions: PARTITIONS_PER_TOPIC, replicationFactor: RF, minInsyncReplicas: 2, configs: {} }).length;
  bytes += layout.assignment(name).length + encodeValue({ replicas: placed }).length;
  for (let partition = 0; partition < placed.length; partition++) {
    const state: PartitionState = { leader: placed[partition]![0]!, leaderEpoch: 3, isr: placed[partition]!, controllerEpoch: 123_456 };
    const key = layout.partition(name, partition);
    const value = encodeValue(state);
    bytes += key.length + value.length;
    states.push({ key, value, state, replicas: placed[partition]! });
  }
}
const registrationBytes = layout.broker(100).length + encodeValue({ nodeId: 100, host: 'broker-100.example', port: 9400, kafkaHost: 'broker-100.example', kafkaPort: 9092, incarnation: '6f1c0b1e-3a7e-4c59-9d8c-1f2e3d4c5b6a' }).length;
bytes += BROKERS * registrationBytes;
const averageStateBytes = states.reduce((sum, entry) => sum + entry.key.length + entry.value.length, 0) / states.length;

// A broker failure: the controller's pass.
const dead = 37;
const live = new Set(brokers.filter((id) => id !== dead));
started = performance.now();
let rewritten = 0;
let leaderMoves = 0;
for (const entry of states) {
  const next = nextPartitionState(entry.state, entry.replicas, live, 123_457);
  if (next === null) continue;
  rewritten++;
  if (next.leader !== entry.state.leader) leaderMoves++;
}
const passMs = performance.now() - started;
const transactions = Math.ceil(rewritten / MAX_TRANSACTION_OPERATIONS);
const eventBytes = averageStateBytes + 40; // key + value + revisions and framing in the watch response

// A broker's start: decoding every partition state of the listing.
started = performance.now();
for (const entry of states) decodePartitionState(entry.value);
const decodeMs = performance.now() - started;

const renewalsPerSecond = BROKERS / (DEFAULT_LEASE_TTL_MS / 4 / 1000);
const lines = [
  `placement: ${TOPICS} topics x ${PARTITIONS_PER_TOPIC} partitions, RF ${RF}, ${BROKERS} brokers in ${placementMs.toFixed(0)} ms; leaders per broker min ${Math.min(...leaderCounts)} max ${Math.max(...leaderCounts)}; replicas per broker min ${Math.min(...replicaLoad)} max ${Math.max(...replicaLoad)}`,
  `etcd holds ${states.length + 2 * TOPICS + BROKERS + 1} keys, ${(bytes / 1e6).toFixed(1)} MB live (partition state ${averageStateBytes.toFixed(0)} B with its key)`,
  `steady state: ${renewalsPerSecond.toFixed(0)} lease renewals/s (TTL ${DEFAULT_LEASE_TTL_MS} ms, every TTL/4; served by the etcd leader, not raft writes), 0 key writes/s without ISR changes`,
  `broker ${dead} fails: ${rewritten} partition keys rewritten (${leaderMoves} leader moves) in ${transactions} transactions of <= ${MAX_TRANSACTION_OPERATIONS}; watch fan-out ${rewritten} x ${BROKERS} = ${rewritten * BROKERS} events, ${((rewritten * BROKERS * eventBytes) / 1e6).toFixed(1)} MB from etcd`,
  `it returns and catches up: ${rewritten} ISR expansions, one CAS each, by ${new Set(states.filter((entry) => entry.replicas.includes(dead)).map((entry) => nextPartitionState(entry.state, entry.replicas, live, 0)?.leader ?? entry.state.leader)).size} leaders; its 1000 leaderships moved to ${new Set(states.filter((entry) => entry.state.leader === dead).map((entry) => nextPartitionState(entry.state, entry.replicas, live, 0)!.leader)).size} brokers`,
  `controller pass over ${states.length} partitions: ${passMs.toFixed(0)} ms CPU; broker start decoding ${states.length} states: ${decodeMs.toFixed(0)} ms CPU`,
];
process.stdout.write(`${lines.join('\n')}\n`);

if (process.argv.includes('--etcd')) {
  const { startEtcd } = await import('../test/helpers/etcd.js');
  const { EtcdStore } = await import('../src/cluster/etcd-store.js');
  const etcd = await startEtcd();
  const store = new EtcdStore({ endpoints: [etcd.endpoint], requestTimeoutMs: 10_000 });
  try {
    // Write the failed broker's partitions (as created), then time the controller's batched CAS rewrite.
    const victims = states.filter((entry) => entry.replicas.includes(dead));
    const revisions = new Map<string, number>();
    for (let start = 0; start < victims.length; start += MAX_TRANSACTION_OPERATIONS) {
      const batch = victims.slice(start, start + MAX_TRANSACTION_OPERATIONS);
      const result = await store.transaction(batch.map((entry) => ({ key: entry.key, kind: 'absent' as const })), batch.map((entry) => ({ kind: 'put' as const, key: entry.key, value: entry.value })));
      for (const entry of batch) revisions.set(entry.key, result.revision);
    }
    started = performance.now();
    for (let start = 0; start < victims.length; start += MAX_TRANSACTION_OPERATIONS) {
      const batch = victims.slice(start, start + MAX_TRANSACTION_OPERATIONS);
      const result = await store.transaction(
        batch.map((entry) => ({ key: entry.key, kind: 'modRevision' as const, modRevision: revisions.get(entry.key)! })),
        batch.map((entry) => ({ kind: 'put' as const, key: entry.key, value: encodeValue(nextPartitionState(entry.state, entry.replicas, live, 123_457)!) })),
      );
      if (!result.succeeded) throw new Error('a compare failed in the benchmark');
    }
    const writeMs = performance.now() - started;
    process.stdout.write(`real etcd (one member, local disk): ${victims.length} partition keys rewritten in ${transactions} CAS transactions in ${writeMs.toFixed(0)} ms\n`);
  } finally {
    store.close();
    await etcd.destroy();
  }
}
