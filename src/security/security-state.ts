// The file that holds the ACLs and the client quotas, `<data-dir>/meta/security/acls.json`: a
// small JSON document with a format version, written atomically by the broker (temp file,
// fdatasync, rename, directory fsync; see src/storage/metadata.ts) on every change:
//
//   SecurityState => { "format": 1,
//                      "acls":   [ { "principal": "User:alice", "host": "*",
//                                    "resourceType": "Topic"|"Group"|"Cluster"|"TransactionalId",
//                                    "resourceName": string, "patternType": "literal"|"prefixed",
//                                    "operation": "Read"|..., "permission": "allow"|"deny" } ],
//                      "quotas": [ { "user": string|null, "clientId": string|null,
//                                    "rates": { "producer_byte_rate"?: int, "consumer_byte_rate"?: int } } ] }
//
// Not checksummed: the rename makes it whole; the reader checks every field and refuses
// (throws) a file it cannot trust rather than start with fewer ACLs than were written.

import { invalidBinding, isOperation, isPatternType, isPermission, isResourceType, type AclBinding } from './acl.js';
import { QuotaKind, type QuotaEntry } from './quota.js';

export const SECURITY_STATE_FORMAT = 1;
export const SECURITY_STATE_FILE = 'acls.json';

export interface SecurityState {
  acls: AclBinding[];
  quotas: QuotaEntry[];
}

export function encodeSecurityState(state: SecurityState): Buffer {
  const quotas = state.quotas.map((entry) => ({ user: entry.entity.user, clientId: entry.entity.clientId, rates: entry.rates }));
  return Buffer.from(`${JSON.stringify({ format: SECURITY_STATE_FORMAT, acls: state.acls, quotas }, null, 2)}\n`);
}

function fail(why: string): never {
  throw new Error(`security state: ${why}`);
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

export function decodeSecurityState(data: Buffer): SecurityState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    fail('not JSON');
  }
  const doc = parsed as { format?: unknown; acls?: unknown; quotas?: unknown };
  if (typeof doc !== 'object' || doc === null) fail('not an object');
  if (doc.format !== SECURITY_STATE_FORMAT) fail(`format ${String(doc.format)} is not ${SECURITY_STATE_FORMAT}`);
  if (!Array.isArray(doc.acls) || !Array.isArray(doc.quotas)) fail('acls and quotas must be arrays');
  const acls = doc.acls.map((raw: unknown, i): AclBinding => {
    const acl = raw as Record<string, unknown>;
    if (
      typeof acl !== 'object' || acl === null ||
      typeof acl['principal'] !== 'string' || typeof acl['host'] !== 'string' || typeof acl['resourceName'] !== 'string' ||
      !isResourceType(acl['resourceType']) || !isPatternType(acl['patternType']) || !isOperation(acl['operation']) || !isPermission(acl['permission'])
    ) {
      fail(`acls[${i}] is malformed`);
    }
    const binding: AclBinding = {
      principal: acl['principal'],
      host: acl['host'],
      resourceType: acl['resourceType'],
      resourceName: acl['resourceName'],
      patternType: acl['patternType'],
      operation: acl['operation'],
      permission: acl['permission'],
    };
    const invalid = invalidBinding(binding);
    if (invalid !== null) fail(`acls[${i}]: ${invalid}`);
    return binding;
  });
  const quotas = doc.quotas.map((raw: unknown, i): QuotaEntry => {
    const quota = raw as Record<string, unknown>;
    if (typeof quota !== 'object' || quota === null || !isNullableString(quota['user']) || !isNullableString(quota['clientId'])) fail(`quotas[${i}] is malformed`);
    if (quota['user'] === null && quota['clientId'] === null) fail(`quotas[${i}] names neither a user nor a client id`);
    const rates = quota['rates'] as Record<string, unknown>;
    if (typeof rates !== 'object' || rates === null) fail(`quotas[${i}].rates is malformed`);
    const parsedRates: QuotaEntry['rates'] = {};
    for (const kind of Object.values(QuotaKind)) {
      const rate = rates[kind];
      if (rate === undefined) continue;
      if (!Number.isSafeInteger(rate) || (rate as number) < 1) fail(`quotas[${i}].rates.${kind} must be an integer >= 1`);
      parsedRates[kind] = rate as number;
    }
    return { entity: { user: quota['user'], clientId: quota['clientId'] }, rates: parsedRates };
  });
  return { acls, quotas };
}
