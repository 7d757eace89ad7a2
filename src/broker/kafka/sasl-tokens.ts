// Raw SASL tokens: Kafka's legacy exchange after a SaslHandshake v0 (kafka-python 2.0.2 uses
// it), framed `size:int32 token` both ways with no request header and no correlation id
// (README.md beside this file, "Raw SASL tokens"). Each token goes through the same
// authenticator as a SaslAuthenticate's authBytes (security/sasl.ts: one state machine for
// both framings); only the framing of the answer differs:
//
// - a step that succeeds is answered `size:int32 bytes` (SCRAM server-first, server-final;
//   PLAIN's empty answer is the four bytes 00 00 00 00);
// - the step that completes the exchange turns the connection back to Kafka requests;
// - a failure has no error field to travel in: the connection closes without an answer, after
//   the authenticator's failure delay (Kafka's v0 behaviour; the authenticator logged why).

import { assert } from '../../util/assert.js';
import { Errors, isSpoolError } from '../../util/errors.js';
import type { BrokerContext, RequestScope } from '../context.js';
import type { Outcome } from '../front.js';
import type { KafkaAnswer } from './answer.js';
import { MAX_SASL_TOKEN_BYTES, type KafkaFrameSource } from './frame-source.js';

export function dispatchSaslToken(ctx: BrokerContext, token: Buffer, scope: RequestScope, source: KafkaFrameSource): Outcome<KafkaAnswer> {
  const { sasl } = ctx;
  assert(sasl !== null, 'raw SASL tokens follow only a SaslHandshake v0 that succeeded, which needs SASL on');
  const host = scope.session.host;
  if (token.length > MAX_SASL_TOKEN_BYTES) {
    // Split before the handshake narrowed the decoder's limit (pipelined behind it).
    ctx.logger.warn(`kafka: raw SASL token of ${token.length} bytes from ${host}, more than ${MAX_SASL_TOKEN_BYTES}; closing the connection`, { host });
    return { kind: 'close', payloadBytes: 0, reason: 'raw SASL token too large' };
  }
  const closed = (error: unknown): KafkaAnswer => {
    if (!isSpoolError(error)) ctx.logger.error('kafka: a raw SASL token failed with a bug', error);
    // Failed credentials were logged by the authenticator; say why for the rest (out of order).
    else if (error.kind !== Errors.SASL_AUTHENTICATION_FAILED) ctx.logger.info(`kafka: raw SASL token from ${host} refused: ${error.message}; closing the connection`, { host, code: error.code });
    return { kind: 'close', payloadBytes: 0, reason: isSpoolError(error) ? error.message : 'raw SASL token failed' };
  };
  const answered = (bytes: Buffer): KafkaAnswer => {
    if (scope.session.mechanism !== null) source.expectRequests();
    return { kind: 'sasl-token', token: bytes, payloadBytes: bytes.length };
  };
  try {
    const outcome = sasl.authenticate(scope.session, token);
    return outcome instanceof Promise ? outcome.then(answered, closed) : answered(outcome);
  } catch (error) {
    return closed(error);
  }
}

/** size:int32 token: the answer to a raw SASL token. */
export function encodeSaslToken(token: Buffer): Buffer[] {
  const size = Buffer.allocUnsafe(4);
  size.writeInt32BE(token.length, 0);
  return token.length === 0 ? [size] : [size, token];
}
