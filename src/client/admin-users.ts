// SCRAM users over DescribeUserScramCredentials and AlterUserScramCredentials (the shape of
// Kafka's AdminClient calls). The password never leaves the client: it is salted here
// (a random 32-byte salt, Hi(password, salt, iterations)) and only the salt and the salted
// password travel, from which the broker derives what it keeps (StoredKey, ServerKey).

import { randomBytes } from 'node:crypto';
import { ApiKey } from '../protocol/index.js';
import type { AlterUserScramCredentialsResponse, DescribeUserScramCredentialsResponse } from '../protocol/messages.js';
import { Errors, SpoolError } from '../util/errors.js';
import { isScramMechanism, saltedPassword, ScramLimits, type ScramMechanism } from '../util/scram.js';
import type { Client } from './client.js';
import { errorFromCode } from './errors.js';

export interface UserScramCredentials {
  user: string;
  credentials: Array<{ mechanism: string; iterations: number }>;
}

export type UserScramCredentialAlteration =
  | { kind: 'upsert'; user: string; mechanism: ScramMechanism; password: string; iterations?: number }
  | { kind: 'delete'; user: string; mechanism: ScramMechanism };

/** Every user (no names) or the named ones; throws USER_NOT_FOUND for a named user without credentials. */
export async function describeUserScramCredentials(client: Client, users?: string[]): Promise<UserScramCredentials[]> {
  const response = await client.request(ApiKey.DescribeUserScramCredentials, { users: users ?? null });
  return (response.header as unknown as DescribeUserScramCredentialsResponse).users.map((entry) => {
    const error = errorFromCode(entry.errorCode, entry.errorMessage, `describe user ${entry.user}`);
    if (error) throw error;
    return { user: entry.user, credentials: entry.credentials };
  });
}

/** Applies the alterations; throws the first failing one's error (the others are applied). */
export async function alterUserScramCredentials(client: Client, alterations: UserScramCredentialAlteration[]): Promise<void> {
  const deletions: Array<{ user: string; mechanism: string }> = [];
  const upsertions: Array<{ user: string; mechanism: string; iterations: number; salt: Buffer; saltedPassword: Buffer }> = [];
  for (const alteration of alterations) {
    if (!isScramMechanism(alteration.mechanism)) throw new SpoolError(Errors.INVALID_REQUEST, `mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, got ${String(alteration.mechanism)}`);
    if (alteration.kind === 'delete') {
      deletions.push({ user: alteration.user, mechanism: alteration.mechanism });
      continue;
    }
    if (typeof alteration.password !== 'string' || alteration.password === '') throw new SpoolError(Errors.INVALID_REQUEST, `user ${alteration.user}: a password is needed`);
    const iterations = alteration.iterations ?? ScramLimits.defaultIterations;
    const salt = randomBytes(ScramLimits.saltBytes);
    upsertions.push({ user: alteration.user, mechanism: alteration.mechanism, iterations, salt, saltedPassword: await saltedPassword(alteration.mechanism, alteration.password, salt, iterations) });
  }
  const response = await client.request(ApiKey.AlterUserScramCredentials, { deletions, upsertions });
  for (const result of (response.header as unknown as AlterUserScramCredentialsResponse).results) {
    const error = errorFromCode(result.errorCode, result.errorMessage, `${result.mechanism} credential of user ${result.user}`);
    if (error) throw error;
  }
}
