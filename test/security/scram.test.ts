// Proves the SCRAM code against RFC 7677's SCRAM-SHA-256 example (the client's final message
// and the server signature byte for byte), a client<->server round trip for both mechanisms,
// and the server's refusals: wrong password, unknown user (same answer, only after the proof),
// wrong nonce, channel binding that does not match, bad grammar, oversized and non-UTF-8
// messages, steps out of order. Also the credential store: what the file holds (never the
// password), its atomic rewrite, and its checks.

import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ScramClient } from '../../src/client/sasl.js';
import { SaslFailure, ScramServer } from '../../src/security/scram.js';
import { CredentialStore, type CredentialFile, type ScramCredential } from '../../src/security/credential-store.js';
import { clientKeyOf, hash, hmac, keysOf, saltedPasswordSync, ScramLimits, xor, type ScramMechanism } from '../../src/util/scram.js';

const RFC_SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');

function credential(mechanism: ScramMechanism, password: string, salt = randomBytes(16), iterations = 4096): ScramCredential {
  return { salt, iterations, ...keysOf(mechanism, saltedPasswordSync(mechanism, password, salt, iterations)) };
}

function server(mechanism: ScramMechanism, users: Record<string, ScramCredential>): ScramServer {
  return new ScramServer(mechanism, (user) => users[user], randomBytes(32));
}

function failureOf(run: () => unknown): SaslFailure {
  try {
    run();
  } catch (error) {
    if (error instanceof SaslFailure) return error;
    throw error;
  }
  throw new Error('expected a SaslFailure');
}

describe('SCRAM client', () => {
  it("computes RFC 7677's client-final message and server signature", async () => {
    const client = new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    expect(client.first().toString()).toBe('n,,n=user,r=rOprNGfwEbeRWgbNEkqO');
    const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
    const final = await client.final(Buffer.from(serverFirst));
    expect(final.toString()).toBe('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=');
    expect(() => client.verify(Buffer.from('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).not.toThrow();
    expect(() => client.verify(Buffer.from('v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4='))).toThrow(/signature does not match/);
  });

  it('refuses a server nonce that does not extend its own, and iteration counts out of bounds', async () => {
    const client = () => new ScramClient('SCRAM-SHA-256', 'user', 'pencil', 'rOprNGfwEbeRWgbNEkqO');
    await expect(client().final(Buffer.from('r=other-nonce-xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096'))).rejects.toThrow(/nonce/);
    await expect(client().final(Buffer.from('r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1'))).rejects.toThrow(/iterations/);
    await expect(client().final(Buffer.from('r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=100000000'))).rejects.toThrow(/iterations/);
  });
});

describe('SCRAM server', () => {
  it.each(['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const)('%s: a client with the password passes, and the server proves itself', async (mechanism) => {
    const s = server(mechanism, { 'al,i=ce': credential(mechanism, 'pässword') });
    const client = new ScramClient(mechanism, 'al,i=ce', 'pässword');
    const first = s.step(client.first());
    expect(first.user).toBeNull();
    const final = s.step(await client.final(first.response));
    expect(final.user).toBe('al,i=ce');
    client.verify(final.response);
  });

  it('accepts the RFC 7677 exchange against a stored credential', () => {
    const s = server('SCRAM-SHA-256', { user: credential('SCRAM-SHA-256', 'pencil', RFC_SALT) });
    const first = s.step(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')).response.toString();
    expect(first).toMatch(/^r=rOprNGfwEbeRWgbNEkqO[^,]+,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096$/);
  });

  it('answers a wrong password and an unknown user alike, both only at the proof', async () => {
    const users = { alice: credential('SCRAM-SHA-256', 'right') };
    const attempt = async (user: string): Promise<SaslFailure> => {
      const s = server('SCRAM-SHA-256', users);
      const client = new ScramClient('SCRAM-SHA-256', user, 'wrong');
      const first = s.step(client.first());
      expect(first.response.toString()).toMatch(/^r=.*,s=.*,i=4096$/);
      const final = await client.final(first.response);
      return failureOf(() => s.step(final));
    };
    const wrong = await attempt('alice');
    const unknown = await attempt('mallory');
    expect(wrong.badCredentials && unknown.badCredentials).toBe(true);
    expect(wrong.reason).toBe('wrong password');
    expect(unknown.reason).toBe('unknown user');
  });

  it('gives an unknown user the same salt every time (a probe cannot tell)', () => {
    const s1 = server('SCRAM-SHA-256', {});
    const saltOf = (s: ScramServer): string => /,s=([^,]+),/.exec(s.step(Buffer.from('n,,n=ghost,r=abcdefghijkl')).response.toString())![1]!;
    const secret = randomBytes(32);
    const a = new ScramServer('SCRAM-SHA-256', () => undefined, secret);
    const b = new ScramServer('SCRAM-SHA-256', () => undefined, secret);
    expect(saltOf(a)).toBe(saltOf(b));
    expect(saltOf(s1)).not.toBe(saltOf(new ScramServer('SCRAM-SHA-256', () => undefined, secret)));
  });

  it('refuses a final message with a changed nonce, binding or proof', async () => {
    const users = { alice: credential('SCRAM-SHA-256', 'pw') };
    const tamper = async (edit: (final: string) => string): Promise<string> => {
      const s = server('SCRAM-SHA-256', users);
      const client = new ScramClient('SCRAM-SHA-256', 'alice', 'pw');
      const final = (await client.final(s.step(client.first()).response)).toString();
      return failureOf(() => s.step(Buffer.from(edit(final)))).reason;
    };
    expect(await tamper((f) => f.replace(/,r=([^,]*)/, (_m, nonce: string) => `,r=${nonce}x`))).toMatch(/wrong nonce/);
    expect(await tamper((f) => f.replace(/,r=([^,]*)/, (_m, nonce: string) => `,r=${nonce.slice(0, 20)}`))).toMatch(/wrong nonce/);
    expect(await tamper((f) => f.replace('c=biws', 'c=eSws'))).toMatch(/channel binding/);
    expect(await tamper((f) => f.replace(/p=(.)/, (_m, c: string) => `p=${c === 'A' ? 'B' : 'A'}`))).toBe('wrong password');
    expect(await tamper((f) => f.replace(/,p=.*/, ''))).toMatch(/expected c=/);
    // librdkafka's form (its client nonce again in front of the whole nonce) passes, as in Kafka.
    const s = server('SCRAM-SHA-256', users);
    const serverFirst = s.step(Buffer.from('n,,n=alice,r=abcdefghijkl')).response.toString();
    const nonce = /^r=([^,]+)/.exec(serverFirst)![1]!;
    const withoutProof = `c=biws,r=abcdefghijkl${nonce}`;
    const salted = saltedPasswordSync('SCRAM-SHA-256', 'pw', users.alice.salt, 4096);
    const clientKey = clientKeyOf('SCRAM-SHA-256', salted);
    const signature = hmac('SCRAM-SHA-256', hash('SCRAM-SHA-256', clientKey), `n=alice,r=abcdefghijkl,${serverFirst},${withoutProof}`);
    expect(s.step(Buffer.from(`${withoutProof},p=${xor(clientKey, signature).toString('base64')}`)).user).toBe('alice');
  });

  it('refuses malformed first messages before looking anything up', () => {
    const looked: string[] = [];
    const make = () => new ScramServer('SCRAM-SHA-256', (user) => (looked.push(user), undefined), randomBytes(32));
    const reasons = [
      'y,,n=alice,r=abcdefghijkl',
      'p=tls-unique,,n=alice,r=abcdefghijkl',
      'n,,r=abcdefghijkl,n=alice',
      'n,,n=alice',
      'n,,n=,r=abcdefghijkl',
      'n,,n=al=ice,r=abcdefghijkl',
      'n,,n=alice,r=short',
      'n,,n=alice,r=abc,defghijkl',
      'n,a=bob,n=alice,r=abcdefghijkl',
      'n,,n=alice,r=abcdefghijkl,m=mandatory',
      'n,,n=alice,r=abcdefghijkl,tokenauth=true',
      '',
    ].map((message) => failureOf(() => make().step(Buffer.from(message))).reason);
    expect(reasons.every((reason) => reason.length > 0)).toBe(true);
    expect(looked).toEqual([]);
    expect(failureOf(() => make().step(Buffer.alloc(ScramLimits.maxMessageBytes + 1, 0x61))).reason).toMatch(/more than/);
    expect(failureOf(() => make().step(Buffer.from([0x6e, 0x2c, 0x2c, 0xff, 0xfe]))).reason).toMatch(/UTF-8/);
  });

  it('refuses a step after the exchange ended or failed', async () => {
    const users = { alice: credential('SCRAM-SHA-512', 'pw') };
    const s = server('SCRAM-SHA-512', users);
    const client = new ScramClient('SCRAM-SHA-512', 'alice', 'pw');
    const final = await client.final(s.step(client.first()).response);
    s.step(final);
    expect(failureOf(() => s.step(final)).reason).toMatch(/after the exchange ended/);
    const failed = server('SCRAM-SHA-512', users);
    failureOf(() => failed.step(Buffer.from('garbage')));
    expect(failureOf(() => failed.step(client.first())).reason).toMatch(/after the exchange ended/);
  });
});

describe('credential store', () => {
  function memoryFile(initial: Buffer | null = null): CredentialFile & { data: Buffer | null; writes: number } {
    const file = {
      data: initial,
      writes: 0,
      read: () => file.data,
      write: (data: Buffer) => {
        file.data = data;
        file.writes++;
      },
    };
    return file;
  }

  const upsert = (user: string, mechanism: ScramMechanism, password: string, iterations = 4096) => {
    const salt = randomBytes(32);
    return { kind: 'upsert' as const, user, mechanism, salt, iterations, saltedPassword: saltedPasswordSync(mechanism, password, salt, iterations) };
  };

  it('keeps salt, iterations, StoredKey and ServerKey, never the password, and reads its file back', () => {
    const file = memoryFile();
    const store = CredentialStore.open(file);
    expect(store.alter([upsert('alice', 'SCRAM-SHA-256', 'secret-pw'), upsert('alice', 'SCRAM-SHA-512', 'secret-pw', 8192)])).toEqual([null, null]);
    expect(file.writes).toBe(1);
    const text = file.data!.toString();
    expect(text).not.toContain('secret-pw');
    const doc = JSON.parse(text) as { format: number; users: Record<string, Record<string, Record<string, unknown>>> };
    expect(doc.format).toBe(1);
    expect(Object.keys(doc.users['alice']!)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-512']);
    expect(Object.keys(doc.users['alice']!['SCRAM-SHA-512']!)).toEqual(['salt', 'iterations', 'storedKey', 'serverKey']);
    expect(Buffer.from(doc.users['alice']!['SCRAM-SHA-512']!['storedKey'] as string, 'base64').length).toBe(64);
    const reopened = CredentialStore.open(memoryFile(file.data));
    expect(reopened.describe(null)).toEqual([{ user: 'alice', credentials: [{ mechanism: 'SCRAM-SHA-256', iterations: 4096 }, { mechanism: 'SCRAM-SHA-512', iterations: 8192 }] }]);
    expect(reopened.get('alice', 'SCRAM-SHA-256')!.storedKey).toEqual(store.get('alice', 'SCRAM-SHA-256')!.storedKey);
  });

  it('answers each change: bad iterations, bad names, unknown deletes, duplicates; applies the rest', () => {
    const file = memoryFile();
    const store = CredentialStore.open(file);
    const results = store.alter([
      upsert('ok', 'SCRAM-SHA-256', 'pw'),
      { ...upsert('few', 'SCRAM-SHA-256', 'pw'), iterations: 1000 },
      upsert('bad\nname', 'SCRAM-SHA-256', 'pw'),
      { kind: 'delete', user: 'nobody', mechanism: 'SCRAM-SHA-512' },
      upsert('twice', 'SCRAM-SHA-512', 'a'),
      upsert('twice', 'SCRAM-SHA-512', 'b'),
    ]);
    expect(results.map((result) => result?.code ?? null)).toEqual([null, 'UNACCEPTABLE_CREDENTIAL', 'UNACCEPTABLE_CREDENTIAL', 'USER_NOT_FOUND', 'DUPLICATE_USER', 'DUPLICATE_USER']);
    expect(store.describe(null).map((entry) => entry.user)).toEqual(['ok']);
    expect(store.alter([{ kind: 'delete', user: 'ok', mechanism: 'SCRAM-SHA-256' }])).toEqual([null]);
    expect(store.has('ok')).toBe(false);
  });

  it('keeps memory as it was when the write fails', () => {
    const store = CredentialStore.open({
      read: () => null,
      write: () => {
        throw new Error('ENOSPC');
      },
    });
    expect(() => store.alter([upsert('alice', 'SCRAM-SHA-256', 'pw')])).toThrow('ENOSPC');
    expect(store.has('alice')).toBe(false);
  });

  it('refuses to open a file it cannot read', () => {
    for (const text of ['{', '{"format":2,"users":{}}', '{"format":1,"users":{"a":{"SCRAM-SHA-1":{}}}}', '{"format":1,"users":{"a":{"SCRAM-SHA-256":{"salt":"AA==","iterations":4096,"storedKey":"AA==","serverKey":"AA=="}}}}']) {
      expect(() => CredentialStore.open(memoryFile(Buffer.from(text)))).toThrow();
    }
  });
});
