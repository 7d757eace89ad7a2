// What a Kafka handler returns and sees: the answer (a body in the request's own schema,
// the bare error frame for requests that cannot be answered in it, or a raw SASL token)
// and the scope.

import { kafkaErrorOf } from '../../kafka/index.js';
import { isSpoolError } from '../../util/errors.js';
import type { BrokerContext, RequestScope } from '../context.js';

export type KafkaAnswer =
  | {
      kind: 'body';
      body: object;
      /** Encode at this version instead of the request's (ApiVersions fallback). */ apiVersion?: number;
      payloadBytes: number;
      /** Close the connection once this answer is written (a failed SASL exchange). */
      close?: boolean;
      /** A SaslHandshake v0 succeeded: the connection's next frames are raw SASL tokens (sasl-tokens.ts). */
      saslTokensFollow?: boolean;
    }
  | { kind: 'bare-error'; errorCode: number; payloadBytes: number; close: boolean; reason?: string }
  /** Nothing written, the connection closed: how an acks=0 produce that failed is told (and a failed raw SASL token). */
  | { kind: 'close'; payloadBytes: 0; reason: string }
  /** The answer to a raw SASL token: `size:int32 token`, no correlation id. */
  | { kind: 'sasl-token'; token: Buffer; payloadBytes: number };

/** What a handler sees of its request besides the body. */
export interface KafkaScope extends RequestScope {
  readonly apiVersion: number;
  readonly clientId: string;
}

export function answer(body: object, payloadBytes = 0): KafkaAnswer {
  return { kind: 'body', body, payloadBytes };
}

/**
 * The Kafka code and message for an item that failed. A SpoolError is an operating error
 * answered in the item; anything else is a bug: logged with the request's api, then
 * answered UNKNOWN_SERVER_ERROR like Kafka's broker does, so one bad item does not fail the
 * others.
 */
export function itemError(ctx: BrokerContext, what: string, error: unknown): ReturnType<typeof kafkaErrorOf> {
  if (!isSpoolError(error)) ctx.logger.error(`kafka: ${what} failed with a bug`, error);
  return kafkaErrorOf(error);
}
