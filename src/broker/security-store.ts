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
import { Errors, SpoolError } from '../util/errors.js';
import { MemberOwners } from './core/member-owners.js';

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
    if (entity.user === null && entity.clientId === null) throw new SpoolError(Errors.INVALID_REQUEST, 'a quota names a user, a client id, or both');
    for (const [kind, rate] of Object.entries(rates)) {
      if (rate !== null && (!Number.isSafeInteger(rate) || rate < 1)) throw new SpoolError(Errors.INVALID_REQUEST, `${kind} must be an integer >= 1 (bytes per second), got ${rate}`);
    }
    const before = this.quotas.list();
    this.quotas.set(entity, rates);
    this.persistOrUndo(() => {
      for (const entry of this.quotas.list()) this.quotas.set(entry.entity, { producer_byte_rate: null, consumer_byte_rate: null });
      for (const entry of before) this.quotas.set(entry.entity, entry.rates);
    });
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
