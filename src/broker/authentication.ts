// Authentication for both listeners, in one place: the gate both dispatches call before a
// handler (with SASL on, a connection that has not authenticated with SASL may call only ApiVersions,
// SaslHandshake and SaslAuthenticate; anything else gets SASL_AUTHENTICATION_FAILED and
// the connection closes), and the broker's start-up of the credential store, the SASL
// authenticator and the bootstrap user. See src/security/README.md "SASL".

import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CREDENTIALS_FILE, CredentialStore, type CredentialChange } from '../security/credential-store.js';
import { isSaslMechanism, SaslAuthenticator, type SaslMechanism, type SaslOptions } from '../security/sasl.js';
import type { Session } from '../security/session.js';
import { readWholeFileSync, type StorageFs } from '../storage/fs.js';
import { writeFileAtomicSync } from '../storage/metadata.js';
import type { Clock } from '../util/clock.js';
import { Errors, SpoolError } from '../util/errors.js';
import { saltedPasswordSync, ScramLimits, ScramMechanisms, type ScramMechanism } from '../util/scram.js';
import type { BrokerContext } from './context.js';
import type { Logger } from './logger.js';
import type { BrokerMetrics } from './metrics.js';

/**
 * Why a request may not run on this connection yet, or null when it may. `preAuthentication`
 * is true for the APIs a client needs before it has authenticated (ApiVersions and the two
 * SASL APIs). The caller answers with the error and closes the connection.
 */
export function authenticationRefusal(ctx: BrokerContext, session: Session, api: string, preAuthentication: boolean, listener: string): SpoolError | null {
  // SASL's own mark (mechanism), not `authenticated`: a TLS client certificate does not stand in
  // for SASL when SASL is on (as on Kafka's SASL_SSL listener, whose principal is the SASL user).
  if (ctx.sasl === null || preAuthentication) return null;
  if (session.mechanism !== null) {
    // KIP-368: one branch per request while sessions do not expire.
    if (session.expiresAtMs === null || !ctx.sasl.expired(session)) return null;
    ctx.logger.info(`${listener}: the SASL session of ${session.principal} from ${session.host} expired without re-authentication; closing the connection at ${api}`, {
      listener,
      api,
      host: session.host,
      principal: session.principal,
    });
    return new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, `the SASL session expired (connections.max.reauth.ms ${ctx.sasl.connectionsMaxReauthMs}): re-authenticate before it ends`);
  }
  ctx.logger.info(`${listener}: ${api} from ${session.host} before authentication; closing the connection`, { listener, api, host: session.host });
  return new SpoolError(Errors.SASL_AUTHENTICATION_FAILED, `${api} is not allowed before authentication: authenticate with SASL (${ctx.sasl.mechanisms.join(', ')}) first`);
}

export type { SaslMechanism, SaslOptions };

/** `--sasl scram-sha-256,scram-sha-512[,plain]` (any case) as mechanism names; throws a RangeError. */
export function parseSaslMechanisms(text: string): SaslMechanism[] {
  const names = text.split(',').map((name) => name.trim().toUpperCase()).filter((name) => name !== '');
  if (names.length === 0) throw new RangeError('--sasl needs at least one mechanism: scram-sha-256, scram-sha-512, plain');
  for (const name of names) if (!isSaslMechanism(name)) throw new RangeError(`--sasl: unknown mechanism '${name.toLowerCase()}' (scram-sha-256, scram-sha-512, plain)`);
  return [...new Set(names)] as SaslMechanism[];
}

/**
 * True while the connection still has to authenticate (SASL on, no SASL exchange done): a
 * SASL failure then ends the connection. With SASL off, or once authenticated, a SASL request
 * is only answered with its error (as Kafka's broker answers one after the exchange).
 */
export function mustAuthenticate(ctx: BrokerContext, session: Session): boolean {
  return ctx.sasl !== null && session.mechanism === null;
}

export interface BootstrapUser {
  name: string;
  password: string;
}

/** Parses SPOOL_BOOTSTRAP_USER's `name:password` (the password may contain ':'). */
export function parseBootstrapUser(text: string): BootstrapUser {
  const colon = text.indexOf(':');
  if (colon < 1 || colon === text.length - 1) throw new RangeError('SPOOL_BOOTSTRAP_USER must be name:password');
  return { name: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** The bootstrap user's credentials: both SCRAM mechanisms, a fresh salt each. */
export function bootstrapChanges(bootstrap: BootstrapUser): CredentialChange[] {
  return (Object.keys(ScramMechanisms) as ScramMechanism[]).map((mechanism) => {
    const salt = randomBytes(ScramLimits.saltBytes);
    const iterations = ScramLimits.defaultIterations;
    return { kind: 'upsert' as const, user: bootstrap.name, mechanism, salt, iterations, saltedPassword: saltedPasswordSync(mechanism, bootstrap.password, salt, iterations) };
  });
}

export interface Security {
  credentials: CredentialStore;
  sasl: SaslAuthenticator | null;
}

/**
 * Opens the credential store in the data directory (the caller holds the data-dir lock),
 * creates the bootstrap user with both SCRAM mechanisms if it has no credential yet, and
 * makes the authenticator when SASL is on.
 */
export function openSecurity(dataDir: string, fs: StorageFs, options: { sasl?: SaslOptions; bootstrapUser?: BootstrapUser }, logger: Logger, clock: Clock, metrics: BrokerMetrics): Security {
  const path = join(dataDir, CREDENTIALS_FILE);
  const credentials = CredentialStore.open({
    read: () => (fs.existsSync(path) ? readWholeFileSync(fs, path) : null),
    write: (data) => {
      fs.mkdirSync(join(path, '..'));
      writeFileAtomicSync(fs, path, data);
    },
  });
  const bootstrap = options.bootstrapUser;
  if (bootstrap && !credentials.has(bootstrap.name)) {
    const results = credentials.alter(bootstrapChanges(bootstrap));
    const failure = results.find((result) => result !== null);
    if (failure) throw new RangeError(`bootstrap user ${bootstrap.name}: ${failure.message}`);
    logger.info(`created bootstrap user User:${bootstrap.name} (SCRAM-SHA-256, SCRAM-SHA-512)`, { principal: `User:${bootstrap.name}` });
  }
  const sasl = options.sasl
    ? new SaslAuthenticator(
        options.sasl,
        credentials,
        (level, message, fields) => (level === 'debug' ? logger.debug?.(message, fields) : logger[level](message, fields)),
        () => clock.monotonicMs(),
        (mechanism, result) => metrics.saslAuthentication(mechanism, result),
      )
    : null;
  return { credentials, sasl };
}
