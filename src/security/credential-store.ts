// SCRAM credentials, per user and mechanism: salt, iterations, StoredKey and ServerKey,
// never the password (nor the salted password: from StoredKey alone nobody can log in, and
// ServerKey only proves the server to a client). One JSON file in the broker's metadata,
// rewritten whole and atomically (the broker's writer: tmp, fdatasync, rename, fsync dir)
// on every change, read once at start. In cluster mode the document lives in etcd and
// `replace` installs each version (src/security/README.md "In a cluster").
//
//   <dataDir>/meta/security/scram-credentials.json
//   Credentials => { "format": 1,
//                    "users": { <user name>: { <mechanism>: Credential, ... }, ... } }
//   Credential  => { "salt": base64, "iterations": int (4096..16384),
//                    "storedKey": base64 (32 bytes SHA-256, 64 bytes SHA-512),
//                    "serverKey": base64 (same size) }
//   mechanism   => "SCRAM-SHA-256" | "SCRAM-SHA-512"
//
// Not checksummed (atomicity comes from the rename); a reader checks every field, and a
// file it cannot read stops the broker at start (starting with no users would lock every
// client out, or with SASL off silently drop them on the next write).

import { Errors, SpoolError } from '../util/errors.js';
import { decodeBase64, isScramMechanism, keysOf, ScramLimits, ScramMechanisms, type ScramMechanism } from '../util/scram.js';

export const CREDENTIALS_FORMAT = 1;
/** Relative to the data directory. */
export const CREDENTIALS_FILE = 'meta/security/scram-credentials.json';
/** Users the store holds; an upsert past it is UNACCEPTABLE_CREDENTIAL (the file is rewritten whole on each change). */
export const MAX_USERS = 10_000;
const MAX_SALT_BYTES = 1024;

export interface ScramCredential {
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** How the store reads and writes its file (the broker passes storage's atomic writer). */
export interface CredentialFile {
  /** The file's bytes, or null when it does not exist. */
  read(): Buffer | null;
  /** Replaces the file atomically and durably. */
  write(data: Buffer): void;
}

export type CredentialChange =
  | { kind: 'delete'; user: string; mechanism: ScramMechanism }
  | { kind: 'upsert'; user: string; mechanism: ScramMechanism; salt: Buffer; saltedPassword: Buffer; iterations: number };

export interface UserDescription {
  user: string;
  credentials: Array<{ mechanism: ScramMechanism; iterations: number }>;
}

export class CredentialStore {
  /** Told after every applied change (alter, replace): the broker closes revoked sessions. */
  private readonly listeners: Array<() => void> = [];

  private constructor(
    private readonly users: Map<string, Map<ScramMechanism, ScramCredential>>,
    private readonly file: CredentialFile,
  ) {}

  /** Reads the file (absent: no users); throws an Error naming what is wrong with it. */
  static open(file: CredentialFile): CredentialStore {
    const data = file.read();
    return new CredentialStore(data === null ? new Map() : decodeCredentials(data), file);
  }

  /** Calls `listener` after each change that applied (a local alter or a cluster version). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  get(user: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(user)?.get(mechanism);
  }

  has(user: string): boolean {
    return this.users.has(user);
  }

  /** Users with their mechanisms, sorted by name; `names` null for every user. */
  describe(names: readonly string[] | null): UserDescription[] {
    const chosen = names === null ? [...this.users.keys()].sort() : names;
    const out: UserDescription[] = [];
    for (const user of chosen) {
      const credentials = this.users.get(user);
      if (!credentials) continue;
      out.push({ user, credentials: [...credentials.entries()].map(([mechanism, credential]) => ({ mechanism, iterations: credential.iterations })) });
    }
    return out;
  }

  /**
   * Checks every change, then applies the valid ones and writes the file once. Returns the
   * error of each change (null when applied), in order. A change naming a user and
   * mechanism that another change of the batch also names fails (DUPLICATE_USER), as in Kafka.
   */
  alter(changes: readonly CredentialChange[]): Array<SpoolError | null> {
    const seen = new Map<string, number>();
    for (const change of changes) {
      const key = `${change.mechanism}\u0000${change.user}`;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    }
    const next = new Map([...this.users].map(([user, credentials]) => [user, new Map(credentials)]));
    const results = changes.map((change) => {
      if (seen.get(`${change.mechanism}\u0000${change.user}`)! > 1) return new SpoolError(Errors.DUPLICATE_USER, `user ${change.user} ${change.mechanism} is named more than once`);
      try {
        applyChange(next, change);
        return null;
      } catch (error) {
        if (error instanceof SpoolError) return error;
        throw error;
      }
    });
    if (results.some((result) => result === null)) {
      // Write first, then swap: a failed write leaves memory and disk as they were.
      this.file.write(encodeCredentials(next));
      this.users.clear();
      for (const [user, credentials] of next) this.users.set(user, credentials);
      for (const listener of this.listeners) listener();
    }
    return results;
  }

  /** The document as the file holds it (cluster mode seeds etcd with it). */
  encode(): Buffer {
    return encodeCredentials(this.users);
  }

  /**
   * Replaces every user with the document's (cluster mode: etcd's copy changed) and writes the
   * local file, which stays a copy. Throws, changing nothing, when the document does not decode.
   */
  replace(data: Buffer): void {
    const next = decodeCredentials(data);
    this.file.write(data);
    this.users.clear();
    for (const [user, credentials] of next) this.users.set(user, credentials);
    for (const listener of this.listeners) listener();
  }
}

/**
 * The same changes applied to a document instead of the store (cluster mode's compare-and-swap):
 * the next document (null when no change applied) and each change's error.
 */
export function alterCredentialDocument(current: Buffer | null, changes: readonly CredentialChange[]): { next: Buffer | null; result: Array<SpoolError | null> } {
  let next: Buffer | null = null;
  const scratch = CredentialStore.open({ read: () => current, write: (data) => (next = data) });
  const result = scratch.alter(changes);
  return { next, result };
}

function applyChange(users: Map<string, Map<ScramMechanism, ScramCredential>>, change: CredentialChange): void {
  checkUserName(change.user);
  if (change.kind === 'delete') {
    const credentials = users.get(change.user);
    if (!credentials?.delete(change.mechanism)) throw new SpoolError(Errors.USER_NOT_FOUND, `user ${change.user} has no ${change.mechanism} credential`);
    if (credentials.size === 0) users.delete(change.user);
    return;
  }
  const { mechanism, salt, saltedPassword, iterations } = change;
  if (!Number.isSafeInteger(iterations) || iterations < ScramLimits.minIterations || iterations > ScramLimits.maxIterations) {
    throw new SpoolError(Errors.UNACCEPTABLE_CREDENTIAL, `iterations must be in [${ScramLimits.minIterations}, ${ScramLimits.maxIterations}], got ${iterations}`);
  }
  if (salt.length === 0 || salt.length > MAX_SALT_BYTES) throw new SpoolError(Errors.UNACCEPTABLE_CREDENTIAL, `the salt must be 1..${MAX_SALT_BYTES} bytes`);
  if (saltedPassword.length !== ScramMechanisms[mechanism].keyBytes) {
    throw new SpoolError(Errors.UNACCEPTABLE_CREDENTIAL, `the salted password of ${mechanism} must be ${ScramMechanisms[mechanism].keyBytes} bytes`);
  }
  if (!users.has(change.user) && users.size >= MAX_USERS) throw new SpoolError(Errors.UNACCEPTABLE_CREDENTIAL, `the broker holds ${MAX_USERS} users already`);
  const credentials = users.get(change.user) ?? new Map<ScramMechanism, ScramCredential>();
  credentials.set(mechanism, { salt: Buffer.from(salt), iterations, ...keysOf(mechanism, saltedPassword) });
  users.set(change.user, credentials);
}

/** A user name: 1..256 UTF-8 bytes, no control characters (they would forge log lines and break the SCRAM grammar's NUL). */
export function checkUserName(user: string): void {
  if (typeof user !== 'string' || user.length === 0 || Buffer.byteLength(user, 'utf8') > ScramLimits.maxUserNameBytes || /[\x00-\x1f\x7f]/.test(user)) {
    throw new SpoolError(Errors.UNACCEPTABLE_CREDENTIAL, `a user name must be 1..${ScramLimits.maxUserNameBytes} bytes without control characters`);
  }
}

function encodeCredentials(users: Map<string, Map<ScramMechanism, ScramCredential>>): Buffer {
  const doc = {
    format: CREDENTIALS_FORMAT,
    users: Object.fromEntries(
      [...users].map(([user, credentials]) => [
        user,
        Object.fromEntries(
          [...credentials].map(([mechanism, c]) => [
            mechanism,
            { salt: c.salt.toString('base64'), iterations: c.iterations, storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64') },
          ]),
        ),
      ]),
    ),
  };
  return Buffer.from(JSON.stringify(doc, null, 2) + '\n');
}

function decodeCredentials(data: Buffer): Map<string, Map<ScramMechanism, ScramCredential>> {
  const doc = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  if (doc['format'] !== CREDENTIALS_FORMAT) throw new Error(`unsupported credentials format ${String(doc['format'])}`);
  const users = doc['users'];
  if (typeof users !== 'object' || users === null || Array.isArray(users)) throw new Error('bad users');
  const out = new Map<string, Map<ScramMechanism, ScramCredential>>();
  for (const [user, entry] of Object.entries(users)) {
    checkUserName(user);
    if (typeof entry !== 'object' || entry === null) throw new Error(`bad entry for user ${user}`);
    const credentials = new Map<ScramMechanism, ScramCredential>();
    for (const [mechanism, value] of Object.entries(entry as Record<string, unknown>)) {
      if (!isScramMechanism(mechanism)) throw new Error(`user ${user}: unknown mechanism ${mechanism}`);
      credentials.set(mechanism, decodeCredential(user, mechanism, value));
    }
    if (credentials.size > 0) out.set(user, credentials);
  }
  return out;
}

function decodeCredential(user: string, mechanism: ScramMechanism, value: unknown): ScramCredential {
  const fields = (value ?? {}) as Record<string, unknown>;
  const bytes = (name: string, length?: number): Buffer => {
    const text = fields[name];
    const decoded = typeof text === 'string' ? decodeBase64(text) : null;
    if (decoded === null || decoded.length === 0 || (length !== undefined && decoded.length !== length)) throw new Error(`user ${user} ${mechanism}: bad ${name}`);
    return decoded;
  };
  const iterations = fields['iterations'];
  if (typeof iterations !== 'number' || !Number.isSafeInteger(iterations) || iterations < 1) throw new Error(`user ${user} ${mechanism}: bad iterations`);
  const keyBytes = ScramMechanisms[mechanism].keyBytes;
  return { salt: bytes('salt'), iterations, storedKey: bytes('storedKey', keyBytes), serverKey: bytes('serverKey', keyBytes) };
}
