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

import { ApiKeys, decodeRequestHeader, encodeResponse, KafkaDecodeError, KafkaErrors, kafkaErrorName, type RequestHeader } from '../../kafka/index.js';
import { Errors, isSpoolError, SpoolError } from '../../util/errors.js';
import type { BrokerContext, RequestScope } from '../context.js';
import { LengthPrefixedFrameSource, type Outcome, type WireFront } from '../front.js';
import type { KafkaAnswer } from './answer.js';
import { dispatchKafka } from './dispatch.js';

/** A frame after its size field, with its header when it has a readable one. */
export interface KafkaFrame {
  readonly raw: Buffer;
  readonly header: RequestHeader | null;
}

export interface KafkaTicket {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
}

/** apiKey:int16 apiVersion:int16 correlationId:int32 clientIdLength:int16. */
const MIN_HEADER_BYTES = 10;
/** Kafka's api keys run 0..~80; anything else is not a Kafka request. */
const MAX_KAFKA_API_KEY = 100;

function readHeader(raw: Buffer): RequestHeader | null {
  try {
    return decodeRequestHeader(raw);
  } catch (error) {
    if (error instanceof KafkaDecodeError) return null;
    throw error;
  }
}

/** Metric labels by api key; keys we do not serve share one label so a client cannot grow the series. */
const API_LABELS: ReadonlyMap<number, string> = new Map(Object.entries(ApiKeys).map(([name, key]) => [key, name]));

export const kafkaFront: WireFront<KafkaFrame, KafkaTicket, KafkaAnswer> = {
  name: 'kafka',
  createDecoder: (maxFrameBytes) =>
    new LengthPrefixedFrameSource(maxFrameBytes, MIN_HEADER_BYTES, (raw): KafkaFrame => ({ raw, header: readHeader(raw) }), (frame: KafkaFrame) => frame.raw),
  frameBytes: (frame) => frame.raw.length,
  garbage(frame) {
    if (frame.header === null) return 'a request header that does not parse';
    if (frame.header.apiKey < 0 || frame.header.apiKey > MAX_KAFKA_API_KEY) return `api key ${frame.header.apiKey}`;
    return null;
  },
  ticket: (frame) => ({ apiKey: frame.header!.apiKey, apiVersion: frame.header!.apiVersion, correlationId: frame.header!.correlationId }),
  dispatch: (ctx: BrokerContext, frame: KafkaFrame, scope: RequestScope): Outcome<KafkaAnswer> => dispatchKafka(ctx, frame.raw, frame.header!, scope),
  // Produce's records are read only while its handler runs synchronously (core/produce.ts);
  // other requests may keep slices of the frame (group metadata is copied, but be safe).
  releaseAfterDispatch: (frame) => frame.header?.apiKey === ApiKeys.Produce,
  responseBytes: (answer) => answer.payloadBytes,
  encode(ticket, answer) {
    if (answer.kind === 'close') return [];
    if (answer.kind === 'bare-error') return [bareError(ticket.correlationId, answer.errorCode)];
    return encodeResponse(ticket.apiKey as never, answer.apiVersion ?? ticket.apiVersion, ticket.correlationId, answer.body as never).chunks;
  },
  failure: (_ticket, error) => ({
    kind: 'bare-error',
    errorCode: KafkaErrors.UNKNOWN_SERVER_ERROR,
    payloadBytes: 0,
    close: true,
    reason: isSpoolError(error) ? error.message : new SpoolError(Errors.UNKNOWN).message,
  }),
  closesConnection: (answer) => answer.kind === 'close' || (answer.kind !== 'body' ? answer.close : answer.close === true),
  apiName: (frame) => (frame.header ? (API_LABELS.get(frame.header.apiKey) ?? 'unknown') : 'unknown'),
  errorName(answer) {
    // The request-level code: a bare error, or a top-level errorCode (per-item codes are not counted).
    if (answer.kind === 'close') return 'CONNECTION_CLOSED';
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
