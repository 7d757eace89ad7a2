// Proves encode -> decode is lossless for every served API, version and direction: for random
// messages (fast-check, seeded, generated from the API's schema), the decoded object matches
// the encoded one, and encoding it again gives the same bytes. Records fields come back as
// slices of the frame. Also checks the supported table and ApiVersions helpers.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_SCHEMAS,
  type ApiKey,
  ApiKeys,
  apiVersionsResponse,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  frameBytes,
  isSupported,
  SUPPORTED_APIS,
} from '../../src/kafka/index.js';
import { messageArbitrary } from './arbitrary.js';

const SEED = 9_0001;
const RUNS = 25;

describe('round trips', () => {
  for (const api of API_SCHEMAS) {
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      it(`${api.name} v${version} request`, () => {
        fc.assert(
          fc.property(messageArbitrary(api.request, version), fc.integer(), fc.option(fc.string({ maxLength: 5 }), { nil: null }), (body, correlationId, clientId) => {
            const frame = frameBytes(encodeRequest(api.apiKey, version, correlationId, clientId, body as never)).subarray(4);
            const decoded = decodeRequest(frame);
            expect(decoded).toMatchObject({ apiKey: api.apiKey, apiVersion: version, correlationId, clientId, body });
            expect(frameBytes(encodeRequest(api.apiKey, version, correlationId, clientId, decoded.body as never)).subarray(4)).toEqual(frame);
          }),
          { seed: SEED, numRuns: RUNS },
        );
      });
      it(`${api.name} v${version} response`, () => {
        fc.assert(
          fc.property(messageArbitrary(api.response, version), fc.integer(), (body, correlationId) => {
            const encoded = encodeResponse(api.apiKey, version, correlationId, body as never);
            expect(encoded.byteLength).toBe(encoded.chunks.reduce((sum, chunk) => sum + chunk.length, 0));
            const frame = frameBytes(encoded).subarray(4);
            const decoded = decodeResponse(api.apiKey as ApiKey, version, frame);
            expect(decoded.correlationId).toBe(correlationId);
            expect(decoded.body).toMatchObject(body);
            expect(frameBytes(encodeResponse(api.apiKey, version, correlationId, decoded.body as never)).subarray(4)).toEqual(frame);
          }),
          { seed: SEED, numRuns: RUNS },
        );
      });
    }
  }
});

describe('supported table', () => {
  it('lists every served API once and answers isSupported from it', () => {
    expect(new Set(SUPPORTED_APIS.map((api) => api.apiKey)).size).toBe(SUPPORTED_APIS.length);
    expect(SUPPORTED_APIS).toContainEqual({ apiKey: ApiKeys.Fetch, minVersion: 4, maxVersion: 12 });
    expect(isSupported(ApiKeys.Produce, 7)).toBe(true);
    expect(isSupported(ApiKeys.Produce, 8)).toBe(false);
    expect(isSupported(ApiKeys.Produce, 2)).toBe(false);
    expect(isSupported(ApiKeys.InitProducerId, 4)).toBe(true);
    expect(isSupported(24, 0)).toBe(false); // AddPartitionsToTxn: no transactions
  });

  it('apiVersionsResponse advertises the table', () => {
    const frame = frameBytes(encodeResponse(ApiKeys.ApiVersions, 3, 1, apiVersionsResponse())).subarray(4);
    expect(decodeResponse(ApiKeys.ApiVersions, 3, frame).body.apiKeys).toEqual(SUPPORTED_APIS);
  });
});
