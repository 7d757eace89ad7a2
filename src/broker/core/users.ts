// SCRAM users over the credential store, for both fronts' DescribeUserScramCredentials and
// AlterUserScramCredentials (Kafka's semantics): domain types in, per-item results out.

import type { CredentialChange } from '../../security/credential-store.js';
import { Errors, SpoolError } from '../../util/errors.js';
import { isScramMechanism, type ScramMechanism } from '../../util/scram.js';
import type { BrokerContext } from '../context.js';

export interface UserResult {
  user: string;
  error: SpoolError | null;
  credentials: Array<{ mechanism: ScramMechanism; iterations: number }>;
}

/** Every user (`names` null or empty) or the named ones: USER_NOT_FOUND / DUPLICATE_USER per name. */
export function describeUsers(ctx: BrokerContext, names: readonly string[] | null): UserResult[] {
  if (names === null || names.length === 0) return ctx.credentials.describe(null).map((entry) => ({ ...entry, error: null }));
  const counts = new Map<string, number>();
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1);
  const results: UserResult[] = [];
  for (const [user, count] of counts) {
    if (count > 1) {
      results.push({ user, error: new SpoolError(Errors.DUPLICATE_USER, `user ${user} is named more than once`), credentials: [] });
      continue;
    }
    const [found] = ctx.credentials.describe([user]);
    results.push(found ? { ...found, error: null } : { user, error: new SpoolError(Errors.USER_NOT_FOUND, `user ${user} has no SCRAM credential`), credentials: [] });
  }
  return results;
}

export interface RequestedChange {
  kind: 'delete' | 'upsert';
  user: string;
  /** As the client named it: a mechanism name, or null for one it could not name (Kafka's UNKNOWN). */
  mechanism: string | null;
  iterations?: number;
  salt?: Uint8Array;
  saltedPassword?: Uint8Array;
}

/** Applies the changes (one file write); the error of each, in order. */
export async function alterUsers(ctx: BrokerContext, requested: readonly RequestedChange[]): Promise<Array<SpoolError | null>> {
  const results: Array<SpoolError | null> = requested.map(() => null);
  const changes: CredentialChange[] = [];
  const indexes: number[] = [];
  requested.forEach((change, index) => {
    if (change.mechanism === null || !isScramMechanism(change.mechanism)) {
      results[index] = new SpoolError(Errors.UNSUPPORTED_SASL_MECHANISM, `unknown SCRAM mechanism ${change.mechanism ?? '(none)'}; use SCRAM-SHA-256 or SCRAM-SHA-512`);
      return;
    }
    const mechanism = change.mechanism;
    if (change.kind === 'delete') changes.push({ kind: 'delete', user: change.user, mechanism });
    else {
      changes.push({
        kind: 'upsert',
        user: change.user,
        mechanism,
        iterations: change.iterations ?? 0,
        salt: Buffer.from(change.salt ?? new Uint8Array()),
        saltedPassword: Buffer.from(change.saltedPassword ?? new Uint8Array()),
      });
    }
    indexes.push(index);
  });
  const applied = await ctx.securityWrites.alterCredentials(changes);
  applied.forEach((result, position) => (results[indexes[position]!] = result));
  for (const [position, change] of changes.entries()) {
    if (applied[position] === null) ctx.logger.info(`${change.kind === 'delete' ? 'deleted' : 'set'} ${change.mechanism} credential of User:${change.user}`, { principal: `User:${change.user}`, mechanism: change.mechanism });
  }
  return results;
}
