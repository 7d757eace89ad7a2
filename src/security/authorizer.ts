// The authoriser: one per broker. It answers "may this session do this operation on this
// resource" from the ACL index, with Kafka's two bypasses: super users (`--super-users`)
// may do everything, and a broker without authorisation on allows everything.

import { AclIndex, allowedOnAny, decide, type Operation, type ResourceType } from './acl.js';

export interface AuthorizerOptions {
  /** False: every request is allowed (no authentication, no `--authorizer acl`). */
  enabled: boolean;
  /** Principals that bypass the ACLs (`User:admin`). */
  superUsers: readonly string[];
}

/** What the authoriser reads of a connection's Session. */
export interface Principal {
  readonly principal: string;
  readonly host: string;
}

export class Authorizer {
  private readonly superUsers: ReadonlySet<string>;

  constructor(
    readonly options: AuthorizerOptions,
    readonly acls: AclIndex = new AclIndex(),
  ) {
    this.superUsers = new Set(options.superUsers);
  }

  get enabled(): boolean {
    return this.options.enabled;
  }

  isSuperUser(who: Principal): boolean {
    return this.superUsers.has(who.principal);
  }

  authorize(who: Principal, operation: Operation, resourceType: ResourceType, resourceName: string): boolean {
    if (!this.options.enabled || this.superUsers.has(who.principal)) return true;
    return decide(this.acls, who, operation, resourceType, resourceName);
  }

  /** Allowed `operation` on some resource of the type (Kafka's authorizeByResourceType). */
  authorizeAny(who: Principal, operation: Operation, resourceType: ResourceType): boolean {
    if (!this.options.enabled || this.superUsers.has(who.principal)) return true;
    return allowedOnAny(this.acls, who, operation, resourceType);
  }
}
