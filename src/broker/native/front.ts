// The native front: spool's own wire (protocol/: msgpack headers, raw batch payloads) on
// the generic Connection. Frames are split by protocol's RequestFrameDecoder with pooled
// assembly; a Produce frame's memory is handed back right after dispatch, since
// handleProduce reads its payload only while it runs synchronously (see produce.ts).

import { ApiKey, apiName } from '../../protocol/apis.js';
import { decodeBody } from '../../protocol/body.js';
import { RequestLimits } from '../../protocol/validate.js';
import { encodeResponseFrame, parseRequestFrame, REQUEST_HEADER_BYTES, SIZE_BYTES, type RequestFrame } from '../../protocol/frame.js';
import { Errors, errorByCode, isSpoolError, SpoolError } from '../../util/errors.js';
import type { HandlerResponse } from '../context.js';
import { LengthPrefixedFrameSource, type WireFront } from '../front.js';
import { dispatch, errorResponse, isKnownApiKey } from './dispatch.js';

/** Metric labels by api key, computed once (apiName walks the table); unknown keys share one label so a client cannot grow the series. */
const API_LABELS: ReadonlyMap<number, string> = new Map(Object.values(ApiKey).map((key) => [key, apiName(key)]));

/** The correlation id is all a native answer needs. */
export const nativeFront: WireFront<RequestFrame, number, HandlerResponse> = {
  name: 'native',
  createDecoder: (maxFrameBytes) =>
    new LengthPrefixedFrameSource(maxFrameBytes, REQUEST_HEADER_BYTES - SIZE_BYTES, parseRequestFrame, (frame: RequestFrame) => frame.body),
  frameBytes: (frame) => REQUEST_HEADER_BYTES + frame.body.length,
  garbage: (frame) => (!isKnownApiKey(frame.apiKey) && !hasDecodableBody(frame.body) ? `unknown api key ${frame.apiKey} and no valid body` : null),
  ticket: (frame) => frame.correlationId,
  dispatch,
  releaseAfterDispatch: (frame) => frame.apiKey === ApiKey.Produce,
  responseBytes(response) {
    let bytes = 0;
    if (response.payload) for (const part of response.payload) bytes += part.length;
    return bytes;
  },
  encode: (correlationId, response) => encodeResponseFrame(correlationId, response.header, response.payload),
  closesConnection: (response) => response.close === true,
  failure: (_correlationId, error) => errorResponse(isSpoolError(error) ? error : new SpoolError(Errors.UNKNOWN)),
  apiName: (frame) => API_LABELS.get(frame.apiKey) ?? 'unknown',
  errorName(response) {
    const code = (response.header as { errorCode?: unknown }).errorCode;
    return typeof code === 'number' && code !== Errors.NONE.code ? errorByCode(code).name : null;
  },
};

function hasDecodableBody(body: Buffer): boolean {
  try {
    decodeBody(body, RequestLimits.maxHeaderBytes);
    return true;
  } catch {
    // Safe: this only classifies the frame; the caller closes the connection on false.
    return false;
  }
}
