// SASL PLAIN (RFC 4616), checked against the user's SCRAM credential: the broker keeps no
// password, so it salts the one given with the stored salt and iterations and compares
// H(HMAC(SaltedPassword, "Client Key")) with StoredKey in constant time. PLAIN sends the
// password itself, so the authenticator allows it only on TLS connections.
//
//   message = [authzid] NUL authcid NUL passwd      (authzid empty or equal to authcid, as Kafka)

import { clientKeyOf, equalBytes, hash, saltedPassword, ScramLimits, type ScramMechanism } from '../util/scram.js';
import type { ScramCredential } from './credential-store.js';
import { messageText, SaslFailure } from './scram.js';

/** Verifies one PLAIN message; resolves to the user name or rejects with SaslFailure. */
export async function verifyPlain(message: Buffer, lookup: (user: string) => { mechanism: ScramMechanism; credential: ScramCredential } | undefined): Promise<string> {
  const text = messageText(message, 'PLAIN message');
  const parts = text.split('\u0000');
  if (parts.length !== 3) throw new SaslFailure('PLAIN message: expected [authzid] NUL user NUL password', null, false);
  const [authzid, user, password] = parts as [string, string, string];
  if (user.length === 0 || Buffer.byteLength(user) > ScramLimits.maxUserNameBytes) throw new SaslFailure('PLAIN message: bad user name', null, false);
  if (authzid !== '' && authzid !== user) throw new SaslFailure('PLAIN message: the authorization id differs from the user name', user, false);
  if (password.length === 0) throw new SaslFailure('PLAIN message: empty password', user, false);
  const found = lookup(user);
  if (!found) throw new SaslFailure('unknown user', user, true);
  const { mechanism, credential } = found;
  const salted = await saltedPassword(mechanism, password, credential.salt, credential.iterations);
  if (!equalBytes(hash(mechanism, clientKeyOf(mechanism, salted)), credential.storedKey)) throw new SaslFailure('wrong password', user, true);
  return user;
}
