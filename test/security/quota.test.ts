// Proves the quota model (src/security/quota.ts) and the security file format
// (security-state.ts): the most specific quota applies ((user, client id), then user, then
// client id; anonymous connections only by client id); the virtual-clock rate lets a burst
// of one second through, then throttles so the long-run rate is the quota; and the state
// file round-trips and refuses what it cannot trust.

import { describe, expect, it } from 'vitest';
import { Operation, PatternType, Permission, ResourceType } from '../../src/security/acl.js';
import { BURST_MS, QuotaKind, QuotaManager } from '../../src/security/quota.js';
import { decodeSecurityState, encodeSecurityState } from '../../src/security/security-state.js';

describe('QuotaManager', () => {
  it('picks the most specific quota', () => {
    const quotas = new QuotaManager();
    quotas.set({ user: null, clientId: 'app' }, { producer_byte_rate: 1 });
    quotas.set({ user: 'alice', clientId: null }, { producer_byte_rate: 2 });
    quotas.set({ user: 'alice', clientId: 'app' }, { producer_byte_rate: 3 });
    expect(quotas.quotaFor('User:alice', 'app', QuotaKind.Produce)?.bytesPerSecond).toBe(3);
    expect(quotas.quotaFor('User:alice', 'other', QuotaKind.Produce)?.bytesPerSecond).toBe(2);
    expect(quotas.quotaFor('User:bob', 'app', QuotaKind.Produce)?.bytesPerSecond).toBe(1);
    expect(quotas.quotaFor('User:ANONYMOUS', 'app', QuotaKind.Produce)?.bytesPerSecond).toBe(1);
    expect(quotas.quotaFor('User:bob', 'other', QuotaKind.Produce)).toBeNull();
    expect(quotas.quotaFor('User:alice', 'app', QuotaKind.Fetch)).toBeNull();
  });

  it('removes a rate with null, and the entity with its last rate', () => {
    const quotas = new QuotaManager();
    quotas.set({ user: 'alice', clientId: null }, { producer_byte_rate: 10, consumer_byte_rate: 20 });
    quotas.set({ user: 'alice', clientId: null }, { producer_byte_rate: null });
    expect(quotas.list()).toEqual([{ entity: { user: 'alice', clientId: null }, rates: { consumer_byte_rate: 20 } }]);
    quotas.set({ user: 'alice', clientId: null }, { consumer_byte_rate: null });
    expect(quotas.size).toBe(0);
  });

  it('throttles beyond a one-second burst so the long-run rate is the quota', () => {
    const quotas = new QuotaManager([{ entity: { user: null, clientId: 'c' }, rates: { producer_byte_rate: 1000 } }]);
    // One second's worth passes unthrottled.
    expect(quotas.record('User:ANONYMOUS', 'c', QuotaKind.Produce, 1000, 0)).toBe(0);
    // The next second's worth at once: throttled by how far ahead it runs (1 s).
    expect(quotas.record('User:ANONYMOUS', 'c', QuotaKind.Produce, 1000, 0)).toBe(1000);
    // Sending as fast as the throttle lets: 100 requests of 1000 bytes take ~100 s of clock.
    let nowMs = 0;
    for (let i = 0; i < 100; i++) nowMs += quotas.record('User:ANONYMOUS', 'c', QuotaKind.Produce, 1000, nowMs);
    expect(nowMs).toBeGreaterThanOrEqual(100_000);
    expect(nowMs).toBeLessThanOrEqual(102_000 + BURST_MS);
    // Unlimited owners are never throttled.
    expect(quotas.record('User:ANONYMOUS', 'other', QuotaKind.Produce, 1e9, 0)).toBe(0);
  });
});

describe('security state file', () => {
  it('round-trips ACLs and quotas', () => {
    const state = {
      acls: [
        { principal: 'User:alice', host: '*', resourceType: ResourceType.Topic, resourceName: 'orders', patternType: PatternType.Prefixed, operation: Operation.Write, permission: Permission.Allow },
      ],
      quotas: [{ entity: { user: 'alice', clientId: null }, rates: { producer_byte_rate: 1024 } }],
    };
    expect(decodeSecurityState(encodeSecurityState(state))).toEqual(state);
  });

  it('refuses a file it cannot trust', () => {
    expect(() => decodeSecurityState(Buffer.from('{'))).toThrow(/not JSON/);
    expect(() => decodeSecurityState(Buffer.from('{"format":2,"acls":[],"quotas":[]}'))).toThrow(/format/);
    expect(() => decodeSecurityState(Buffer.from('{"format":1,"acls":[{"principal":"User:a"}],"quotas":[]}'))).toThrow(/acls\[0\]/);
    expect(() => decodeSecurityState(Buffer.from('{"format":1,"acls":[],"quotas":[{"user":null,"clientId":null,"rates":{}}]}'))).toThrow(/neither/);
    expect(() => decodeSecurityState(Buffer.from('{"format":1,"acls":[],"quotas":[{"user":"a","clientId":null,"rates":{"producer_byte_rate":0}}]}'))).toThrow(/>= 1/);
  });
});
