// Request and response frames: the headers, and the typed entry points the listener calls.
//
// A frame on the socket is `size:int32` then `size` bytes; these functions take the bytes
// after the size (decode) and return them with the size in front (encode).
//
// RequestHeader v1 => apiKey:int16 apiVersion:int16 correlationId:int32 clientId:string?
// RequestHeader v2 => the same (clientId stays a NULLABLE_STRING with an int16 length, not a
//                     compact string) + TaggedFields
// ResponseHeader v0 => correlationId:int32
// ResponseHeader v1 => correlationId:int32 TaggedFields
//
// Header v2 / v1 go with the flexible versions of each API, except that an ApiVersions
// response always uses header v0: a client that does not yet know our versions must be able
// to read it (KIP-511).

import { assert } from '../util/assert.js';
import { Errors } from '../util/errors.js';
import { API_SCHEMAS, type ApiKey, ApiKeys, type ApiSchemas, type RequestBodies, type ResponseBodies } from './apis/index.js';
import { decodeStruct, encodeStruct, type Measure, measureStruct, planOf, Writer } from './codec.js';
import { KafkaDecodeError } from './decode-error.js';
import { Reader } from './reader.js';
import type { MessageSchema } from './schema.js';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /** Byte position in the frame where the body starts. */
  readonly bodyOffset: number;
}

/** A decoded request: `body` is typed by `apiKey`, so a switch on apiKey narrows it. */
export type KafkaRequest = {
  [K in ApiKey]: { readonly apiKey: K; readonly apiVersion: number; readonly correlationId: number; readonly clientId: string | null; readonly body: RequestBodies[K] };
}[ApiKey];

/** A request body with any field left out (written as its default): for tests and clients. */
export type RequestInput<T> = T extends Buffer
  ? T
  : T extends (infer E)[]
    ? RequestInput<E>[]
    : T extends object
      ? { [P in keyof T]?: RequestInput<T[P]> }
      : T;

/** An encoded frame: chunks to write in order (writev), size prefix included in the first. */
export interface EncodedFrame {
  readonly chunks: Buffer[];
  /** Sum of the chunk lengths: 4 + the frame's size field. */
  readonly byteLength: number;
}

const SCHEMAS_BY_KEY = new Map<number, ApiSchemas>(API_SCHEMAS.map((api) => [api.apiKey, api]));
const MIN_REQUEST_HEADER_BYTES = 10; // apiKey, apiVersion, correlationId, clientId length

export function apiSchemas(apiKey: number): ApiSchemas | undefined {
  return SCHEMAS_BY_KEY.get(apiKey);
}

/** True when spool serves `apiVersion` of `apiKey`. */
export function isSupported(apiKey: number, apiVersion: number): boolean {
  const api = SCHEMAS_BY_KEY.get(apiKey);
  return api !== undefined && apiVersion >= api.minVersion && apiVersion <= api.maxVersion;
}

function requestHeaderFlexible(apiKey: number, apiVersion: number): boolean {
  const api = SCHEMAS_BY_KEY.get(apiKey);
  return api !== undefined && api.kafkaFlexibleFrom !== null && apiVersion >= api.kafkaFlexibleFrom;
}

function responseHeaderFlexible(apiKey: number, apiVersion: number): boolean {
  if (apiKey === ApiKeys.ApiVersions) return false;
  const api = SCHEMAS_BY_KEY.get(apiKey);
  return api !== undefined && api.kafkaFlexibleFrom !== null && apiVersion >= api.kafkaFlexibleFrom;
}

/**
 * Reads the request header of any API and version, served or not (the listener needs the
 * correlation id to answer UNSUPPORTED_VERSION). Throws KafkaDecodeError on a short or
 * malformed header.
 */
export function decodeRequestHeader(frame: Buffer): RequestHeader {
  const reader = new Reader(frame, 0, frame.length);
  if (frame.length < MIN_REQUEST_HEADER_BYTES) reader.fail(`request frame of ${frame.length} bytes is shorter than a header`);
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.string(false);
  if (requestHeaderFlexible(apiKey, apiVersion)) skipTaggedFields(reader);
  return { apiKey, apiVersion, correlationId, clientId, bodyOffset: reader.at };
}

function skipTaggedFields(reader: Reader): void {
  const count = reader.unsignedVarint();
  if (count * 2 > reader.remaining) reader.fail(`${count} tagged fields cannot fit in ${reader.remaining} bytes`);
  for (let index = 0; index < count; index++) {
    reader.unsignedVarint();
    const size = reader.unsignedVarint();
    if (size > reader.remaining) reader.fail(`tagged field size ${size} exceeds the ${reader.remaining} bytes left`);
    reader.at += size;
  }
}

/**
 * Decodes a whole request frame (the bytes after the size). Throws KafkaDecodeError: with
 * kind UNSUPPORTED_VERSION (and `header` set) for an API or version spool does not serve,
 * INVALID_REQUEST for malformed bytes. Trailing bytes after the body are ignored, as Kafka does.
 */
export function decodeRequest(frame: Buffer): KafkaRequest {
  const header = decodeRequestHeader(frame);
  const api = SCHEMAS_BY_KEY.get(header.apiKey);
  if (!api || header.apiVersion < api.minVersion || header.apiVersion > api.maxVersion) {
    throw new KafkaUnsupportedVersionError(header);
  }
  const body = decodeBody(api.request, header.apiVersion, frame, header.bodyOffset);
  return { apiKey: header.apiKey, apiVersion: header.apiVersion, correlationId: header.correlationId, clientId: header.clientId, body } as KafkaRequest;
}

export class KafkaUnsupportedVersionError extends KafkaDecodeError {
  constructor(readonly header: RequestHeader) {
    super(`api key ${header.apiKey} version ${header.apiVersion} is not served`, 0, Errors.UNSUPPORTED_VERSION);
    this.name = 'KafkaUnsupportedVersionError';
  }
}

function decodeBody(schema: MessageSchema, version: number, frame: Buffer, at: number): never {
  const reader = new Reader(frame, at, frame.length);
  return decodeStruct(reader, planOf(schema, version)) as never;
}

/** Decodes a response frame (after the size) of a served API and version: for tests and clients. */
export function decodeResponse<K extends ApiKey>(apiKey: K, apiVersion: number, frame: Buffer): { correlationId: number; body: ResponseBodies[K] } {
  const api = SCHEMAS_BY_KEY.get(apiKey);
  assert(api !== undefined && isSupported(apiKey, apiVersion), `api key ${apiKey} v${apiVersion} is not served`);
  const reader = new Reader(frame, 0, frame.length);
  const correlationId = reader.int32();
  if (responseHeaderFlexible(apiKey, apiVersion)) skipTaggedFields(reader);
  return { correlationId, body: decodeBody(api.response, apiVersion, frame, reader.at) };
}

/**
 * Encodes a response frame, size prefix included. Records Buffers in the body (Fetch) are
 * returned as chunks of their own, never copied; every other byte is in one allocation.
 * The body must be valid for its type (a bug otherwise: an assertion).
 */
export function encodeResponse<K extends ApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseBodies[K]): EncodedFrame {
  const api = SCHEMAS_BY_KEY.get(apiKey);
  assert(api !== undefined && isSupported(apiKey, apiVersion), `api key ${apiKey} v${apiVersion} is not served`);
  const flexibleHeader = responseHeaderFlexible(apiKey, apiVersion);
  return encodeFrame(api.response, apiVersion, body as unknown as Record<string, unknown>, flexibleHeader ? 5 : 4, (writer) => {
    writer.at = writer.buf.writeInt32BE(correlationId, writer.at);
    if (flexibleHeader) writer.unsignedVarint(0);
  });
}

/** Encodes a request frame (header v1 or v2), size prefix included: for tests and clients. */
export function encodeRequest<K extends ApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  clientId: string | null,
  body: RequestInput<RequestBodies[K]>,
): EncodedFrame {
  const api = SCHEMAS_BY_KEY.get(apiKey);
  assert(api !== undefined && isSupported(apiKey, apiVersion), `api key ${apiKey} v${apiVersion} is not served`);
  const flexibleHeader = requestHeaderFlexible(apiKey, apiVersion);
  const clientIdBytes = clientId === null ? 0 : Buffer.byteLength(clientId, 'utf8');
  assert(clientIdBytes <= 0x7fff, 'client id too long');
  const headerBytes = 8 + 2 + clientIdBytes + (flexibleHeader ? 1 : 0);
  return encodeFrame(api.request, apiVersion, body as unknown as Record<string, unknown>, headerBytes, (writer) => {
    const buf = writer.buf;
    writer.at = buf.writeInt16BE(apiKey, writer.at);
    writer.at = buf.writeInt16BE(apiVersion, writer.at);
    writer.at = buf.writeInt32BE(correlationId, writer.at);
    writer.at = buf.writeInt16BE(clientId === null ? -1 : clientIdBytes, writer.at);
    if (clientId !== null) writer.at += buf.write(clientId, writer.at, 'utf8');
    if (flexibleHeader) writer.unsignedVarint(0);
  });
}

function encodeFrame(
  schema: MessageSchema,
  version: number,
  body: Record<string, unknown>,
  headerBytes: number,
  writeHeader: (writer: Writer) => void,
): EncodedFrame {
  const plan = planOf(schema, version);
  const measure: Measure = { bufferedBytes: 4 + headerBytes, recordsBytes: 0 };
  measureStruct(plan, body, measure);
  const byteLength = measure.bufferedBytes + measure.recordsBytes;
  assert(byteLength - 4 <= 0x7fff_ffff, `frame of ${byteLength} bytes is too large`);
  const buf = Buffer.allocUnsafe(measure.bufferedBytes);
  const writer = new Writer(buf, 0, []);
  writer.at = buf.writeInt32BE(byteLength - 4, 0);
  writeHeader(writer);
  assert(writer.at === 4 + headerBytes, 'header size mismatch');
  encodeStruct(writer, plan, body);
  const chunks = writer.finish();
  // The pair of the measure above: every byte measured was written, no more.
  assert(writer.at === measure.bufferedBytes, `${schema.name} v${version}: wrote ${writer.at} of ${measure.bufferedBytes} bytes`);
  return { chunks, byteLength };
}

/** The frame as one Buffer (copies records): for tests and small control-path answers. */
export function frameBytes(frame: EncodedFrame): Buffer {
  return frame.chunks.length === 1 ? frame.chunks[0]! : Buffer.concat(frame.chunks, frame.byteLength);
}
