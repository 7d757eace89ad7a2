// The broker's ACLs and client quotas: the authoriser and the quota manager (security/), and
// their file, <data-dir>/meta/security/acls.json (format in security/security-state.ts), written
// atomically (temp, fdatasync, rename, directory fsync) before a change is answered, so an
// acknowledged CreateAcls or AlterClientQuotas survives a crash. Changes are synchronous:
// check, mutate, write, with no await between, so two admin requests cannot interleave.

import { join } from 'node:path';
import { aclKey, invalidBinding, matchesFilter, type AclBinding, type AclFilter } from '../security/acl.js';
import { Authorizer, type AuthorizerOptions } from '../security/authorizer.js';
import { QuotaManager, type QuotaEntity, type QuotaEntry, type QuotaKind } from '../security/quota.js';
import { SECURITY_STATE_FILE, decodeSecurityState, encodeSecurityState } from '../security/security-state.js';
import { readWholeFileSync, type StorageFs } from '../storage/fs.js';
import { writeFileAtomicSync } from '../storage/metadata.js';
import { Errors, SpoolError, isSpoolError } from '../util/errors.js';
import { MemberOwners } from './core/member-owners.js';

/** Quota entities kept at most (each change rewrites the whole document): beyond, a new one is refused. */
export const MAX_QUOTA_ENTITIES = 10_000;

const quotaEntityKey = (entity: QuotaEntity): string => `${entity.user ?? '\u0000'}\u0001${entity.clientId ?? '\u0000'}`;

export class SecurityStore {
  /** Which principal each share-group member id belongs to (core/member-owners.ts). */
  readonly members = new MemberOwners();

  private constructor(
    readonly authorizer: Authorizer,
    readonly quotas: QuotaManager,
    /** Replaces the stored document atomically and durably (the file; a scratch store's capture). */
    private readonly write: (data: Buffer) => void,
    /** Names what `write` writes, for its error. */
    private readonly path: string,
  ) {}

  /** Reads <dataDir>/meta/security.json (none: no ACLs, no quotas). A file that does not decode stops the start. */
  static open(fs: StorageFs, dataDir: string, options: AuthorizerOptions): SecurityStore {
    const path = join(dataDir, 'meta', 'security', SECURITY_STATE_FILE);
    const write = (data: Buffer): void => {
      fs.mkdirSync(join(path, '..'));
      writeFileAtomicSync(fs, path, data);
    };
    return SecurityStore.fromDocument(fs.existsSync(path) ? readWholeFileSync(fs, path) : null, options, write, path);
  }

  /** A store over a document (null: empty); `write` receives every next document. */
  static fromDocument(data: Buffer | null, options: AuthorizerOptions, write: (data: Buffer) => void, name: string): SecurityStore {
    const state = data === null ? { acls: [], quotas: [] } : decodeSecurityState(data);
    const authorizer = new Authorizer(options);
    for (const binding of state.acls) authorizer.acls.add(binding);
    return new SecurityStore(authorizer, new QuotaManager(state.quotas), write, name);
  }

  /** The document as the file holds it. */
  encode(): Buffer {
    return encodeSecurityState({ acls: this.authorizer.acls.list(), quotas: this.quotas.list() });
  }

  isEmpty(): boolean {
    return this.authorizer.acls.list().length === 0 && this.quotas.list().length === 0;
  }

  /**
   * Replaces every ACL and quota with the document's (cluster mode: etcd's copy changed) and
   * writes the local file, which stays a copy. Throws, changing nothing, when it does not decode.
   */
  replace(data: Buffer): void {
    const state = decodeSecurityState(data);
    this.write(data);
    for (const binding of this.authorizer.acls.list()) this.authorizer.acls.remove(binding);
    for (const binding of state.acls) this.authorizer.acls.add(binding);
    const kept = new Set(state.quotas.map((entry) => JSON.stringify(entry.entity)));
    for (const entry of this.quotas.list()) {
      if (!kept.has(JSON.stringify(entry.entity))) this.quotas.set(entry.entity, { producer_byte_rate: null, consumer_byte_rate: null });
    }
    for (const entry of state.quotas) this.quotas.set(entry.entity, { producer_byte_rate: null, consumer_byte_rate: null, ...entry.rates });
  }

  describeAcls(filter: AclFilter): AclBinding[] {
    return this.authorizer.acls.list().filter((binding) => matchesFilter(binding, filter));
  }

  /** Adds the bindings (one already there is kept once); per binding, null or its error. Written before it returns. */
  createAcls(bindings: readonly AclBinding[]): Array<SpoolError | null> {
    const errors = bindings.map((binding) => {
      const invalid = invalidBinding(binding);
      return invalid === null ? null : new SpoolError(Errors.INVALID_REQUEST, invalid);
    });
    const added: AclBinding[] = [];
    bindings.forEach((binding, i) => {
      if (errors[i] === null && this.authorizer.acls.add(binding)) added.push(binding);
    });
    if (added.length > 0) this.persistOrUndo(() => added.forEach((binding) => this.authorizer.acls.remove(binding)));
    return errors;
  }

  /** Removes every binding each filter matches; per filter, the bindings it removed. */
  deleteAcls(filters: readonly AclFilter[]): AclBinding[][] {
    const removed = filters.map((filter) => {
      const matched = this.describeAcls(filter);
      for (const binding of matched) this.authorizer.acls.remove(binding);
      return matched;
    });
    const all = new Map(removed.flat().map((binding) => [aclKey(binding), binding]));
    if (all.size > 0) this.persistOrUndo(() => all.forEach((binding) => this.authorizer.acls.add(binding)));
    return removed;
  }

  listQuotas(): QuotaEntry[] {
    return this.quotas.list();
  }

  /** Sets or (null) removes rates of one entity; written before it returns. */
  alterQuota(entity: QuotaEntity, rates: Partial<Record<QuotaKind, number | null>>): void {
    const [error] = this.alterQuotas([{ entity, rates }]);
    if (error) throw error;
  }

  /**
   * Sets or (null) removes the rates of several entities, each checked on its own (its error
   * in its place), the accepted ones written in one go before it returns: a request of a
   * thousand entries is one file write, not a thousand (each a whole-document rewrite and
   * two fsyncs, which held the broker's event loop for most of a second). A failed write
   * undoes them all and answers each the storage error.
   */
  alterQuotas(changes: ReadonlyArray<{ entity: QuotaEntity; rates: Partial<Record<QuotaKind, number | null>> }>): Array<SpoolError | null> {
    const before = this.quotas.list();
    const known = new Set(before.map((entry) => quotaEntityKey(entry.entity)));
    const results = changes.map(({ entity, rates }): SpoolError | null => {
      if (entity.user === null && entity.clientId === null) return new SpoolError(Errors.INVALID_REQUEST, 'a quota names a user, a client id, or both');
      for (const [kind, rate] of Object.entries(rates)) {
        if (rate !== null && (!Number.isSafeInteger(rate) || rate < 1)) return new SpoolError(Errors.INVALID_REQUEST, `${kind} must be an integer >= 1 (bytes per second), got ${rate}`);
      }
      const key = quotaEntityKey(entity);
      if (!known.has(key) && known.size >= MAX_QUOTA_ENTITIES && Object.values(rates).some((rate) => rate !== null)) {
        return new SpoolError(Errors.INVALID_REQUEST, `at most ${MAX_QUOTA_ENTITIES} quota entities are kept; remove one first`);
      }
      this.quotas.set(entity, rates);
      known.add(key);
      return null;
    });
    if (results.some((result) => result === null)) {
      try {
        this.persistOrUndo(() => {
          for (const entry of this.quotas.list()) this.quotas.set(entry.entity, { producer_byte_rate: null, consumer_byte_rate: null });
          for (const entry of before) this.quotas.set(entry.entity, entry.rates);
        });
      } catch (error) {
        if (!isSpoolError(error)) throw error;
        return results.map((result) => result ?? error);
      }
    }
    return results;
  }

  /** Writes the file; when that fails the in-memory change is undone, so memory never claims what disk lost. */
  private persistOrUndo(undo: () => void): void {
    try {
      this.write(this.encode());
    } catch (error) {
      undo();
      throw new SpoolError(Errors.KAFKA_STORAGE_ERROR, `writing ${this.path} failed: ${(error as Error).message}`, { cause: error });
    }
  }
}
