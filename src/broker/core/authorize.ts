// Authorisation, protocol-neutral: what each operation of the core needs (Kafka's table of
// ACL checks per API, KafkaApis), asked of the broker's authoriser (security/authorizer.ts)
// with the connection's Session. Both fronts and the core call these; a denial is a
// SpoolError (TOPIC_/GROUP_/CLUSTER_AUTHORIZATION_FAILED) put in the item's answer, and
// the item is not acted on. With authorisation off every check passes at the cost of one
// branch.

import { CLUSTER_RESOURCE_NAME, Operation, ResourceType } from '../../security/acl.js';
import type { Principal } from '../../security/authorizer.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';

export { Operation, ResourceType };

export function authorizationOn(ctx: BrokerContext): boolean {
  return ctx.security.authorizer.enabled;
}

export function mayTopic(ctx: BrokerContext, who: Principal, operation: Operation, topic: string): boolean {
  return ctx.security.authorizer.authorize(who, operation, ResourceType.Topic, topic);
}

export function mayGroup(ctx: BrokerContext, who: Principal, operation: Operation, group: string): boolean {
  return ctx.security.authorizer.authorize(who, operation, ResourceType.Group, group);
}

export function mayCluster(ctx: BrokerContext, who: Principal, operation: Operation): boolean {
  return ctx.security.authorizer.authorize(who, operation, ResourceType.Cluster, CLUSTER_RESOURCE_NAME);
}

export function topicDenied(who: Principal, operation: Operation, topic: string): SpoolError {
  return new SpoolError(Errors.TOPIC_AUTHORIZATION_FAILED, `${who.principal} may not ${operation} topic '${topic}'`);
}

export function groupDenied(who: Principal, operation: Operation, group: string): SpoolError {
  return new SpoolError(Errors.GROUP_AUTHORIZATION_FAILED, `${who.principal} may not ${operation} group '${group}'`);
}

export function clusterDenied(who: Principal, operation: Operation): SpoolError {
  return new SpoolError(Errors.CLUSTER_AUTHORIZATION_FAILED, `${who.principal} may not ${operation} the cluster`);
}

/** Throws TOPIC_AUTHORIZATION_FAILED unless allowed. */
export function requireTopic(ctx: BrokerContext, who: Principal, operation: Operation, topic: string): void {
  if (!mayTopic(ctx, who, operation, topic)) throw topicDenied(who, operation, topic);
}

/** Throws GROUP_AUTHORIZATION_FAILED unless allowed. */
export function requireGroup(ctx: BrokerContext, who: Principal, operation: Operation, group: string): void {
  if (!mayGroup(ctx, who, operation, group)) throw groupDenied(who, operation, group);
}

/** Throws CLUSTER_AUTHORIZATION_FAILED unless allowed. */
export function requireCluster(ctx: BrokerContext, who: Principal, operation: Operation): void {
  if (!mayCluster(ctx, who, operation)) throw clusterDenied(who, operation);
}

/** Creating a topic (CreateTopics, auto-creation): Create on the cluster or on the topic (Kafka). */
export function mayCreateTopic(ctx: BrokerContext, who: Principal, topic: string): boolean {
  return mayCluster(ctx, who, Operation.Create) || mayTopic(ctx, who, Operation.Create, topic);
}

export function requireCreateTopic(ctx: BrokerContext, who: Principal, topic: string): void {
  if (!mayCreateTopic(ctx, who, topic)) throw topicDenied(who, Operation.Create, topic);
}

/**
 * InitProducerId without a transactional id (an idempotent producer): IdempotentWrite on
 * the cluster, or Write on any topic (Kafka since 2.8, KIP-679). With one: Write on the
 * TransactionalId (spool then refuses transactions anyway).
 */
export function requireInitProducerId(ctx: BrokerContext, who: Principal, transactionalId: string | null | undefined): void {
  const { authorizer } = ctx.security;
  if (transactionalId !== null && transactionalId !== undefined && transactionalId !== '') {
    if (!authorizer.authorize(who, Operation.Write, ResourceType.TransactionalId, transactionalId)) {
      throw new SpoolError(Errors.CLUSTER_AUTHORIZATION_FAILED, `${who.principal} may not Write transactional id '${transactionalId}'`);
    }
    return;
  }
  if (mayCluster(ctx, who, Operation.IdempotentWrite) || authorizer.authorizeAny(who, Operation.Write, ResourceType.Topic)) return;
  throw clusterDenied(who, Operation.IdempotentWrite);
}

/** Group listings (ListGroups): only the groups `who` may Describe (Kafka filters them the same way). */
export function visibleGroups<G extends { groupId: string }>(ctx: BrokerContext, who: Principal, groups: readonly G[]): G[] {
  if (!authorizationOn(ctx)) return [...groups];
  return groups.filter((group) => mayGroup(ctx, who, Operation.Describe, group.groupId));
}

/** Offsets listings (OffsetFetch of every partition): only topics `who` may Describe. */
export function visibleTopicEntries<T extends { topic: string }>(ctx: BrokerContext, who: Principal, entries: readonly T[]): T[] {
  if (!authorizationOn(ctx)) return [...entries];
  return entries.filter((entry) => mayTopic(ctx, who, Operation.Describe, entry.topic));
}

/**
 * Binds a group member id to `who` on first use and refuses it (UNKNOWN_MEMBER_ID) to any
 * other principal (core/member-owners.ts); nothing while authorisation is off.
 */
export function claimMember(ctx: BrokerContext, who: Principal, groupId: string, memberId: string): void {
  if (authorizationOn(ctx)) ctx.security.members.claim(groupId, memberId, who);
}
