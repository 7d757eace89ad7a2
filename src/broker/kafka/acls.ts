// Kafka DescribeAcls (29), CreateAcls (30), DeleteAcls (31), DescribeClientQuotas (48) and
// AlterClientQuotas (49) over the broker's SecurityStore, with Kafka's numeric enums
// (org.apache.kafka.common.acl / resource) mapped to spool's names. Kafka's MATCH pattern
// filter is answered like ANY (every pattern of the name's resources; spool's filters
// compare fields exactly). Quota entities are `user` and `client-id` with a name; Kafka's
// default entities (null name) are not served (INVALID_REQUEST).
// Cluster permissions as Kafka: Describe (29), Alter (30, 31), DescribeConfigs (48),
// AlterConfigs (49).

import {
  KafkaErrors,
  kafkaErrorOf,
  type AlterClientQuotasRequest,
  type AlterClientQuotasResponse,
  type CreateAclsRequest,
  type CreateAclsResponse,
  type DeleteAclsRequest,
  type DeleteAclsResponse,
  type DescribeAclsRequest,
  type DescribeAclsResponse,
  type DescribeClientQuotasRequest,
  type DescribeClientQuotasResponse,
} from '../../kafka/index.js';
import { Operation, PatternType, Permission, ResourceType, type AclBinding, type AclFilter } from '../../security/acl.js';
import { QuotaKind, type QuotaEntity } from '../../security/quota.js';
import { Errors, SpoolError } from '../../util/errors.js';
import type { BrokerContext } from '../context.js';
import { clusterDenied, mayCluster } from '../core/authorize.js';
import { answer, type KafkaAnswer, type KafkaScope } from './answer.js';

const ANY = 1;
const RESOURCE_TYPES: ReadonlyMap<number, ResourceType> = new Map([
  [2, ResourceType.Topic],
  [3, ResourceType.Group],
  [4, ResourceType.Cluster],
  [5, ResourceType.TransactionalId],
]);
const PATTERN_TYPES: ReadonlyMap<number, PatternType> = new Map([
  [3, PatternType.Literal],
  [4, PatternType.Prefixed],
]);
/** Kafka's MATCH pattern filter. */
const PATTERN_MATCH = 2;
const OPERATIONS: ReadonlyMap<number, Operation> = new Map([
  [2, Operation.All],
  [3, Operation.Read],
  [4, Operation.Write],
  [5, Operation.Create],
  [6, Operation.Delete],
  [7, Operation.Alter],
  [8, Operation.Describe],
  [10, Operation.DescribeConfigs],
  [11, Operation.AlterConfigs],
  [12, Operation.IdempotentWrite],
]);
const PERMISSIONS: ReadonlyMap<number, Permission> = new Map([
  [2, Permission.Deny],
  [3, Permission.Allow],
]);

function codeOf<T>(map: ReadonlyMap<number, T>, value: T): number {
  for (const [code, name] of map) if (name === value) return code;
  return 0;
}

function invalid(what: string, code: number): SpoolError {
  return new SpoolError(Errors.INVALID_REQUEST, `${what} ${code} is not served`);
}

/** A filter field: ANY (or MATCH for patterns) is null; otherwise the name, or INVALID_REQUEST. */
function filterField<T>(map: ReadonlyMap<number, T>, code: number, what: string, anyCodes: readonly number[] = [ANY]): T | null {
  if (anyCodes.includes(code)) return null;
  const value = map.get(code);
  if (value === undefined) throw invalid(what, code);
  return value;
}

function toFilter(entry: { resourceTypeFilter: number; resourceNameFilter: string | null; patternTypeFilter: number; principalFilter: string | null; hostFilter: string | null; operation: number; permissionType: number }): AclFilter {
  return {
    resourceType: filterField(RESOURCE_TYPES, entry.resourceTypeFilter, 'resource type'),
    resourceName: entry.resourceNameFilter,
    patternType: filterField(PATTERN_TYPES, entry.patternTypeFilter, 'pattern type', [ANY, PATTERN_MATCH]),
    principal: entry.principalFilter,
    host: entry.hostFilter,
    operation: filterField(OPERATIONS, entry.operation, 'operation'),
    permission: filterField(PERMISSIONS, entry.permissionType, 'permission type'),
  };
}

function required<T>(map: ReadonlyMap<number, T>, code: number, what: string): T {
  const value = map.get(code);
  if (value === undefined) throw invalid(what, code);
  return value;
}

function wireAcl(binding: AclBinding): { principal: string; host: string; operation: number; permissionType: number } {
  return { principal: binding.principal, host: binding.host, operation: codeOf(OPERATIONS, binding.operation), permissionType: codeOf(PERMISSIONS, binding.permission) };
}

export function handleDescribeAcls(ctx: BrokerContext, request: DescribeAclsRequest, scope: KafkaScope): KafkaAnswer {
  const base = { throttleTimeMs: 0, resources: [] };
  if (!mayCluster(ctx, scope.session, Operation.Describe)) {
    return answer({ ...base, ...kafkaErrorOf(clusterDenied(scope.session, Operation.Describe)) } satisfies DescribeAclsResponse);
  }
  let bindings: AclBinding[];
  try {
    bindings = ctx.security.describeAcls(toFilter(request));
  } catch (error) {
    return answer({ ...base, ...kafkaErrorOf(error) } satisfies DescribeAclsResponse);
  }
  // Kafka groups the bindings by resource pattern.
  const byResource = new Map<string, DescribeAclsResponse['resources'][number]>();
  for (const binding of bindings) {
    const key = `${binding.resourceType}\u0000${binding.patternType}\u0000${binding.resourceName}`;
    let resource = byResource.get(key);
    if (!resource) {
      resource = { resourceType: codeOf(RESOURCE_TYPES, binding.resourceType), resourceName: binding.resourceName, patternType: codeOf(PATTERN_TYPES, binding.patternType), acls: [] };
      byResource.set(key, resource);
    }
    resource.acls.push(wireAcl(binding));
  }
  return answer({ throttleTimeMs: 0, errorCode: KafkaErrors.NONE, errorMessage: null, resources: [...byResource.values()] } satisfies DescribeAclsResponse);
}

export async function handleCreateAcls(ctx: BrokerContext, request: CreateAclsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  if (!mayCluster(ctx, scope.session, Operation.Alter)) {
    const denied = kafkaErrorOf(clusterDenied(scope.session, Operation.Alter));
    return answer({ throttleTimeMs: 0, results: request.creations.map(() => denied) } satisfies CreateAclsResponse);
  }
  // Decode every creation first; the valid ones are stored together (one file write).
  const decoded = request.creations.map((creation): AclBinding | SpoolError => {
    try {
      return {
        resourceType: required(RESOURCE_TYPES, creation.resourceType, 'resource type'),
        resourceName: creation.resourceName,
        patternType: required(PATTERN_TYPES, creation.resourcePatternType, 'pattern type'),
        principal: creation.principal,
        host: creation.host,
        operation: required(OPERATIONS, creation.operation, 'operation'),
        permission: required(PERMISSIONS, creation.permissionType, 'permission type'),
      };
    } catch (error) {
      return error as SpoolError;
    }
  });
  const valid = decoded.filter((entry): entry is AclBinding => !(entry instanceof SpoolError));
  let stored: Array<SpoolError | null>;
  try {
    stored = await ctx.securityWrites.createAcls(valid);
  } catch (error) {
    const failed = kafkaErrorOf(error);
    return answer({ throttleTimeMs: 0, results: request.creations.map(() => failed) } satisfies CreateAclsResponse);
  }
  let next = 0;
  const results = decoded.map((entry) => {
    const error = entry instanceof SpoolError ? entry : stored[next++]!;
    return error === null ? { errorCode: KafkaErrors.NONE, errorMessage: null } : kafkaErrorOf(error);
  });
  return answer({ throttleTimeMs: 0, results } satisfies CreateAclsResponse);
}

export async function handleDeleteAcls(ctx: BrokerContext, request: DeleteAclsRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const empty = { matchingAcls: [] };
  if (!mayCluster(ctx, scope.session, Operation.Alter)) {
    const denied = kafkaErrorOf(clusterDenied(scope.session, Operation.Alter));
    return answer({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ ...denied, ...empty })) } satisfies DeleteAclsResponse);
  }
  const filters = request.filters.map((filter): AclFilter | SpoolError => {
    try {
      return toFilter(filter);
    } catch (error) {
      return error as SpoolError;
    }
  });
  let removed: AclBinding[][];
  try {
    removed = await ctx.securityWrites.deleteAcls(filters.filter((entry): entry is AclFilter => !(entry instanceof SpoolError)));
  } catch (error) {
    const failed = kafkaErrorOf(error);
    return answer({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ ...failed, ...empty })) } satisfies DeleteAclsResponse);
  }
  let next = 0;
  const filterResults = filters.map((entry) => {
    if (entry instanceof SpoolError) return { ...kafkaErrorOf(entry), ...empty };
    const matchingAcls = removed[next++]!.map((binding) => ({
      errorCode: KafkaErrors.NONE,
      errorMessage: null,
      resourceType: codeOf(RESOURCE_TYPES, binding.resourceType),
      resourceName: binding.resourceName,
      patternType: codeOf(PATTERN_TYPES, binding.patternType),
      ...wireAcl(binding),
    }));
    return { errorCode: KafkaErrors.NONE, errorMessage: null, matchingAcls };
  });
  return answer({ throttleTimeMs: 0, filterResults } satisfies DeleteAclsResponse);
}

const ENTITY_USER = 'user';
const ENTITY_CLIENT_ID = 'client-id';
const MATCH_EXACT = 0;
const MATCH_ANY = 2;

export function handleDescribeClientQuotas(ctx: BrokerContext, request: DescribeClientQuotasRequest, scope: KafkaScope): KafkaAnswer {
  if (!mayCluster(ctx, scope.session, Operation.DescribeConfigs)) {
    return answer({ throttleTimeMs: 0, ...kafkaErrorOf(clusterDenied(scope.session, Operation.DescribeConfigs)), entries: null } satisfies DescribeClientQuotasResponse);
  }
  const fieldOf = (entity: QuotaEntity, type: string): string | null | undefined => (type === ENTITY_USER ? entity.user : type === ENTITY_CLIENT_ID ? entity.clientId : undefined);
  for (const component of request.components) {
    if (fieldOf({ user: null, clientId: null }, component.entityType) === undefined || (component.matchType !== MATCH_EXACT && component.matchType !== MATCH_ANY)) {
      const error = new SpoolError(Errors.INVALID_REQUEST, `quota filter ${component.entityType} match type ${component.matchType} is not served (user, client-id; exact or any)`);
      return answer({ throttleTimeMs: 0, ...kafkaErrorOf(error), entries: null } satisfies DescribeClientQuotasResponse);
    }
  }
  const entries = ctx.security
    .listQuotas()
    .filter(({ entity }) => {
      for (const component of request.components) {
        const value = fieldOf(entity, component.entityType);
        if (value === null || value === undefined) return false;
        if (component.matchType === MATCH_EXACT && value !== component.match) return false;
      }
      // strict: the entity has no component the filter does not name.
      if (request.strict) {
        const named = new Set(request.components.map((component) => component.entityType));
        if ((entity.user !== null && !named.has(ENTITY_USER)) || (entity.clientId !== null && !named.has(ENTITY_CLIENT_ID))) return false;
      }
      return true;
    })
    .map(({ entity, rates }) => ({
      entity: [
        ...(entity.user !== null ? [{ entityType: ENTITY_USER, entityName: entity.user }] : []),
        ...(entity.clientId !== null ? [{ entityType: ENTITY_CLIENT_ID, entityName: entity.clientId }] : []),
      ],
      values: Object.entries(rates).map(([key, value]) => ({ key, value })),
    }));
  return answer({ throttleTimeMs: 0, errorCode: KafkaErrors.NONE, errorMessage: null, entries } satisfies DescribeClientQuotasResponse);
}

export async function handleAlterClientQuotas(ctx: BrokerContext, request: AlterClientQuotasRequest, scope: KafkaScope): Promise<KafkaAnswer> {
  const allowed = mayCluster(ctx, scope.session, Operation.AlterConfigs);
  // Every entry checked on its own, the accepted ones written in one go (security-store.ts alterQuotas).
  const parsed = request.entries.map((entry) => parseQuotaEntry(scope, allowed, entry));
  const valid = parsed.flatMap((entry) => (entry instanceof SpoolError ? [] : [entry]));
  const written = request.validateOnly || valid.length === 0 ? valid.map(() => null) : await ctx.securityWrites.alterQuotas(valid);
  let next = 0;
  const entries = request.entries.map((entry, index) => {
    const failure = parsed[index] instanceof SpoolError ? parsed[index] : written[next++];
    return failure ? { entity: entry.entity, ...kafkaErrorOf(failure) } : { entity: entry.entity, errorCode: KafkaErrors.NONE, errorMessage: null };
  });
  return answer({ throttleTimeMs: 0, entries } satisfies AlterClientQuotasResponse);
}

function parseQuotaEntry(scope: KafkaScope, allowed: boolean, entry: AlterClientQuotasRequest['entries'][number]): { entity: QuotaEntity; rates: Partial<Record<QuotaKind, number | null>> } | SpoolError {
  if (!allowed) return clusterDenied(scope.session, Operation.AlterConfigs);
  const entity: QuotaEntity = { user: null, clientId: null };
  for (const part of entry.entity) {
    if (part.entityName === null) return new SpoolError(Errors.INVALID_REQUEST, 'default quota entities are not served: name a user or a client id');
    if (part.entityType === ENTITY_USER) entity.user = part.entityName;
    else if (part.entityType === ENTITY_CLIENT_ID) entity.clientId = part.entityName;
    else return new SpoolError(Errors.INVALID_REQUEST, `quota entity type '${part.entityType}' is not served (user, client-id)`);
  }
  const rates: Partial<Record<QuotaKind, number | null>> = {};
  for (const op of entry.ops) {
    if (op.key !== QuotaKind.Produce && op.key !== QuotaKind.Fetch) return new SpoolError(Errors.INVALID_REQUEST, `quota '${op.key}' is not served (producer_byte_rate, consumer_byte_rate)`);
    rates[op.key] = op.remove ? null : Math.floor(op.value);
  }
  return { entity, rates };
}
