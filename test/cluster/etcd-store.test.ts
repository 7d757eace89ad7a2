// Proves the ClusterStore over a real etcd (Debian's etcd-server, started by the test on
// 127.0.0.1 with ephemeral ports): get/put/delete/list, the compare-and-swap transaction
// (create-if-absent and compare-mod-revision both reject a stale writer and change nothing),
// a listing in pages of one key returns every key,
// prefix watches deliver puts and deletes in order, a lease's keys vanish when it is revoked
// or left to expire, and calls fail with CLUSTER_UNAVAILABLE while etcd is down and work
// again after it restarts (same data: keys and revisions survive).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import type { WatchEvent } from '../../src/cluster/store.js';
import { isSpoolError, Errors } from '../../src/util/errors.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';
import { waitFor } from '../helpers/broker.js';

let etcd: TestEtcd;
let store: EtcdStore;

beforeAll(async () => {
  etcd = await startEtcd();
  store = new EtcdStore({ endpoints: [etcd.endpoint], requestTimeoutMs: 1000 });
});

afterAll(async () => {
  store.close();
  await etcd.destroy();
});

describe('EtcdStore', () => {
  it('gets, puts, lists and deletes', async () => {
    const revision = await store.put('/t/a/1', 'one');
    await store.put('/t/a/2', Buffer.from('two'));
    await store.put('/t/b', 'other');
    const got = await store.get('/t/a/1');
    expect(got?.value.toString()).toBe('one');
    expect(got?.modRevision).toBe(revision);
    const listing = await store.list('/t/a/');
    expect(listing.items.map((item) => item.key)).toEqual(['/t/a/1', '/t/a/2']);
    expect(listing.revision).toBeGreaterThan(revision);
    // In pages of one key (the page size 100,000 partitions need, made tiny): every key.
    const paged = new EtcdStore({ endpoints: [etcd.endpoint], listPageKeys: 1 });
    try {
      await paged.put('/t/b', 'written after the listing');
      const pages = await paged.list('/t/');
      expect(pages.items.map((item) => item.key)).toEqual(['/t/a/1', '/t/a/2', '/t/b']);
      expect(pages.items[2]!.value.toString()).toBe('written after the listing');
    } finally {
      paged.close();
    }
    expect(await store.delete('/t/a/1')).toBe(true);
    expect(await store.delete('/t/a/1')).toBe(false);
    expect(await store.get('/t/a/1')).toBeNull();
  });

  it('rejects a create over an existing key and a stale compare-and-swap, changing nothing', async () => {
    const created = await store.transaction([{ key: '/t/cas', kind: 'absent' }], [{ kind: 'put', key: '/t/cas', value: 'first' }]);
    expect(created.succeeded).toBe(true);
    const again = await store.transaction([{ key: '/t/cas', kind: 'absent' }], [{ kind: 'put', key: '/t/cas', value: 'second' }]);
    expect(again.succeeded).toBe(false);
    const current = (await store.get('/t/cas'))!;
    expect(current.value.toString()).toBe('first');
    expect(current.createRevision).toBe(created.revision);
    const swapped = await store.transaction([{ key: '/t/cas', kind: 'modRevision', modRevision: current.modRevision }], [{ kind: 'put', key: '/t/cas', value: 'third' }, { kind: 'put', key: '/t/cas-side', value: 'x' }]);
    expect(swapped.succeeded).toBe(true);
    const stale = await store.transaction([{ key: '/t/cas', kind: 'modRevision', modRevision: current.modRevision }], [{ kind: 'put', key: '/t/cas', value: 'stale' }, { kind: 'delete', key: '/t/cas-side' }]);
    expect(stale.succeeded).toBe(false);
    expect((await store.get('/t/cas'))!.value.toString()).toBe('third');
    expect(await store.get('/t/cas-side')).not.toBeNull();
    const fenced = await store.transaction([{ key: '/t/cas', kind: 'createRevision', createRevision: current.createRevision + 1000 }], [{ kind: 'put', key: '/t/cas', value: 'fenced' }]);
    expect(fenced.succeeded).toBe(false);
  });

  it('watches a prefix from a revision: puts and deletes in order', async () => {
    const start = (await store.list('/t/w/')).revision + 1;
    const events: WatchEvent[] = [];
    const watch = store.watchPrefix('/t/w/', start, { onEvents: (batch) => events.push(...batch), onError: () => {} });
    await store.put('/t/w/x', '1');
    await store.put('/t/w/x', '2');
    await store.delete('/t/w/x');
    await store.put('/t/other', 'ignored');
    await waitFor(() => events.length >= 3);
    expect(events.map((event) => `${event.kind} ${event.key} ${event.value.toString()}`)).toEqual(['put /t/w/x 1', 'put /t/w/x 2', 'delete /t/w/x ']);
    await watch.close();
  });

  it('deletes a lease\'s keys on revoke and on expiry', async () => {
    const revoked = await store.grantLease(2);
    await store.put('/t/lease/revoked', 'x', { leaseId: revoked });
    expect(await store.keepAliveOnce(revoked)).toBeGreaterThan(0);
    await store.revokeLease(revoked);
    expect(await store.get('/t/lease/revoked')).toBeNull();
    expect(await store.keepAliveOnce(revoked)).toBe(0);

    const expiring = await store.grantLease(1);
    await store.put('/t/lease/expiring', 'x', { leaseId: expiring });
    const started = Date.now();
    await waitFor(async () => (await store.get('/t/lease/expiring')) === null, 5_000, 100);
    // etcd rounds a TTL up to its minimum (1.5 x election timeout here), so allow up to ~3 s.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it('fails with CLUSTER_UNAVAILABLE while etcd is down, and works after it restarts', async () => {
    await store.put('/t/survives', 'yes');
    const events: WatchEvent[] = [];
    let broken: Error | null = null;
    store.watchPrefix('/t/survives', (await store.list('/t/')).revision + 1, { onEvents: (batch) => events.push(...batch), onError: (error) => (broken = error) });
    await etcd.stop();
    const error = await store.get('/t/survives').then(() => null, (caught: unknown) => caught);
    expect(isSpoolError(error, Errors.CLUSTER_UNAVAILABLE)).toBe(true);
    await waitFor(() => broken !== null);
    expect(isSpoolError(broken, Errors.CLUSTER_UNAVAILABLE)).toBe(true);
    await etcd.restart();
    const value = await waitFor(async () => (await store.get('/t/survives').catch(() => null))?.value.toString(), 10_000, 100);
    expect(value).toBe('yes');
  });
});
