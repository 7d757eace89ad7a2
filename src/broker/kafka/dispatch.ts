// Kafka request dispatch: decode the body for its api key and version (src/kafka), run the
// API's handler over the broker core, and answer in the request's own schema. Every
// handler answers per item (a topic, a partition, a group) and does not throw for an
// operating error; what escapes is a bug (logged) or a request-level SpoolError, answered
// with the bare error frame and a closed connection, since a generic error body does not
// exist in Kafka's schemas.

import {
  ApiKeys,
  apiVersionsResponse,
  decodeRequest,
  KafkaDecodeError,
  KafkaErrors,
  kafkaErrorOf,
  KafkaUnsupportedVersionError,
  type KafkaRequest,
  type RequestHeader,
} from '../../kafka/index.js';
import { isSpoolError } from '../../util/errors.js';
import { quoted } from '../../util/log-text.js';
import type { BrokerContext, RequestScope } from '../context.js';
import type { KafkaAnswer, KafkaScope } from './answer.js';
import type { Outcome } from '../front.js';
import { handleFetch } from './fetch.js';
import { handleDescribeGroups, handleHeartbeat, handleJoinGroup, handleLeaveGroup, handleListGroups, handleOffsetCommit, handleOffsetFetch, handleSyncGroup } from './groups.js';
import { handleApiVersions, handleFindCoordinator, handleMetadata } from './metadata.js';
import { handleListOffsets } from './offsets.js';
import { handleProduce } from './produce.js';
import { handleInitProducerId } from './producer-ids.js';
import { clusterDenied, mayCluster, Operation } from '../core/authorize.js';
import { answer } from './answer.js';
import type { AlterUserScramCredentialsResponse, DescribeUserScramCredentialsResponse } from '../../kafka/index.js';
import { handleAlterClientQuotas, handleCreateAcls, handleDeleteAcls, handleDescribeAcls, handleDescribeClientQuotas } from './acls.js';
import { handleAlterUserScramCredentials, handleDescribeUserScramCredentials, handleSaslAuthenticate, handleSaslHandshake } from './security.js';
import { authenticationRefusal } from '../authentication.js';
import { handleCreatePartitions, handleCreateTopics, handleDeleteTopics, handleDescribeConfigs } from './topics.js';

/** What a connection may call before it has authenticated (with SASL on). */
const PRE_AUTHENTICATION: ReadonlySet<number> = new Set([ApiKeys.ApiVersions, ApiKeys.SaslHandshake, ApiKeys.SaslAuthenticate]);

export function dispatchKafka(ctx: BrokerContext, raw: Buffer, header: RequestHeader, scope: RequestScope): Outcome<KafkaAnswer> {
  // Before decoding: an unauthenticated client's bytes are not parsed beyond the header.
  const refusal = authenticationRefusal(ctx, scope.session, `api key ${header.apiKey}`, PRE_AUTHENTICATION.has(header.apiKey), 'kafka');
  if (refusal !== null) {
    // An expired session (KIP-368) is closed without an answer, as Kafka's broker does: a client
    // reads no half-understood frame, only the disconnect, and connects again.
    if (scope.session.mechanism !== null) return { kind: 'close', payloadBytes: 0, reason: refusal.message };
    return { kind: 'bare-error', errorCode: KafkaErrors.SASL_AUTHENTICATION_FAILED, payloadBytes: 0, close: true, reason: refusal.message };
  }
  let request: KafkaRequest;
  try {
    request = decodeRequest(raw);
  } catch (error) {
    if (error instanceof KafkaUnsupportedVersionError) {
      // KIP-511: a client newer than us learns our versions from a v0 answer.
      if (header.apiKey === ApiKeys.ApiVersions) return { kind: 'body', body: apiVersionsResponse(KafkaErrors.UNSUPPORTED_VERSION), apiVersion: 0, payloadBytes: 0 };
      ctx.logger.warn(`kafka: api key ${header.apiKey} version ${header.apiVersion} is not served; closing the connection (client ${quoted(header.clientId ?? '')})`);
      return { kind: 'bare-error', errorCode: KafkaErrors.UNSUPPORTED_VERSION, payloadBytes: 0, close: true };
    }
    if (error instanceof KafkaDecodeError) {
      ctx.logger.warn(`kafka: malformed api key ${header.apiKey} v${header.apiVersion} request: ${error.message}; closing the connection`);
      return { kind: 'bare-error', errorCode: KafkaErrors.INVALID_REQUEST, payloadBytes: 0, close: true };
    }
    throw error;
  }
  const kafkaScope: KafkaScope = { ...scope, apiVersion: header.apiVersion, clientId: header.clientId ?? '' };
  const fail = (error: unknown): KafkaAnswer => {
    if (!isSpoolError(error)) ctx.logger.error(`kafka: api key ${header.apiKey} request failed with a bug`, error);
    return { kind: 'bare-error', errorCode: kafkaErrorOf(error).errorCode, payloadBytes: 0, close: true };
  };
  try {
    const outcome = route(ctx, request, kafkaScope);
    return outcome instanceof Promise ? outcome.catch(fail) : outcome;
  } catch (error) {
    return fail(error);
  }
}

function route(ctx: BrokerContext, request: KafkaRequest, scope: KafkaScope): Outcome<KafkaAnswer> {
  switch (request.apiKey) {
    case ApiKeys.ApiVersions:
      return handleApiVersions();
    case ApiKeys.Metadata:
      return handleMetadata(ctx, request.body, scope);
    case ApiKeys.Produce:
      return handleProduce(ctx, request.body, scope);
    case ApiKeys.Fetch:
      return handleFetch(ctx, request.body, scope);
    case ApiKeys.ListOffsets:
      return handleListOffsets(ctx, request.body, scope);
    case ApiKeys.FindCoordinator:
      return handleFindCoordinator(ctx, request.body, scope);
    case ApiKeys.JoinGroup:
      return handleJoinGroup(ctx, request.body, scope);
    case ApiKeys.SyncGroup:
      return handleSyncGroup(ctx, request.body, scope);
    case ApiKeys.Heartbeat:
      return handleHeartbeat(ctx, request.body, scope);
    case ApiKeys.LeaveGroup:
      return handleLeaveGroup(ctx, request.body, scope);
    case ApiKeys.OffsetCommit:
      return handleOffsetCommit(ctx, request.body, scope);
    case ApiKeys.OffsetFetch:
      return handleOffsetFetch(ctx, request.body, scope);
    case ApiKeys.ListGroups:
      return handleListGroups(ctx, request.body, scope);
    case ApiKeys.DescribeGroups:
      return handleDescribeGroups(ctx, request.body, scope);
    case ApiKeys.CreateTopics:
      return handleCreateTopics(ctx, request.body, scope);
    case ApiKeys.DeleteTopics:
      return handleDeleteTopics(ctx, request.body, scope);
    case ApiKeys.DescribeConfigs:
      return handleDescribeConfigs(ctx, request.body, scope);
    case ApiKeys.CreatePartitions:
      return handleCreatePartitions(ctx, request.body, scope);
    case ApiKeys.InitProducerId:
      return handleInitProducerId(ctx, request.body, scope);
    case ApiKeys.DescribeAcls:
      return handleDescribeAcls(ctx, request.body, scope);
    case ApiKeys.CreateAcls:
      return handleCreateAcls(ctx, request.body, scope);
    case ApiKeys.DeleteAcls:
      return handleDeleteAcls(ctx, request.body, scope);
    case ApiKeys.DescribeClientQuotas:
      return handleDescribeClientQuotas(ctx, request.body, scope);
    case ApiKeys.AlterClientQuotas:
      return handleAlterClientQuotas(ctx, request.body, scope);
    case ApiKeys.SaslHandshake:
      return handleSaslHandshake(ctx, request.body, scope);
    case ApiKeys.SaslAuthenticate:
      return handleSaslAuthenticate(ctx, request.body, scope);
    case ApiKeys.DescribeUserScramCredentials:
      // Kafka: Describe on the cluster; the whole answer is refused.
      if (!mayCluster(ctx, scope.session, Operation.Describe)) {
        return answer({ throttleTimeMs: 0, ...kafkaErrorOf(clusterDenied(scope.session, Operation.Describe)), results: [] } satisfies DescribeUserScramCredentialsResponse);
      }
      return handleDescribeUserScramCredentials(ctx, request.body);
    case ApiKeys.AlterUserScramCredentials:
      // Kafka: Alter on the cluster; every user named is refused, nothing changes.
      if (!mayCluster(ctx, scope.session, Operation.Alter)) {
        const denied = kafkaErrorOf(clusterDenied(scope.session, Operation.Alter));
        const users = [...request.body.deletions, ...request.body.upsertions].map((entry) => ({ user: entry.name, ...denied }));
        return answer({ throttleTimeMs: 0, results: users } satisfies AlterUserScramCredentialsResponse);
      }
      return handleAlterUserScramCredentials(ctx, request.body);
  }
  const never: never = request;
  return never;
}
