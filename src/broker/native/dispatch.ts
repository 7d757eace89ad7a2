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
import { authorizeNative } from './authorize.js';
import { setClientId } from '../core/quotas.js';
import { handleAlterClientQuotas, handleCreateAcls, handleDeleteAcls, handleDescribeAcls, handleDescribeClientQuotas } from './acls.js';
import { handleAlterUserScramCredentials, handleDescribeUserScramCredentials, handleSaslAuthenticate, handleSaslHandshake } from './security.js';
import { authenticationRefusal } from '../authentication.js';
import { handleOffsetForLeaderEpoch, handleReplicaFetch } from './replica.js';
import { handleAppendDeadLetters, handleConfigureShareGroup, handleReadShareGroupState, handleResetShareGroupState, handleWriteShareGroupState } from './share-state.js';

type Handler<K extends ApiKey> = (
  ctx: BrokerContext,
  request: RequestTypes[K],
  payload: Buffer,
  scope: RequestScope,
) => HandlerResponse | null | Promise<HandlerResponse | null>;

const handlers: { [K in ApiKey]: Handler<K> } = {
  [ApiKey.ApiVersions]: (_ctx, request, _payload, scope) => {
    if (request.clientId !== undefined) setClientId(scope.session, request.clientId);
    return handleApiVersions();
  },
  [ApiKey.Metadata]: (ctx, request, _payload, scope) => handleMetadata(ctx, request, scope),
  [ApiKey.CreateTopics]: (ctx, request, _payload, scope) => handleCreateTopics(ctx, request, scope),
  [ApiKey.DeleteTopics]: (ctx, request, _payload, scope) => handleDeleteTopics(ctx, request, scope),
  [ApiKey.DescribeTopics]: (ctx, request, _payload, scope) => handleDescribeTopics(ctx, request, scope),
  [ApiKey.Produce]: (ctx, request, payload, scope) => handleProduce(ctx, request, payload, scope),
  [ApiKey.Fetch]: (ctx, request, _payload, scope) => handleFetch(ctx, request, scope),
  [ApiKey.ListOffsets]: (ctx, request, _payload, scope) => handleListOffsets(ctx, request, scope),
  [ApiKey.ConsumerGroupHeartbeat]: (ctx, request, _payload, scope) => handleHeartbeat(ctx, request, scope.remoteAddress, scope.session),
  [ApiKey.OffsetCommit]: (ctx, request) => handleOffsetCommit(ctx, request),
  [ApiKey.OffsetFetch]: (ctx, request, _payload, scope) => handleOffsetFetch(ctx, request, scope),
  [ApiKey.ListGroups]: (ctx, request, _payload, scope) => handleListGroups(ctx, request, scope),
  [ApiKey.DescribeGroups]: (ctx, request) => handleDescribeGroups(ctx, request),
  [ApiKey.DeleteGroups]: (ctx, request) => handleDeleteGroups(ctx, request),
  [ApiKey.ResetOffsets]: (ctx, request) => handleResetOffsets(ctx, request),
  [ApiKey.AlterConfigs]: (ctx, request, _payload, scope) => handleAlterConfigs(ctx, request, scope),
  [ApiKey.CreatePartitions]: (ctx, request, _payload, scope) => handleCreatePartitions(ctx, request, scope),
  [ApiKey.DeleteRecords]: (ctx, request, _payload, scope) => handleDeleteRecords(ctx, request, scope),
  [ApiKey.DescribeCluster]: (ctx, _request, _payload, scope) => handleDescribeCluster(ctx, scope),
  [ApiKey.ShareFetch]: (ctx, request, _payload, scope) => handleShareFetch(ctx, request, scope),
  [ApiKey.ShareAcknowledge]: (ctx, request) => handleShareAcknowledge(ctx, request),
  [ApiKey.DescribeShareGroups]: (ctx, request) => handleDescribeShareGroups(ctx, request),
  [ApiKey.InitProducerId]: (ctx, request, _payload, scope) => handleInitProducerId(ctx, request, scope),
  [ApiKey.DescribeAcls]: (ctx, request) => handleDescribeAcls(ctx, request),
  [ApiKey.CreateAcls]: (ctx, request) => handleCreateAcls(ctx, request),
  [ApiKey.DeleteAcls]: (ctx, request) => handleDeleteAcls(ctx, request),
  [ApiKey.DescribeClientQuotas]: (ctx) => handleDescribeClientQuotas(ctx),
  [ApiKey.AlterClientQuotas]: (ctx, request) => handleAlterClientQuotas(ctx, request),
  [ApiKey.SaslHandshake]: (ctx, request, _payload, scope) => handleSaslHandshake(ctx, request, scope),
  [ApiKey.SaslAuthenticate]: (ctx, request, _payload, scope) => handleSaslAuthenticate(ctx, request, scope),
  [ApiKey.DescribeUserScramCredentials]: (ctx, request) => handleDescribeUserScramCredentials(ctx, request),
  [ApiKey.AlterUserScramCredentials]: (ctx, request) => handleAlterUserScramCredentials(ctx, request),
  [ApiKey.ReplicaFetch]: (ctx, request, _payload, scope) => handleReplicaFetch(ctx, request, scope),
  [ApiKey.OffsetForLeaderEpoch]: (ctx, request) => handleOffsetForLeaderEpoch(ctx, request),
  [ApiKey.ReadShareGroupState]: (ctx, request) => handleReadShareGroupState(ctx, request),
  [ApiKey.WriteShareGroupState]: (ctx, request) => handleWriteShareGroupState(ctx, request),
  [ApiKey.ConfigureShareGroup]: (ctx, request) => handleConfigureShareGroup(ctx, request),
  [ApiKey.ResetShareGroupState]: (ctx, request) => handleResetShareGroupState(ctx, request),
  [ApiKey.AppendDeadLetters]: (ctx, request, payload) => handleAppendDeadLetters(ctx, request, payload),
  [ApiKey.FindCoordinator]: (ctx, request, _payload, scope) => handleFindCoordinator(ctx, request, scope),
};

/** What a connection may call before it has authenticated (with SASL on). */
const PRE_AUTHENTICATION: ReadonlySet<number> = new Set([ApiKey.ApiVersions, ApiKey.SaslHandshake, ApiKey.SaslAuthenticate]);

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
  const refusal = authenticationRefusal(ctx, scope.session, apiName(apiKey), PRE_AUTHENTICATION.has(apiKey), 'native');
  if (refusal !== null) return { ...errorResponse(refusal), close: true };
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
    authorizeNative(ctx, apiKey, request, scope.session);
    const handler = handlers[apiKey] as Handler<typeof apiKey>;
    const outcome = handler(ctx, request as never, payload, scope);
    return outcome instanceof Promise ? outcome.catch(fail) : outcome;
  } catch (error) {
    return fail(error);
  }
}

export type Outcome = HandlerResponse | null | Promise<HandlerResponse | null>;
