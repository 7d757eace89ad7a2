// Proves the data directory's cluster record (src/broker/cluster-replica-record.ts): its bytes
// are pinned by a golden string; every prefix, a flipped byte and a stray temp file are
// refused or ignored (a file that does not decode is taken as absent: nothing deleted at
// attach); a crash at every step of a write (an fs that throws at its Nth call, writing half
// the bytes first) leaves a file that reads as the old record or the new one, never a broken
// one; and a record of another cluster id or node id is refused with INCONSISTENT_CLUSTER_ID.

import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CLUSTER_REPLICAS_FILE,
  ClusterReplicaRecord,
  decodeClusterReplicas,
  encodeClusterReplicas,
  type ClusterIdentity,
  type RecordLogger,
} from '../../src/broker/cluster-replica-record.js';
import { nodeStorageFs, type StorageFs } from '../../src/storage/fs.js';
import { Errors, isSpoolError } from '../../src/util/errors.js';

const identity: ClusterIdentity = { clusterId: 'AAAAAAAAAAAAAAAAAAAAAA', root: '/spool', nodeId: 3 };
const GOLDEN = '1\nAAAAAAAAAAAAAAAAAAAAAA\n/spool\n3\n2\norders 0\norders 2\n1fd0be39\n';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'spool-record-'));
  dirs.push(dir);
  nodeStorageFs.mkdirSync(join(dir, 'meta'));
  return dir;
}

function logger(): RecordLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, info: () => {}, warn: (message) => warnings.push(message), error: (message) => errors.push(message) };
}

/** Waits for the record's coalesced write. */
async function flushed(record: ClusterReplicaRecord): Promise<void> {
  await record.flushed();
}

describe('cluster-replicas file format', () => {
  it('encodes to the golden bytes and decodes them back', () => {
    const bytes = encodeClusterReplicas(identity, [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 2 }]);
    expect(bytes.toString('ascii')).toBe(GOLDEN);
    expect(decodeClusterReplicas(bytes)).toEqual({ identity, entries: [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 2 }] });
    expect(decodeClusterReplicas(encodeClusterReplicas(identity, []))).toEqual({ identity, entries: [] });
  });

  it('refuses every torn prefix and a flipped byte anywhere', () => {
    const bytes = Buffer.from(GOLDEN, 'ascii');
    for (let length = 0; length < bytes.length; length++) expect(() => decodeClusterReplicas(bytes.subarray(0, length)), `prefix ${length}`).toThrow();
    for (let at = 0; at < bytes.length - 1; at++) {
      const flipped = Buffer.from(bytes);
      flipped[at] = flipped[at]! ^ 0x01;
      expect(() => decodeClusterReplicas(flipped), `flip at ${at}`).toThrow();
    }
  });

  it('takes an unreadable file as absent (nothing to delete), with a warning, and ignores a stray temp file', () => {
    const dir = dataDir();
    writeFileSync(join(dir, CLUSTER_REPLICAS_FILE), GOLDEN.slice(0, 30));
    const log = logger();
    const record = ClusterReplicaRecord.open(dir, log);
    expect(record.storedIdentity).toBeNull();
    expect(record.topics()).toEqual([]);
    expect(log.warnings.join('\n')).toMatch(/unreadable .*taken as absent/);

    writeFileSync(join(dir, CLUSTER_REPLICAS_FILE), GOLDEN);
    writeFileSync(join(dir, `${CLUSTER_REPLICAS_FILE}.tmp`), 'garbage from a crashed write');
    const again = ClusterReplicaRecord.open(dir, logger());
    expect(again.storedIdentity).toEqual(identity);
    expect([...again.partitionsOf('orders')]).toEqual([0, 2]);
  });
});

describe('ClusterReplicaRecord', () => {
  it('writes changes once per turn, and refuses another cluster id or node id', async () => {
    const dir = dataDir();
    const record = ClusterReplicaRecord.open(dir, logger());
    expect(record.storedIdentity).toBeNull();
    record.checkIdentity(identity);
    record.adopt(identity);
    expect(decodeClusterReplicas(readFileSync(join(dir, CLUSTER_REPLICAS_FILE)))).toEqual({ identity, entries: [] });
    record.setTopic('orders', new Set([2, 0]));
    record.setTopic('audit', new Set([1]));
    await flushed(record);
    expect(readFileSync(join(dir, CLUSTER_REPLICAS_FILE), 'ascii')).toContain('orders 0\norders 2\naudit 1\n');
    record.setTopic('audit', new Set());
    await flushed(record);

    const reopened = ClusterReplicaRecord.open(dir, logger());
    expect(reopened.topics()).toEqual(['orders']);
    expect(() => reopened.checkIdentity(identity)).not.toThrow();
    const refused = (other: ClusterIdentity): unknown => {
      try {
        reopened.checkIdentity(other);
      } catch (error) {
        return error;
      }
      return null;
    };
    const otherCluster = refused({ ...identity, clusterId: 'BBBBBBBBBBBBBBBBBBBBBB', root: '/other' });
    expect(isSpoolError(otherCluster, Errors.INCONSISTENT_CLUSTER_ID)).toBe(true);
    expect(String((otherCluster as Error).message)).toMatch(/belongs to cluster AAAAAAAAAAAAAAAAAAAAAA \(etcd root \/spool\).*not to cluster BBBBBBBBBBBBBBBBBBBBBB \(etcd root \/other\): refusing to start/);
    expect(isSpoolError(refused({ ...identity, nodeId: 4 }), Errors.INCONSISTENT_CLUSTER_ID)).toBe(true);
  });

  it('a crash at any step of a write leaves the old record or the new one', async () => {
    const oldEntries = new Set([0]);
    const newEntries = new Set([0, 1, 2]);
    let completed = false;
    for (let crashAt = 0; !completed; crashAt++) {
      expect(crashAt).toBeLessThan(50);
      const dir = dataDir();
      const record = ClusterReplicaRecord.open(dir, logger());
      record.adopt(identity);
      record.setTopic('orders', oldEntries);
      await flushed(record);

      // The same record's next write goes through an fs that "crashes" at its Nth call.
      const log = logger();
      const crashing = crashingFs(crashAt);
      const writer = ClusterReplicaRecord.open(dir, log, crashing.fs);
      writer.setTopic('orders', newEntries);
      await flushed(writer);
      completed = !crashing.crashed;
      if (crashing.crashed) expect(log.errors.join('\n')).toMatch(/writing .* failed/);

      const after = ClusterReplicaRecord.open(dir, logger());
      expect(after.storedIdentity, `crash at call ${crashAt}`).toEqual(identity);
      const partitions = [...after.partitionsOf('orders')];
      expect([[0], [0, 1, 2]], `crash at call ${crashAt}`).toContainEqual(partitions);
      if (completed) expect(partitions).toEqual([0, 1, 2]);
      expect(existsSync(join(dir, CLUSTER_REPLICAS_FILE))).toBe(true);
    }
  });
});

/** nodeStorageFs whose `crashAt`-th call (0-based) fails; a write that fails writes half its bytes first. */
function crashingFs(crashAt: number): { fs: StorageFs; readonly crashed: boolean } {
  let calls = 0;
  let crashed = false;
  const step = (): boolean => {
    if (crashed) throw new Error('process is gone');
    if (calls++ !== crashAt) return false;
    crashed = true;
    return true;
  };
  const fs: StorageFs = {
    ...nodeStorageFs,
    openSync: (path, flags) => {
      if (flags !== 'r' && step()) throw new Error('crash at open');
      return nodeStorageFs.openSync(path, flags);
    },
    writeSync: (fd, buffer, offset, length, position) => {
      if (step()) {
        nodeStorageFs.writeSync(fd, buffer, offset, Math.floor(length / 2), position);
        throw new Error('crash mid-write');
      }
      return nodeStorageFs.writeSync(fd, buffer, offset, length, position);
    },
    fdatasyncSync: (fd) => {
      if (step()) throw new Error('crash at fdatasync');
      nodeStorageFs.fdatasyncSync(fd);
    },
    renameSync: (from, to) => {
      if (step()) throw new Error('crash at rename');
      nodeStorageFs.renameSync(from, to);
    },
    fsyncDirSync: (path) => {
      if (step()) throw new Error('crash at fsync of the directory');
      nodeStorageFs.fsyncDirSync(path);
    },
  };
  return {
    fs,
    get crashed() {
      return crashed;
    },
  };
}
