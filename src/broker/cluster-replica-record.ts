// What a data directory knows about the cluster it serves (Kafka's meta.properties with
// cluster.id and node.id, plus the replicas held): the cluster id and key root it belongs to,
// the node id it ran as, and every partition the cluster assigned to this broker. Cluster
// mode deletes a local replica only when this record says the cluster once assigned it here
// and etcd says it no longer does (cluster-replication.ts), so data that was never part of
// this cluster (a single node's log joining a cluster, a directory from another cluster) is
// never deleted for not being assigned here.
//
// File `<dataDir>/meta/cluster-replicas`, UTF-8 text (every character ASCII), every line
// ending in '\n':
//
//   ClusterReplicas => version:"1" '\n'
//                      clusterId '\n'        22 chars [A-Za-z0-9_-]: `<root>/cluster-id` (src/cluster/cluster-id.ts)
//                      root '\n'             the etcd key root, e.g. /spool: 1-4096 chars [A-Za-z0-9._/-]
//                      nodeId:decimal '\n'   the --node-id it ran as, 0..2^31-1
//                      count:decimal '\n'    entries that follow, 0..MAX_RECORD_ENTRIES
//                      entry{count}
//                      crc:8 hex '\n'        CRC-32C (lowercase, zero-padded) of every byte before this line
//   entry           => topic ' ' partition:decimal '\n'    topic as storage validates it (no space)
//
// Decimals have no sign and no leading zero. Written atomically and durably (temp file,
// fdatasync, rename, fsync of meta/: storage's writeFileAtomicSync), so a crash leaves the
// old file or the new one, never a mix; a stray `cluster-replicas.tmp` is never read and is
// overwritten by the next write. The CRC catches what the rename cannot (a torn or
// hand-edited file): a file that does not decode is reported and treated as absent, which
// deletes nothing at attach (the safe side) and is rewritten from the cluster's assignment.
//
// The entries lag the cluster only on the safe side: a partition is added when its assignment
// is seen (before its local log is created: `flushed()`), and removed only once it is no
// longer assigned here and its local records are gone. A crash in between leaves an entry
// whose deletion the next attach finishes, or a replica the record missed, which is kept.

import { join } from 'node:path';
import { crc32c } from '../records/crc32c.js';
import { type StorageFs, nodeStorageFs, readWholeFileSync } from '../storage/fs.js';
import { writeFileAtomicSync } from '../storage/metadata.js';
import { validateTopicName } from '../storage/names.js';
import { Errors, SpoolError } from '../util/errors.js';

export const CLUSTER_REPLICAS_FILE = join('meta', 'cluster-replicas');
export const CLUSTER_REPLICAS_VERSION = 1;
/** Entries a file may hold: 1,000,000 partitions x ~260 bytes is the most a reader allocates for. */
export const MAX_RECORD_ENTRIES = 1_000_000;
/** Bytes a file may have (checked before it is read whole). */
export const MAX_RECORD_BYTES = 300 * 1024 * 1024;

/** The record's messages (the broker's and the cluster's loggers both fit). */
export interface RecordLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface ClusterIdentity {
  readonly clusterId: string;
  readonly root: string;
  readonly nodeId: number;
}

export interface HeldPartition {
  readonly topic: string;
  readonly partition: number;
}

const EMPTY: ReadonlySet<number> = new Set();
const CLUSTER_ID = /^[A-Za-z0-9_-]{22}$/;
const ROOT = /^[A-Za-z0-9._/-]{1,4096}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,15})$/;
const CRC = /^[0-9a-f]{8}$/;
const MAX_NODE_ID = 2 ** 31 - 1;

export function encodeClusterReplicas(identity: ClusterIdentity, entries: Iterable<HeldPartition>): Buffer {
  const lines: string[] = [];
  for (const entry of entries) lines.push(`${entry.topic} ${entry.partition}\n`);
  const body = Buffer.from(`${CLUSTER_REPLICAS_VERSION}\n${identity.clusterId}\n${identity.root}\n${identity.nodeId}\n${lines.length}\n${lines.join('')}`, 'ascii');
  return Buffer.concat([body, Buffer.from(`${crc32c(body).toString(16).padStart(8, '0')}\n`, 'ascii')]);
}

/** Parses a record; throws Error with a reason when the bytes are not one. */
export function decodeClusterReplicas(data: Buffer): { identity: ClusterIdentity; entries: HeldPartition[] } {
  const text = data.toString('latin1');
  if (!text.endsWith('\n')) throw new Error('no final newline (torn?)');
  const crcStart = text.lastIndexOf('\n', text.length - 2) + 1;
  const crcText = text.slice(crcStart, -1);
  if (crcStart === 0 || !CRC.test(crcText)) throw new Error('no checksum line (torn?)');
  if (crc32c(data, 0, crcStart) !== parseInt(crcText, 16)) throw new Error('checksum mismatch (torn or edited)');
  const lines = text.slice(0, crcStart - 1).split('\n');
  if (lines[0] !== String(CLUSTER_REPLICAS_VERSION)) throw new Error(`unsupported version ${JSON.stringify(lines[0])}`);
  const [clusterId = '', root = '', nodeIdText = '', countText = ''] = lines.slice(1, 5);
  if (!CLUSTER_ID.test(clusterId)) throw new Error('bad cluster id');
  if (!ROOT.test(root)) throw new Error('bad root');
  if (!DECIMAL.test(nodeIdText) || Number(nodeIdText) > MAX_NODE_ID) throw new Error('bad node id');
  if (!DECIMAL.test(countText) || Number(countText) > MAX_RECORD_ENTRIES || Number(countText) !== lines.length - 5) throw new Error(`count ${JSON.stringify(countText)} does not match ${lines.length - 5} entries`);
  const entries: HeldPartition[] = [];
  for (let i = 5; i < lines.length; i++) {
    const fields = lines[i]!.split(' ');
    if (fields.length !== 2 || !DECIMAL.test(fields[1]!)) throw new Error(`bad entry on line ${i + 1}`);
    validateTopicName(fields[0]);
    entries.push({ topic: fields[0], partition: Number(fields[1]) });
  }
  return { identity: { clusterId, root, nodeId: Number(nodeIdText) }, entries };
}

/** The record of one data directory, kept in memory and written on change (see the file comment). */
export class ClusterReplicaRecord {
  /** topic -> partitions held here. */
  private readonly held = new Map<string, Set<number>>();
  private identity: ClusterIdentity | null;
  private writeScheduled: Promise<void> | null = null;
  private writeFailed = false;

  private constructor(
    private readonly path: string,
    private readonly fs: StorageFs,
    private readonly logger: RecordLogger,
    stored: { identity: ClusterIdentity; entries: HeldPartition[] } | null,
  ) {
    this.identity = stored?.identity ?? null;
    for (const entry of stored?.entries ?? []) this.add(entry.topic, entry.partition);
  }

  /** Reads `<dataDir>/meta/cluster-replicas`; a file that does not decode is reported and taken as absent. */
  static open(dataDir: string, logger: RecordLogger, fs: StorageFs = nodeStorageFs): ClusterReplicaRecord {
    const path = join(dataDir, CLUSTER_REPLICAS_FILE);
    let stored: { identity: ClusterIdentity; entries: HeldPartition[] } | null = null;
    if (fs.existsSync(path)) {
      try {
        stored = decodeClusterReplicas(readBounded(fs, path));
      } catch (error) {
        logger.warn(`cluster: ${path} is unreadable (${error instanceof Error ? error.message : String(error)}): taken as absent, so no local replica is deleted at attach; it is written again from the cluster's assignment`);
      }
    }
    return new ClusterReplicaRecord(path, fs, logger, stored);
  }

  /** The identity the file recorded, null when there was none (a new or pre-cluster directory). */
  get storedIdentity(): ClusterIdentity | null {
    return this.identity;
  }

  /**
   * Refuses a data directory recorded for another cluster, or for another node id of this one
   * (SpoolError INCONSISTENT_CLUSTER_ID: the start stops before this broker registers).
   */
  checkIdentity(current: ClusterIdentity): void {
    const stored = this.identity;
    if (stored === null || (stored.clusterId === current.clusterId && stored.nodeId === current.nodeId)) return;
    const what = stored.clusterId !== current.clusterId ? `cluster ${stored.clusterId} (etcd root ${stored.root})` : `node id ${stored.nodeId}`;
    const now = stored.clusterId !== current.clusterId ? `cluster ${current.clusterId} (etcd root ${current.root})` : `node id ${current.nodeId}`;
    throw new SpoolError(
      Errors.INCONSISTENT_CLUSTER_ID,
      `the data directory belongs to ${what} (${this.path}), not to ${now}: refusing to start, nothing was changed. ` +
        'Start it against its own cluster, or use another --data-dir; to join this one anyway, remove that file ' +
        '(its local topics are then kept and never deleted at attach, but a topic of the same name assigned here follows the cluster\'s leader)',
    );
  }

  /** Takes the current identity and writes the file now (before the broker registers or creates any log). */
  adopt(identity: ClusterIdentity): void {
    this.identity = identity;
    this.writeNow();
  }

  /** True when the cluster assigned this partition to this broker (as far as the record knows). */
  has(topic: string, partition: number): boolean {
    return this.held.get(topic)?.has(partition) === true;
  }

  /** The partitions of `topic` the record holds (empty: none). */
  partitionsOf(topic: string): ReadonlySet<number> {
    return this.held.get(topic) ?? EMPTY;
  }

  /** Every topic the record holds a partition of. */
  topics(): string[] {
    return [...this.held.keys()];
  }

  /** Sets the partitions of `topic` held here (empty: none); writes the file soon when that changed. */
  setTopic(topic: string, partitions: ReadonlySet<number>): void {
    const current = this.held.get(topic);
    if ((current?.size ?? 0) === partitions.size && [...partitions].every((partition) => current?.has(partition))) return;
    if (partitions.size === 0) this.held.delete(topic);
    else this.held.set(topic, new Set(partitions));
    this.scheduleWrite();
  }

  /** Resolves once every change made so far was written (or its write failed: logged, retried on the next change). */
  flushed(): Promise<void> {
    return this.writeScheduled ?? Promise.resolve();
  }

  private add(topic: string, partition: number): void {
    let partitions = this.held.get(topic);
    if (!partitions) this.held.set(topic, (partitions = new Set()));
    partitions.add(partition);
  }

  /** One write per event-loop turn however many topics changed in it. */
  private scheduleWrite(): void {
    if (this.writeScheduled !== null) return;
    this.writeScheduled = new Promise<void>((resolve) => {
      setImmediate(() => {
        this.writeScheduled = null;
        this.writeNow();
        resolve();
      });
    });
  }

  private writeNow(): void {
    const identity = this.identity;
    if (identity === null) return;
    const entries: HeldPartition[] = [];
    for (const [topic, partitions] of this.held) for (const partition of [...partitions].sort((a, b) => a - b)) entries.push({ topic, partition });
    try {
      writeFileAtomicSync(this.fs, this.path, encodeClusterReplicas(identity, entries));
      if (this.writeFailed) this.logger.info(`cluster: ${this.path} written again`);
      this.writeFailed = false;
    } catch (error) {
      // The file lags on the safe side (a replica it misses is kept, never deleted): log once, retry on the next change.
      if (!this.writeFailed) this.logger.error(`cluster: writing ${this.path} failed; retried on the next assignment change`, error);
      this.writeFailed = true;
    }
  }
}

function readBounded(fs: StorageFs, path: string): Buffer {
  const fd = fs.openSync(path, 'r');
  try {
    if (fs.fileSizeSync(fd) > MAX_RECORD_BYTES) throw new Error(`larger than ${MAX_RECORD_BYTES} bytes`);
  } finally {
    fs.closeSync(fd);
  }
  return readWholeFileSync(fs, path);
}
