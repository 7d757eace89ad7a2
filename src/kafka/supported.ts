// The (apiKey, minVersion, maxVersion) table spool serves on the Kafka wire: what ApiVersions
// advertises, and what the listener checks before decoding a body (UNSUPPORTED_VERSION
// otherwise). Derived from the generated API modules, so the two cannot disagree.

import { API_SCHEMAS, type ApiVersionsResponse } from './apis/index.js';
import { KafkaErrors } from './errors.js';

export interface SupportedApi {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export const SUPPORTED_APIS: readonly SupportedApi[] = Object.freeze(
  API_SCHEMAS.map((api) => Object.freeze({ apiKey: api.apiKey, minVersion: api.minVersion, maxVersion: api.maxVersion })),
);

/**
 * The ApiVersions answer. With UNSUPPORTED_VERSION (the client asked for a newer ApiVersions
 * than we serve) the listener encodes it as version 0, which every client can read, and the
 * client retries with the highest version it finds for key 18 (KIP-511).
 */
export function apiVersionsResponse(errorCode: number = KafkaErrors.NONE, throttleTimeMs = 0): ApiVersionsResponse {
  return {
    errorCode,
    apiKeys: SUPPORTED_APIS.map((api) => ({ apiKey: api.apiKey, minVersion: api.minVersion, maxVersion: api.maxVersion })),
    throttleTimeMs,
  };
}
