// Proves an AlterClientQuotas of many entries is one write of the security file, not one per
// entry (each a whole-document rewrite and two fsyncs: a fuzz run's 1,000-entry request held
// the broker's event loop for ~800 ms), with each entry still checked on its own (a bad one
// answered in its place, the others applied), and that at most MAX_QUOTA_ENTITIES entities
// are kept (a new one beyond is refused; changing or removing a known one still works).
// An in-process broker; the native API over a real socket.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { silentLogger, startBroker, type Broker } from '../../src/broker/index.js';
import { MAX_QUOTA_ENTITIES } from '../../src/broker/security-store.js';
import { ApiKey } from '../../src/protocol/apis.js';
import type * as M from '../../src/protocol/messages.js';
import { Errors } from '../../src/util/errors.js';
import { RawClient } from '../helpers/raw-client.js';

let broker: Broker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ dataDir: mkdtempSync(join(tmpdir(), 'spool-quota-batch-')), port: 0, fsync: { kind: 'never' }, logger: silentLogger });
  client = await RawClient.connect(broker.port);
});

afterAll(async () => {
  client?.socket.destroy();
  await broker?.close();
});

async function alter(entries: M.AlterClientQuotasRequest['entries']): Promise<number[]> {
  const response = await client.request<M.AlterClientQuotasResponse>(ApiKey.AlterClientQuotas, { entries });
  return response.header.results.map((result) => result.errorCode);
}

describe('AlterClientQuotas of many entries', () => {
  it('writes once, answers each entry in its place, and keeps at most MAX_QUOTA_ENTITIES entities', async () => {
    const writes = vi.spyOn(broker.context.security as unknown as { write: (data: Buffer) => void }, 'write');
    const entries: M.AlterClientQuotasRequest['entries'] = Array.from({ length: 1000 }, (_, index) => ({ user: null, clientId: `c${index}`, rates: { producer_byte_rate: 1024 + index } }));
    entries[500] = { user: null, clientId: null, rates: { producer_byte_rate: 1024 } };
    const codes = await alter(entries);
    expect(writes).toHaveBeenCalledTimes(1);
    expect(codes.filter((code) => code !== 0)).toEqual([Errors.INVALID_REQUEST.code]);
    expect(codes[500]).toBe(Errors.INVALID_REQUEST.code);
    expect(broker.context.security.listQuotas()).toHaveLength(999);

    // Fill up to the cap; one more new entity is refused, a known one can still change or go.
    for (let start = 1000; broker.context.security.listQuotas().length < MAX_QUOTA_ENTITIES; start += 1000) {
      const room = MAX_QUOTA_ENTITIES - broker.context.security.listQuotas().length;
      await alter(Array.from({ length: Math.min(1000, room) }, (_, index) => ({ user: null, clientId: `c${start + index}`, rates: { consumer_byte_rate: 2048 } })));
    }
    expect(await alter([{ user: null, clientId: 'one-too-many', rates: { producer_byte_rate: 1024 } }])).toEqual([Errors.INVALID_REQUEST.code]);
    expect(await alter([{ user: null, clientId: 'c1', rates: { producer_byte_rate: 4096 } }])).toEqual([0]);
    expect(await alter([{ user: null, clientId: 'c2', rates: { producer_byte_rate: null } }])).toEqual([0]);
  });
});
