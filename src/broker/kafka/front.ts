// The Kafka front: Apache Kafka's wire protocol (src/kafka: headers, flexible encodings,
// one schema per API) on the generic Connection, so kcat, librdkafka, kafkajs and
// kafka-python talk to the same broker core as the native SDK.
//
// Frames are length-prefixed like the native ones (`size:int32` then the bytes), so the
// same FrameDecoder splits them (same size cap, growth and pooled assembly). The request
// header is parsed as a frame arrives: a frame too short for a header, or one naming an
// api key Kafka does not have, is garbage (the connection closes, as Kafka's broker does
// on a request it cannot parse). A known key at a version we do not serve gets the
// shortest answer every client can read, `correlationId errorCode=UNSUPPORTED_VERSION`,
// and the connection closes after it (ApiVersions is the exception: KIP-511's v0 answer
// with our table, and the connection stays open). Frames pipelined behind a request answered
// this way are dropped unrun (connection.ts). A failed acks=0 Produce has no answer to carry
// its error: the `close` answer writes nothing and ends the connection, as Kafka does.
//
// After a SaslHandshake v0 that succeeded, frames are raw SASL tokens until the exchange
// ends (frame-source.ts, sasl-tokens.ts; the bytes in README.md beside this file).

import { ApiKeys, encodeResponse, KafkaErrors, kafkaErrorName } from '../../kafka/index.js';
import { assert } from '../../util/assert.js';
import { Errors, isSpoolError, SpoolError } from '../../util/errors.js';
import type { BrokerContext, RequestScope } from '../context.js';
import type { Outcome, WireFront } from '../front.js';
import type { KafkaAnswer } from './answer.js';
import { dispatchKafka } from './dispatch.js';
import { isSaslToken, KafkaFrameSource, type KafkaFrame } from './frame-source.js';
import { dispatchSaslToken, encodeSaslToken } from './sasl-tokens.js';

export type { KafkaFrame };

export interface KafkaTicket {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  /** The frame was a raw SASL token (after SaslHandshake v0): its answer has no correlation id. */
  readonly saslToken?: boolean;
}

/** Kafka's api keys run 0..~80; anything else is not a Kafka request. */
const MAX_KAFKA_API_KEY = 100;

const SASL_TOKEN_TICKET: KafkaTicket = { apiKey: ApiKeys.SaslAuthenticate, apiVersion: 0, correlationId: 0, saslToken: true };

/** A Kafka request; a SaslHandshake v0 that succeeded switches the connection to raw SASL tokens. */
function dispatchRequest(ctx: BrokerContext, frame: KafkaFrame, scope: RequestScope): Outcome<KafkaAnswer> {
  const outcome = dispatchKafka(ctx, frame.raw, frame.header!, scope);
  if (outcome instanceof Promise) return outcome;
  if (outcome?.kind === 'body' && outcome.saslTokensFollow === true) {
    // Synchronously, before the next frame is dispatched: it is the first token.
    assert(frame.header!.apiKey === ApiKeys.SaslHandshake && frame.header!.apiVersion === 0, 'only a SaslHandshake v0 is followed by raw tokens');
    frame.source.expectSaslTokens();
  }
  return outcome;
}

/** Metric labels by api key; keys we do not serve share one label so a client cannot grow the series. */
const API_LABELS: ReadonlyMap<number, string> = new Map(Object.entries(ApiKeys).map(([name, key]) => [key, name]));

export const kafkaFront: WireFront<KafkaFrame, KafkaTicket, KafkaAnswer> = {
  name: 'kafka',
  createDecoder: (maxFrameBytes) => new KafkaFrameSource(maxFrameBytes),
  frameBytes: (frame) => frame.raw.length,
  garbage(frame) {
    if (isSaslToken(frame)) return null;
    if (frame.header === null) return 'a request header that does not parse';
    if (frame.header.apiKey < 0 || frame.header.apiKey > MAX_KAFKA_API_KEY) return `api key ${frame.header.apiKey}`;
    return null;
  },
  ticket: (frame) => (isSaslToken(frame) ? SASL_TOKEN_TICKET : { apiKey: frame.header!.apiKey, apiVersion: frame.header!.apiVersion, correlationId: frame.header!.correlationId }),
  dispatch: (ctx: BrokerContext, frame: KafkaFrame, scope: RequestScope): Outcome<KafkaAnswer> =>
    isSaslToken(frame) ? dispatchSaslToken(ctx, frame.raw, scope, frame.source) : dispatchRequest(ctx, frame, scope),
  // Produce's records are read only while its handler runs synchronously (core/produce.ts);
  // other requests may keep slices of the frame (group metadata is copied, but be safe).
  releaseAfterDispatch: (frame) => !isSaslToken(frame) && frame.header?.apiKey === ApiKeys.Produce,
  responseBytes: (answer) => answer.payloadBytes,
  encode(ticket, answer) {
    if (answer.kind === 'close') return [];
    if (answer.kind === 'sasl-token') return encodeSaslToken(answer.token);
    if (answer.kind === 'bare-error') return [bareError(ticket.correlationId, answer.errorCode)];
    return encodeResponse(ticket.apiKey as never, answer.apiVersion ?? ticket.apiVersion, ticket.correlationId, answer.body as never).chunks;
  },
  failure(ticket, error): KafkaAnswer {
    const reason = isSpoolError(error) ? error.message : new SpoolError(Errors.UNKNOWN).message;
    // A raw SASL token has no correlation id to answer an error with: close.
    if (ticket.saslToken === true) return { kind: 'close', payloadBytes: 0, reason };
    return { kind: 'bare-error', errorCode: KafkaErrors.UNKNOWN_SERVER_ERROR, payloadBytes: 0, close: true, reason };
  },
  closesConnection(answer) {
    switch (answer.kind) {
      case 'close':
        return true;
      case 'bare-error':
        return answer.close;
      case 'body':
        return answer.close === true;
      case 'sasl-token':
        return false;
    }
  },
  // A raw token counts as the SaslAuthenticate it stands for.
  apiName: (frame) => (isSaslToken(frame) ? 'SaslAuthenticate' : frame.header ? (API_LABELS.get(frame.header.apiKey) ?? 'unknown') : 'unknown'),
  errorName(answer) {
    // The request-level code: a bare error, or a top-level errorCode (per-item codes are not counted).
    if (answer.kind === 'close') return 'CONNECTION_CLOSED';
    if (answer.kind === 'sasl-token') return null;
    const code = answer.kind === 'bare-error' ? answer.errorCode : (answer.body as { errorCode?: unknown }).errorCode;
    if (typeof code !== 'number' || code === KafkaErrors.NONE) return null;
    return kafkaErrorName(code) ?? String(code);
  },
};

/** size:int32 correlationId:int32 errorCode:int16: the shortest answer, for requests we cannot answer in their own schema. */
function bareError(correlationId: number, errorCode: number): Buffer {
  const frame = Buffer.alloc(10);
  frame.writeInt32BE(6, 0);
  frame.writeInt32BE(correlationId, 4);
  frame.writeInt16BE(errorCode, 8);
  return frame;
}
