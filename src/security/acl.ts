// Access control lists in Kafka's model (KIP-11, KIP-290): a binding says that a principal
// (`User:alice`, or `User:*` for everyone) from a host (an address, or `*`) is allowed or
// denied an operation on a resource (Topic, Group, Cluster, TransactionalId) named
// literally (`orders`; the literal `*` matches every name) or by prefix (`orders.`).
//
// The rules, as Kafka's StandardAuthorizer has them:
// - a deny binding that matches wins over every allow;
// - a deny matches only its own operation (or All): denying Read does not deny Describe;
// - an allow of Read, Write, Delete or Alter also allows Describe, and an allow of
//   AlterConfigs also allows DescribeConfigs; an allow of All allows everything;
// - when nothing allows, the answer is deny (allow.everyone.if.no.acl.found=false).
// Super users and a disabled authoriser are the caller's business (authorizer.ts).

export const ResourceType = {
  Topic: 'Topic',
  Group: 'Group',
  Cluster: 'Cluster',
  TransactionalId: 'TransactionalId',
} as const;
export type ResourceType = (typeof ResourceType)[keyof typeof ResourceType];

/** The one Cluster resource's name (Kafka's). */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';

export const Operation = {
  All: 'All',
  Read: 'Read',
  Write: 'Write',
  Create: 'Create',
  Delete: 'Delete',
  Alter: 'Alter',
  Describe: 'Describe',
  DescribeConfigs: 'DescribeConfigs',
  AlterConfigs: 'AlterConfigs',
  IdempotentWrite: 'IdempotentWrite',
} as const;
export type Operation = (typeof Operation)[keyof typeof Operation];

export const PatternType = { Literal: 'literal', Prefixed: 'prefixed' } as const;
export type PatternType = (typeof PatternType)[keyof typeof PatternType];

export const Permission = { Allow: 'allow', Deny: 'deny' } as const;
export type Permission = (typeof Permission)[keyof typeof Permission];

export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';
/** A literal resource name that matches every name of its type. */
export const WILDCARD_RESOURCE = '*';

export interface AclBinding {
  principal: string;
  host: string;
  resourceType: ResourceType;
  resourceName: string;
  patternType: PatternType;
  operation: Operation;
  permission: Permission;
}

/** A filter over bindings (DescribeAcls, DeleteAcls): a null field matches any value, exactly otherwise. */
export interface AclFilter {
  principal: string | null;
  host: string | null;
  resourceType: ResourceType | null;
  resourceName: string | null;
  patternType: PatternType | null;
  operation: Operation | null;
  permission: Permission | null;
}

/** Operations whose allow also allows `operation` (besides itself and All). */
const IMPLIED_BY: Readonly<Partial<Record<Operation, readonly Operation[]>>> = {
  [Operation.Describe]: [Operation.Read, Operation.Write, Operation.Delete, Operation.Alter],
  [Operation.DescribeConfigs]: [Operation.AlterConfigs],
};

/** The allow operations that grant each operation, computed once (a check allocates nothing for them). */
const GRANTING: ReadonlyMap<Operation, readonly Operation[]> = new Map(
  Object.values(Operation).map((operation) => [operation, [operation, Operation.All, ...(IMPLIED_BY[operation] ?? [])]]),
);

/** The allow operations that grant `operation`. */
export function grantingOperations(operation: Operation): readonly Operation[] {
  return GRANTING.get(operation)!;
}

/** A binding's identity: two bindings with the same key are the same ACL. */
export function aclKey(binding: AclBinding): string {
  return [binding.principal, binding.host, binding.resourceType, binding.patternType, binding.resourceName, binding.operation, binding.permission].join('\u0000');
}

export function matchesFilter(binding: AclBinding, filter: AclFilter): boolean {
  return (
    (filter.principal === null || filter.principal === binding.principal) &&
    (filter.host === null || filter.host === binding.host) &&
    (filter.resourceType === null || filter.resourceType === binding.resourceType) &&
    (filter.resourceName === null || filter.resourceName === binding.resourceName) &&
    (filter.patternType === null || filter.patternType === binding.patternType) &&
    (filter.operation === null || filter.operation === binding.operation) &&
    (filter.permission === null || filter.permission === binding.permission)
  );
}

const RESOURCE_TYPES = new Set<string>(Object.values(ResourceType));
const OPERATIONS = new Set<string>(Object.values(Operation));
const PATTERN_TYPES = new Set<string>(Object.values(PatternType));
const PERMISSIONS = new Set<string>(Object.values(Permission));

export function isResourceType(value: unknown): value is ResourceType {
  return typeof value === 'string' && RESOURCE_TYPES.has(value);
}
export function isOperation(value: unknown): value is Operation {
  return typeof value === 'string' && OPERATIONS.has(value);
}
export function isPatternType(value: unknown): value is PatternType {
  return typeof value === 'string' && PATTERN_TYPES.has(value);
}
export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && PERMISSIONS.has(value);
}

/** Why a binding cannot be stored, or null: a principal of the form Type:name, non-empty names, Cluster named kafka-cluster. */
export function invalidBinding(binding: AclBinding): string | null {
  if (!/^[A-Za-z]+:.+$/.test(binding.principal)) return `principal must be Type:name (User:alice, User:*), got '${binding.principal}'`;
  if (binding.host.length === 0) return 'host must be an address or *';
  if (binding.resourceName.length === 0) return 'resource name must not be empty';
  if (binding.resourceType === ResourceType.Cluster && binding.resourceName !== CLUSTER_RESOURCE_NAME) {
    return `the Cluster resource is named '${CLUSTER_RESOURCE_NAME}', got '${binding.resourceName}'`;
  }
  if (binding.patternType === PatternType.Prefixed && binding.resourceName === WILDCARD_RESOURCE) {
    return "a prefixed pattern of '*' is not a wildcard; use a literal '*'";
  }
  return null;
}

/** Bindings of one resource type, indexed by literal name and by prefix. */
class ResourceIndex {
  readonly literal = new Map<string, AclBinding[]>();
  readonly prefixed = new Map<string, AclBinding[]>();
  /** Lengths of the prefixes present, so a lookup tries only those. */
  readonly prefixLengths = new Map<number, number>();
}

/**
 * The ACLs, indexed by resource type, then by literal name (the wildcard `*` is a literal
 * entry) or by prefix. A check looks up the name, `*`, and each stored prefix length of the
 * name: O(distinct prefix lengths) map lookups plus the bindings found, never a scan of
 * every ACL.
 */
export class AclIndex {
  private readonly byType = new Map<ResourceType, ResourceIndex>();
  private readonly keys = new Map<string, AclBinding>();

  constructor(bindings: Iterable<AclBinding> = []) {
    for (const binding of bindings) this.add(binding);
  }

  get size(): number {
    return this.keys.size;
  }

  list(): AclBinding[] {
    return [...this.keys.values()];
  }

  /** Adds a binding; false when the same ACL is already there. */
  add(binding: AclBinding): boolean {
    const key = aclKey(binding);
    if (this.keys.has(key)) return false;
    this.keys.set(key, binding);
    let index = this.byType.get(binding.resourceType);
    if (!index) this.byType.set(binding.resourceType, (index = new ResourceIndex()));
    const map = binding.patternType === PatternType.Literal ? index.literal : index.prefixed;
    const list = map.get(binding.resourceName);
    if (list) list.push(binding);
    else map.set(binding.resourceName, [binding]);
    if (binding.patternType === PatternType.Prefixed) {
      const length = binding.resourceName.length;
      index.prefixLengths.set(length, (index.prefixLengths.get(length) ?? 0) + 1);
    }
    return true;
  }

  /** Removes a binding; false when it was not there. */
  remove(binding: AclBinding): boolean {
    const key = aclKey(binding);
    const stored = this.keys.get(key);
    if (!stored) return false;
    this.keys.delete(key);
    const index = this.byType.get(binding.resourceType)!;
    const map = binding.patternType === PatternType.Literal ? index.literal : index.prefixed;
    const list = map.get(binding.resourceName)!;
    list.splice(list.indexOf(stored), 1);
    if (list.length === 0) map.delete(binding.resourceName);
    if (binding.patternType === PatternType.Prefixed) {
      const length = binding.resourceName.length;
      const left = index.prefixLengths.get(length)! - 1;
      if (left === 0) index.prefixLengths.delete(length);
      else index.prefixLengths.set(length, left);
    }
    return true;
  }

  /** Every binding whose resource pattern matches (type, name), whoever it names. */
  matching(resourceType: ResourceType, resourceName: string): AclBinding[] {
    const found: AclBinding[] = [];
    this.forEachList(resourceType, resourceName, (list) => {
      found.push(...list);
      return false;
    });
    return found;
  }

  /**
   * Calls `visit` with each list of bindings whose pattern matches (type, name): the literal
   * name, the `*` wildcard, and the name's prefix of each stored length; stops when `visit`
   * returns true. The request path uses this (no array is built).
   */
  forEachList(resourceType: ResourceType, resourceName: string, visit: (list: readonly AclBinding[]) => boolean): void {
    const index = this.byType.get(resourceType);
    if (!index) return;
    const literal = index.literal.get(resourceName);
    if (literal && visit(literal)) return;
    if (resourceName !== WILDCARD_RESOURCE) {
      const wildcard = index.literal.get(WILDCARD_RESOURCE);
      if (wildcard && visit(wildcard)) return;
    }
    for (const length of index.prefixLengths.keys()) {
      if (length > resourceName.length) continue;
      const prefixed = index.prefixed.get(resourceName.slice(0, length));
      if (prefixed && visit(prefixed)) return;
    }
  }

  /** Bindings of a resource type (for "may the principal write to any topic"). */
  ofType(resourceType: ResourceType): AclBinding[] {
    const index = this.byType.get(resourceType);
    if (!index) return [];
    return [...index.literal.values(), ...index.prefixed.values()].flat();
  }
}

/** Who asks: the principal and the client's host. */
export interface Requester {
  principal: string;
  host: string;
}

function appliesTo(binding: AclBinding, requester: Requester): boolean {
  return (
    (binding.principal === requester.principal || binding.principal === WILDCARD_PRINCIPAL) &&
    (binding.host === WILDCARD_HOST || binding.host === requester.host)
  );
}

/** Kafka's decision for one (operation, resource): deny wins, then an allow (with implications), else deny. */
export function decide(index: AclIndex, requester: Requester, operation: Operation, resourceType: ResourceType, resourceName: string): boolean {
  const granting = grantingOperations(operation);
  let allowed = false;
  let denied = false;
  index.forEachList(resourceType, resourceName, (list) => {
    for (const binding of list) {
      if (!appliesTo(binding, requester)) continue;
      if (binding.permission === Permission.Deny) {
        if (binding.operation === operation || binding.operation === Operation.All) {
          denied = true;
          return true;
        }
      } else if (granting.includes(binding.operation)) {
        allowed = true;
      }
    }
    return false;
  });
  return allowed && !denied;
}

/**
 * Kafka's authorizeByResourceType (KIP-679, used for idempotent produce without
 * IdempotentWrite on the cluster): true when some allow binding for `operation` on
 * `resourceType` applies to the requester and the resource it names is not itself denied.
 * A prefixed allow counts when its prefix is not denied; a deny of a literal name under an
 * allowed prefix does not take the prefix away (as in Kafka).
 */
export function allowedOnAny(index: AclIndex, requester: Requester, operation: Operation, resourceType: ResourceType): boolean {
  const granting = grantingOperations(operation);
  for (const binding of index.ofType(resourceType)) {
    if (binding.permission !== Permission.Allow || !granting.includes(binding.operation) || !appliesTo(binding, requester)) continue;
    if (decide(index, requester, operation, resourceType, binding.resourceName)) return true;
  }
  return false;
}
