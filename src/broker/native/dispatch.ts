// Request dispatch: api key and version check, body decode, header shape check, handler.
// Every failure becomes a response: an unknown api key or version -> UNSUPPORTED_VERSION;
// malformed msgpack or a header of the wrong shape -> INVALID_REQUEST; a SpoolError out
// of a handler -> its code and message; anything else is a bug: logged, answered UNKNOWN.
// Only Produce with acks 0 answers nothing (null), even on error.

import { ApiKey, SupportedVersions, apiName } from '../../protocol/apis.js';
import { decodeBody } from '../../protocol/body.js';
import { errorFields } from '../../protocol/errors.js';
import type { RequestFrame } from '../../protocol/frame.js';
import { checkRequest, RequestLimits, type RequestTypes } from '../../protocol/validate.js';
import { Errors, SpoolError, isSpoolError } from '../../util/errors.js';
import {
  handleApiVersions,
  handleCreateTopics,
  handleDeleteTopics,
  handleDescribeTopics,
  handleListOffsets,
  handleMetadata,
  handleAlterConfigs,
  handleCreatePartitions,
  handleDeleteRecords,
  handleDescribeCluster,
} from './admin.js';
import type { BrokerContext, HandlerResponse, RequestScope } from '../context.js';
import { handleFetch } from './fetch.js';
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleFindCoordinator,
  handleHeartbeat,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetFetch,
  handleResetOffsets,
} from './groups.js';
import { handleProduce } from './produce.js';
import { handleDescribeShareGroups, handleShareAcknowledge, handleShareFetch } from './share.js';
import { handleInitProducerId } from './producer-ids.js';
import { handleOffsetForLeaderEpoch, handleReplicaFetch } from './replica.js';

type Handler<K extends ApiKey> = (
  ctx: BrokerContext,
  request: RequestTypes[K],
  payload: Buffer,
  scope: RequestScope,
) => HandlerResponse | null | Promise<HandlerResponse | null>;

const handlers: { [K in ApiKey]: Handler<K> } = {
  [ApiKey.ApiVersions]: () => handleApiVersions(),
  [ApiKey.Metadata]: (ctx, request, _payload, scope) => handleMetadata(ctx, request, scope),
  [ApiKey.CreateTopics]: (ctx, request) => handleCreateTopics(ctx, request),
  [ApiKey.DeleteTopics]: (ctx, request) => handleDeleteTopics(ctx, request),
  [ApiKey.DescribeTopics]: (ctx, request) => handleDescribeTopics(ctx, request),
  [ApiKey.Produce]: (ctx, request, payload) => handleProduce(ctx, request, payload),
  [ApiKey.Fetch]: (ctx, request, _payload, scope) => handleFetch(ctx, request, scope),
  [ApiKey.ListOffsets]: (ctx, request) => handleListOffsets(ctx, request),
  [ApiKey.ConsumerGroupHeartbeat]: (ctx, request, _payload, scope) => handleHeartbeat(ctx, request, scope.remoteAddress),
  [ApiKey.OffsetCommit]: (ctx, request) => handleOffsetCommit(ctx, request),
  [ApiKey.OffsetFetch]: (ctx, request) => handleOffsetFetch(ctx, request),
  [ApiKey.ListGroups]: (ctx, request) => handleListGroups(ctx, request),
  [ApiKey.DescribeGroups]: (ctx, request) => handleDescribeGroups(ctx, request),
  [ApiKey.DeleteGroups]: (ctx, request) => handleDeleteGroups(ctx, request),
  [ApiKey.ResetOffsets]: (ctx, request) => handleResetOffsets(ctx, request),
  [ApiKey.AlterConfigs]: (ctx, request) => handleAlterConfigs(ctx, request),
  [ApiKey.CreatePartitions]: (ctx, request) => handleCreatePartitions(ctx, request),
  [ApiKey.DeleteRecords]: (ctx, request) => handleDeleteRecords(ctx, request),
  [ApiKey.DescribeCluster]: (ctx, _request, _payload, scope) => handleDescribeCluster(ctx, scope),
  [ApiKey.ShareFetch]: (ctx, request, _payload, scope) => handleShareFetch(ctx, request, scope),
  [ApiKey.ShareAcknowledge]: (ctx, request) => handleShareAcknowledge(ctx, request),
  [ApiKey.DescribeShareGroups]: (ctx, request) => handleDescribeShareGroups(ctx, request),
  [ApiKey.InitProducerId]: (ctx, request) => handleInitProducerId(ctx, request),
  [ApiKey.ReplicaFetch]: (ctx, request, _payload, scope) => handleReplicaFetch(ctx, request, scope),
  [ApiKey.OffsetForLeaderEpoch]: (ctx, request) => handleOffsetForLeaderEpoch(ctx, request),
  [ApiKey.FindCoordinator]: (ctx, request, _payload, scope) => handleFindCoordinator(ctx, request, scope),
};

export function isKnownApiKey(apiKey: number): apiKey is ApiKey {
  return Object.hasOwn(SupportedVersions, apiKey);
}

export function errorResponse(error: unknown): HandlerResponse {
  return { header: errorFields(error) };
}

/**
 * Handles one request frame: the response, or null when none is sent. Handlers that
 * finish synchronously (most reads and appends with acks 0/1) give their response
 * synchronously, so the connection accounts its bytes before dispatching the next frame.
 */
export function dispatch(ctx: BrokerContext, frame: RequestFrame, scope: RequestScope): Outcome {
  const { apiKey, apiVersion } = frame;
  if (!isKnownApiKey(apiKey)) {
    return errorResponse(new SpoolError(Errors.UNSUPPORTED_VERSION, `api key ${apiKey} is not supported`));
  }
  const [minVersion, maxVersion] = SupportedVersions[apiKey];
  if (apiVersion < minVersion || apiVersion > maxVersion) {
    return errorResponse(
      new SpoolError(Errors.UNSUPPORTED_VERSION, `${apiName(apiKey)} version ${apiVersion} is not supported (${minVersion}..${maxVersion})`),
    );
  }
  let acksZero = false;
  const fail = (error: unknown): HandlerResponse | null => {
    if (!isSpoolError(error)) {
      ctx.logger.error(`${apiName(apiKey)} request failed with a bug`, error, { listener: 'native', api: apiName(apiKey), remote: scope.remote, correlationId: frame.correlationId });
    }
    return acksZero ? null : errorResponse(error);
  };
  try {
    const { header, payload } = decodeBody(frame.body, RequestLimits.maxHeaderBytes);
    acksZero = apiKey === ApiKey.Produce && header['acks'] === 0;
    const request = checkRequest(apiKey, header);
    const handler = handlers[apiKey] as Handler<typeof apiKey>;
    const outcome = handler(ctx, request as never, payload, scope);
    return outcome instanceof Promise ? outcome.catch(fail) : outcome;
  } catch (error) {
    return fail(error);
  }
}

export type Outcome = HandlerResponse | null | Promise<HandlerResponse | null>;
