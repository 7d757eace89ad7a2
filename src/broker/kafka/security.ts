// Kafka SaslHandshake (17) v0-1, SaslAuthenticate (36) v0-2, DescribeUserScramCredentials
// (50) v0 and AlterUserScramCredentials (51) v0 over security/ and core/users.ts.
//
// SaslHandshake v1 then SaslAuthenticate requests is the exchange librdkafka, kafkajs and
// the Java client use. After a v0 handshake that succeeded (kafka-python 2.0.2) the SASL
// tokens come raw, not framed as Kafka requests: the answer carries saslTokensFollow and the
// front reads the next frames as tokens (sasl-tokens.ts), through the same authenticator. A
// failed handshake (either version) or authentication on a connection that still has to
// authenticate is answered in its schema and closes the connection, as in Kafka; with SASL
// off or once authenticated, the error is only answered (Kafka's KafkaApis answers
// ILLEGAL_SASL_STATE there) and no raw tokens follow. With --connections-max-reauth-ms, an
// authenticated connection may run the exchange again (KIP-368 re-authentication: librdkafka
// and the Java client do it with v1 handshakes before sessionLifetimeMs runs out); its failure
// closes the connection.

import {
  KafkaErrors,
  kafkaErrorOf,
  type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse,
  type DescribeUserScramCredentialsRequest,
  type DescribeUserScramCredentialsResponse,
  type SaslAuthenticateRequest,
  type SaslAuthenticateResponse,
  type SaslHandshakeRequest,
  type SaslHandshakeResponse,
} from '../../kafka/index.js';
import { Errors, isSpoolError, SpoolError } from '../../util/errors.js';
import { ScramMechanisms, scramMechanismOfType } from '../../util/scram.js';
import type { BrokerContext } from '../context.js';
import { alterUsers, describeUsers, type RequestedChange } from '../core/users.js';
import { mustAuthenticate } from '../authentication.js';
import { RequestLimits } from '../../protocol/validate.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

/**
 * More users (or credential changes) than RequestLimits.maxUsersPerRequest: the request is
 * refused whole before any work (each change costs HMACs, and the answer has no request-level
 * error field), with the bare INVALID_REQUEST frame and a close, like a malformed request.
 */
function tooMany(ctx: BrokerContext, api: string, count: number): KafkaAnswer {
  ctx.logger.warn(`kafka: ${api} names ${count} entries, more than maxUsersPerRequest (${RequestLimits.maxUsersPerRequest}); closing the connection`);
  return { kind: 'bare-error', errorCode: KafkaErrors.INVALID_REQUEST, payloadBytes: 0, close: true };
}

function closing(body: object, close = true): KafkaAnswer {
  return { kind: 'body', body, payloadBytes: 0, close };
}


export function handleSaslHandshake(ctx: BrokerContext, request: SaslHandshakeRequest, scope: KafkaScope): KafkaAnswer {
  const { sasl } = ctx;
  const mechanisms = sasl?.mechanismsFor(scope.session) ?? [];
  if (sasl === null) return answer({ errorCode: KafkaErrors.ILLEGAL_SASL_STATE, mechanisms } satisfies SaslHandshakeResponse);
  // A failed re-authentication (KIP-368) closes too.
  const close = mustAuthenticate(ctx, scope.session) || sasl.reauthenticates(scope.session);
  try {
    sasl.handshake(scope.session, request.mechanism);
    // v0: the tokens that follow are raw `size:int32 token` frames (KIP-43's original exchange).
    const body = { errorCode: KafkaErrors.NONE, mechanisms } satisfies SaslHandshakeResponse;
    return { kind: 'body', body, payloadBytes: 0, saslTokensFollow: scope.apiVersion === 0 };
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    return closing({ errorCode: kafkaErrorOf(error).errorCode, mechanisms } satisfies SaslHandshakeResponse, close);
  }
}

export function handleSaslAuthenticate(ctx: BrokerContext, request: SaslAuthenticateRequest, scope: KafkaScope): KafkaAnswer | Promise<KafkaAnswer> {
  const close = mustAuthenticate(ctx, scope.session) || (ctx.sasl?.reauthenticates(scope.session) ?? false);
  const failed = (error: unknown): KafkaAnswer => {
    if (!isSpoolError(error)) throw error;
    const { errorCode, errorMessage } = kafkaErrorOf(error);
    return closing({ errorCode, errorMessage, authBytes: EMPTY, sessionLifetimeMs: 0 } satisfies SaslAuthenticateResponse, close);
  };
  const { sasl } = ctx;
  if (sasl === null) return failed(new SpoolError(Errors.ILLEGAL_SASL_STATE, 'SASL is not enabled on this listener'));
  // sessionLifetimeMs (v1+; v0 leaves it out): KIP-368's deadline once the exchange has
  // succeeded, 0 before that or with --connections-max-reauth-ms 0.
  const answered = (bytes: Buffer): KafkaAnswer =>
    answer({ errorCode: KafkaErrors.NONE, errorMessage: null, authBytes: bytes, sessionLifetimeMs: sasl.sessionLifetimeMs(scope.session) } satisfies SaslAuthenticateResponse);
  try {
    const outcome = sasl.authenticate(scope.session, request.authBytes);
    return outcome instanceof Promise ? outcome.then(answered, failed) : answered(outcome);
  } catch (error) {
    return failed(error);
  }
}

export function handleDescribeUserScramCredentials(ctx: BrokerContext, request: DescribeUserScramCredentialsRequest): KafkaAnswer {
  if ((request.users?.length ?? 0) > RequestLimits.maxUsersPerRequest) return tooMany(ctx, 'DescribeUserScramCredentials', request.users!.length);
  const names = request.users === null ? null : request.users.map((entry) => entry.name);
  const results = describeUsers(ctx, names).map((result) => {
    const { errorCode, errorMessage } = result.error ? kafkaErrorOf(result.error) : { errorCode: KafkaErrors.NONE, errorMessage: null };
    return {
      user: result.user,
      errorCode,
      errorMessage,
      credentialInfos: result.credentials.map((credential) => ({ mechanism: ScramMechanisms[credential.mechanism].kafkaType, iterations: credential.iterations })),
    };
  });
  return answer({ throttleTimeMs: 0, errorCode: KafkaErrors.NONE, errorMessage: null, results } satisfies DescribeUserScramCredentialsResponse);
}

/** One result per user (Kafka's shape): the first error among that user's changes, or NONE. */
export async function handleAlterUserScramCredentials(ctx: BrokerContext, request: AlterUserScramCredentialsRequest): Promise<KafkaAnswer> {
  const count = request.deletions.length + request.upsertions.length;
  if (count > RequestLimits.maxUsersPerRequest) return tooMany(ctx, 'AlterUserScramCredentials', count);
  const requested: RequestedChange[] = [
    ...request.deletions.map((entry) => ({ kind: 'delete' as const, user: entry.name, mechanism: scramMechanismOfType(entry.mechanism) })),
    ...request.upsertions.map((entry) => ({
      kind: 'upsert' as const,
      user: entry.name,
      mechanism: scramMechanismOfType(entry.mechanism),
      iterations: entry.iterations,
      salt: entry.salt,
      saltedPassword: entry.saltedPassword,
    })),
  ];
  const errors = await alterUsers(ctx, requested);
  const byUser = new Map<string, SpoolError | null>();
  requested.forEach((change, index) => {
    if (!byUser.has(change.user) || byUser.get(change.user) === null) byUser.set(change.user, errors[index] ?? null);
  });
  const results = [...byUser].map(([user, error]) => {
    const { errorCode, errorMessage } = error ? kafkaErrorOf(error) : { errorCode: KafkaErrors.NONE, errorMessage: null };
    return { user, errorCode, errorMessage };
  });
  return answer({ throttleTimeMs: 0, results } satisfies AlterUserScramCredentialsResponse);
}

const EMPTY = Buffer.alloc(0);
