// Every change to the credentials and to the ACLs/quotas goes through here, so the admin
// handlers need not know where the state lives. On a single node a change is the stores'
// synchronous check-mutate-write (no await between, so two admin requests cannot
// interleave); in a cluster (cluster-security.ts) it is a compare-and-swap of the etcd key that
// holds the whole document, applied locally once written. Reads (the SASL check, the
// authoriser, quota lookups) stay synchronous on the local stores in both modes.

import type { AclBinding, AclFilter } from '../security/acl.js';
import type { AuthorizerOptions } from '../security/authorizer.js';
import { alterCredentialDocument, type CredentialChange, type CredentialStore } from '../security/credential-store.js';
import type { QuotaEntity, QuotaKind } from '../security/quota.js';
import type { SpoolError } from '../util/errors.js';
import { SecurityStore } from './security-store.js';

export interface SecurityWrites {
  alterCredentials(changes: readonly CredentialChange[]): Promise<Array<SpoolError | null>>;
  createAcls(bindings: readonly AclBinding[]): Promise<Array<SpoolError | null>>;
  deleteAcls(filters: readonly AclFilter[]): Promise<AclBinding[][]>;
  /** Several entities' rates in one write (one CAS in a cluster); each entry's error in its place. */
  alterQuotas(changes: ReadonlyArray<{ entity: QuotaEntity; rates: Partial<Record<QuotaKind, number | null>> }>): Promise<Array<SpoolError | null>>;
}

/** A document in one shared place, changed by compare-and-swap (cluster/shared-document.ts). */
export interface SharedDocumentWriter {
  update<T>(change: (current: Buffer | null) => { next: Buffer | null; result: T }): Promise<T>;
}

export function localSecurityWrites(security: SecurityStore, credentials: CredentialStore): SecurityWrites {
  return {
    alterCredentials: async (changes) => credentials.alter(changes),
    createAcls: async (bindings) => security.createAcls(bindings),
    deleteAcls: async (filters) => security.deleteAcls(filters),
    alterQuotas: async (changes) => security.alterQuotas(changes),
  };
}

/** The scratch authoriser only holds bindings; it never decides. */
const SCRATCH_OPTIONS: AuthorizerOptions = { enabled: false, superUsers: [] };

/** Writes through the shared documents; each shared document applies itself to the local store once written. */
export function sharedSecurityWrites(documents: { credentials: SharedDocumentWriter; acls: SharedDocumentWriter }): SecurityWrites {
  /** Runs a SecurityStore change on a scratch store over the current document. */
  const onAcls = <T>(change: (scratch: SecurityStore) => T): Promise<T> =>
    documents.acls.update((current) => {
      let next: Buffer | null = null;
      const scratch = SecurityStore.fromDocument(current, SCRATCH_OPTIONS, (data) => (next = data), 'the cluster ACL document');
      const result = change(scratch);
      return { next, result };
    });
  return {
    alterCredentials: (changes) => documents.credentials.update((current) => alterCredentialDocument(current, changes)),
    createAcls: (bindings) => onAcls((scratch) => scratch.createAcls(bindings)),
    deleteAcls: (filters) => onAcls((scratch) => scratch.deleteAcls(filters)),
    alterQuotas: (changes) => onAcls((scratch) => scratch.alterQuotas(changes)),
  };
}
