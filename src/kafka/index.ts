// The Kafka wire codec: headers, one module per API (apis/), error codes. Pure: no sockets,
// no files. See README.md.

export * from './apis/index.js';
export { ZERO_UUID } from './codec.js';
export { KafkaDecodeError } from './decode-error.js';
export { KafkaErrors, type KafkaErrorCode, type KafkaErrorName, kafkaCodeOf, kafkaErrorName, kafkaErrorOf } from './errors.js';
export {
  apiSchemas,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  type EncodedFrame,
  encodeRequest,
  encodeResponse,
  frameBytes,
  isSupported,
  KafkaUnsupportedVersionError,
  type KafkaRequest,
  type RequestHeader,
  type RequestInput,
} from './frame.js';
export { findCoordinatorKeys, metadataWantsAllTopics, offsetFetchGroups } from './semantics.js';
export { apiVersionsResponse, type SupportedApi, SUPPORTED_APIS } from './supported.js';
