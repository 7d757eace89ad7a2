// Native SASL and SCRAM-user APIs (44-47) over security/ and core/users.ts. A failed
// handshake or authentication on a connection that still has to authenticate is answered
// with its error and closes the connection; with SASL off, or once authenticated, a SASL
// request is only answered with its error (as Kafka's broker answers one after the exchange),
// unless it is a re-authentication (--connections-max-reauth-ms), whose failure closes.

import { NO_ERROR, errorFields } from '../../protocol/errors.js';
import type * as M from '../../protocol/messages.js';
import { Errors, isSpoolError, SpoolError } from '../../util/errors.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { alterUsers, describeUsers } from '../core/users.js';
import { mustAuthenticate } from '../authentication.js';

export function handleSaslHandshake(ctx: BrokerContext, request: M.SaslHandshakeRequest, scope: RequestScope): HandlerResponse {
  const { sasl } = ctx;
  if (sasl === null) {
    const error = new SpoolError(Errors.UNSUPPORTED_SASL_MECHANISM, 'SASL is not enabled on this broker');
    return { header: { ...errorFields(error), mechanisms: [] } satisfies M.SaslHandshakeResponse };
  }
  // A failed re-authentication closes too.
  const close = mustAuthenticate(ctx, scope.session) || sasl.reauthenticates(scope.session);
  const mechanisms = sasl.mechanismsFor(scope.session);
  try {
    sasl.handshake(scope.session, request.mechanism);
    return { header: { ...NO_ERROR, mechanisms } satisfies M.SaslHandshakeResponse };
  } catch (error) {
    if (!isSpoolError(error)) throw error;
    return { header: { ...errorFields(error), mechanisms } satisfies M.SaslHandshakeResponse, close };
  }
}

export function handleSaslAuthenticate(ctx: BrokerContext, request: M.SaslAuthenticateRequest, scope: RequestScope): HandlerResponse | Promise<HandlerResponse> {
  const { sasl } = ctx;
  const close = mustAuthenticate(ctx, scope.session) || (sasl?.reauthenticates(scope.session) ?? false);
  const failed = (error: unknown): HandlerResponse => {
    if (!isSpoolError(error)) throw error;
    return { header: { ...errorFields(error), authBytes: EMPTY } satisfies M.SaslAuthenticateResponse, close };
  };
  if (sasl === null) return failed(new SpoolError(Errors.ILLEGAL_SASL_STATE, 'SASL is not enabled on this broker'));
  // sessionLifetimeMs only when the session expires (an optional field older SDKs ignore).
  const answered = (bytes: Buffer): HandlerResponse => {
    const sessionLifetimeMs = sasl.sessionLifetimeMs(scope.session);
    return { header: { ...NO_ERROR, authBytes: bytes, ...(sessionLifetimeMs > 0 ? { sessionLifetimeMs } : {}) } satisfies M.SaslAuthenticateResponse };
  };
  try {
    const outcome = sasl.authenticate(scope.session, Buffer.from(request.authBytes.buffer, request.authBytes.byteOffset, request.authBytes.byteLength));
    return outcome instanceof Promise ? outcome.then(answered, failed) : answered(outcome);
  } catch (error) {
    return failed(error);
  }
}

export function handleDescribeUserScramCredentials(ctx: BrokerContext, request: M.DescribeUserScramCredentialsRequest): HandlerResponse {
  const users = describeUsers(ctx, request.users ?? null).map((result) => ({
    user: result.user,
    ...(result.error ? errorFields(result.error) : NO_ERROR),
    credentials: result.credentials,
  }));
  return { header: { ...NO_ERROR, users } satisfies M.DescribeUserScramCredentialsResponse };
}

export async function handleAlterUserScramCredentials(ctx: BrokerContext, request: M.AlterUserScramCredentialsRequest): Promise<HandlerResponse> {
  const requested = [
    ...(request.deletions ?? []).map((entry) => ({ kind: 'delete' as const, user: entry.user, mechanism: entry.mechanism })),
    ...(request.upsertions ?? []).map((entry) => ({ kind: 'upsert' as const, ...entry })),
  ];
  const errors = await alterUsers(ctx, requested);
  const results = requested.map((change, index) => ({ user: change.user, mechanism: change.mechanism, ...(errors[index] ? errorFields(errors[index]) : NO_ERROR) }));
  return { header: { ...NO_ERROR, results } satisfies M.AlterUserScramCredentialsResponse };
}

const EMPTY = new Uint8Array(0);
