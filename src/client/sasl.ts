// The client side of SASL for the SDK: `sasl: { mechanism, username, password }` as kafkajs
// spells it. Every new connection authenticates right after its ApiVersions handshake and
// before any other request: SaslHandshake(mechanism), then SaslAuthenticate with the
// mechanism's messages (see src/security/README.md "SASL" for the exchange).
//
// The SCRAM client steps themselves are util/scram-client.ts (ScramClient, re-exported
// here), shared with the broker's own logins to its peers (broker/peer-connection.ts).

import { Errors, SpoolError } from '../util/errors.js';
import type { ScramMechanism } from '../util/scram.js';

export { ScramClient } from '../util/scram-client.js';

export type SaslMechanismOption = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface SaslConfig {
  /** 'scram-sha-256', 'scram-sha-512' or 'plain' (any case; PLAIN only over TLS). */
  mechanism: SaslMechanismOption | Uppercase<SaslMechanismOption>;
  username: string;
  password: string;
}

/** Checks a `sasl` option; returns it with the mechanism in Kafka's spelling. */
export function checkSaslConfig(sasl: unknown, where: string): { mechanism: 'PLAIN' | ScramMechanism; username: string; password: string } {
  const config = sasl as Partial<SaslConfig> | null;
  const mechanism = typeof config?.mechanism === 'string' ? config.mechanism.toUpperCase() : '';
  if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
    throw new SpoolError(Errors.INVALID_REQUEST, `${where} sasl.mechanism must be 'scram-sha-256', 'scram-sha-512' or 'plain'`);
  }
  if (typeof config?.username !== 'string' || config.username === '' || typeof config.password !== 'string' || config.password === '') {
    throw new SpoolError(Errors.INVALID_REQUEST, `${where} sasl needs a username and a password`);
  }
  return { mechanism, username: config.username, password: config.password };
}

/** `[authzid] NUL user NUL password` (RFC 4616), authzid left empty. */
export function plainMessage(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}
