// Proves SharedDocument's compare-and-swap against a real etcd: two brokers' documents (two
// etcd clients) each add 10 entries at once, all 20 land (a lost compare is read again, never
// overwritten), and both local copies reach the final version through their watches; seeding
// is create-if-absent (a second seed does not overwrite); a version that does not decode is
// not applied (the previous copy stays).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdStore } from '../../src/cluster/etcd-store.js';
import { silentClusterLogger } from '../../src/cluster/logger.js';
import { SharedDocument } from '../../src/cluster/shared-document.js';
import { waitFor } from '../helpers/broker.js';
import { startEtcd, type TestEtcd } from '../helpers/etcd.js';

let etcd: TestEtcd;
const stores: EtcdStore[] = [];
const documents: SharedDocument[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
  for (let i = 0; i < 2; i++) stores.push(new EtcdStore({ endpoints: [etcd.endpoint] }));
}, 20_000);

afterAll(async () => {
  await Promise.all(documents.map((document) => document.close()));
  for (const store of stores) store.close();
  await etcd?.destroy();
});

const warnings: string[] = [];
const logger = { ...silentClusterLogger, warn: (message: string) => void warnings.push(message) };

function mirrored(store: EtcdStore, key: string): { document: SharedDocument; copy: () => string[] } {
  let copy: string[] = [];
  const document = new SharedDocument(store, key, (data) => {
    const parsed = JSON.parse(data.toString()) as unknown;
    if (!Array.isArray(parsed)) throw new Error('not a list');
    copy = parsed as string[];
  }, logger);
  documents.push(document);
  return { document, copy: () => copy };
}

const add = (entry: string) => (current: Buffer | null) => {
  const list = current === null ? [] : (JSON.parse(current.toString()) as string[]);
  return { next: Buffer.from(JSON.stringify([...list, entry])), result: list.length };
};

describe('SharedDocument', () => {
  it('concurrent changes from two clients all land, and both copies follow', async () => {
    const one = mirrored(stores[0]!, '/test/list');
    const two = mirrored(stores[1]!, '/test/list');
    await one.document.start(Buffer.from('["seed"]'));
    await two.document.start(Buffer.from('["other seed"]'));
    expect(two.copy()).toEqual(['seed']);
    await Promise.all(Array.from({ length: 10 }, (_, i) => [one.document.update(add(`a${i}`)), two.document.update(add(`b${i}`))]).flat());
    const final = JSON.parse((await stores[0]!.get('/test/list'))!.value.toString()) as string[];
    expect(final).toHaveLength(21);
    expect(new Set(final).size).toBe(21);
    await waitFor(() => one.copy().length === 21 && two.copy().length === 21, 5_000);
    expect(two.copy()).toEqual(final);
  });

  it('a version that does not decode is not applied', async () => {
    const one = mirrored(stores[0]!, '/test/bad');
    await one.document.start(Buffer.from('["kept"]'));
    await stores[1]!.put('/test/bad', '{"not":"a list"}');
    await waitFor(() => warnings.some((warning) => warning.startsWith('/test/bad') && warning.includes('could not be applied')), 5_000);
    expect(one.copy()).toEqual(['kept']);
    // The next good version is applied again.
    await stores[1]!.put('/test/bad', '["fixed"]');
    await waitFor(() => one.copy()[0] === 'fixed', 5_000);
  });
});
