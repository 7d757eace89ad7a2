// Cluster mode's credentials, ACLs and quotas: each document lives in one etcd key
// (<root>/security/scram-credentials, <root>/security/acls: the same JSON as the local files),
// changed by compare-and-swap from any broker and mirrored by every broker's watch into its
// local stores, whose synchronous check path (SASL, authoriser, quotas) is unchanged. The
// local files stay as copies of the last document applied. See src/security/README.md "In a cluster".

import type { ClusterLogger } from '../cluster/logger.js';
import type { KeyLayout } from '../cluster/layout.js';
import { SharedDocument } from '../cluster/shared-document.js';
import type { ClusterStore } from '../cluster/store.js';
import { CredentialStore } from '../security/credential-store.js';
import { bootstrapChanges, type BootstrapUser } from './authentication.js';
import type { BrokerContext } from './context.js';
import { sharedSecurityWrites } from './security-writes.js';

export interface ClusterSecurity {
  close(): Promise<void>;
}

/**
 * Seeds each key from the local file when the key is absent and the file is not empty
 * (create-if-absent: the first broker's state wins, later ones take the cluster's), loads
 * and watches both, creates the bootstrap user through the same CAS if the cluster lacks it,
 * then routes every change through etcd.
 */
export async function attachClusterSecurity(
  ctx: BrokerContext,
  store: ClusterStore,
  layout: KeyLayout,
  logger: ClusterLogger,
  bootstrap?: BootstrapUser,
): Promise<ClusterSecurity> {
  const credentials = new SharedDocument(store, layout.scramCredentials, (data) => ctx.credentials.replace(data), logger);
  const acls = new SharedDocument(store, layout.acls, (data) => ctx.security.replace(data), logger);
  try {
    await credentials.start(ctx.credentials.describe(null).length > 0 ? ctx.credentials.encode() : null);
    await acls.start(ctx.security.isEmpty() ? null : ctx.security.encode());
    ctx.securityWrites = sharedSecurityWrites({ credentials, acls });
    if (bootstrap && !ctx.credentials.has(bootstrap.name)) {
      const created = await credentials.update((current) => {
        let next: Buffer | null = null;
        const scratch = CredentialStore.open({ read: () => current, write: (data) => (next = data) });
        // Another broker created it since: keep theirs (create-if-absent).
        if (scratch.has(bootstrap.name)) return { next: null, result: false };
        const failure = scratch.alter(bootstrapChanges(bootstrap)).find((result) => result !== null);
        if (failure) throw new RangeError(`bootstrap user ${bootstrap.name}: ${failure.message}`);
        return { next, result: true };
      });
      if (created) logger.info(`created bootstrap user User:${bootstrap.name} in the cluster (SCRAM-SHA-256, SCRAM-SHA-512)`, { principal: `User:${bootstrap.name}` });
    }
    logger.info(`credentials and ACLs are shared through etcd (${layout.scramCredentials}, ${layout.acls})`);
  } catch (error) {
    await Promise.all([credentials.close(), acls.close()]);
    throw error;
  }
  return { close: () => Promise.all([credentials.close(), acls.close()]).then(() => undefined) };
}
