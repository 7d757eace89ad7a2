// Proves the ACL matcher (src/security/acl.ts) decides as Kafka's authoriser does: literal,
// wildcard and prefixed resource patterns; principal and host wildcards; the implied
// operations (Read/Write/Delete/Alter -> Describe, AlterConfigs -> DescribeConfigs); deny
// wins; nothing matching means deny; and the Authorizer's super users and off switch.
// Property tests (fast-check) check the rules against a plain linear-scan model over random
// ACL sets: the index agrees with the model, a deny always wins, an ACL for another
// principal, host or resource never grants, and removing an ACL undoes adding it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AclIndex,
  Operation,
  PatternType,
  Permission,
  ResourceType,
  allowedOnAny,
  decide,
  grantingOperations,
  invalidBinding,
  type AclBinding,
  type Requester,
} from '../../src/security/acl.js';
import { Authorizer } from '../../src/security/authorizer.js';

const alice: Requester = { principal: 'User:alice', host: '10.0.0.1' };

function acl(fields: Partial<AclBinding>): AclBinding {
  return {
    principal: 'User:alice',
    host: '*',
    resourceType: ResourceType.Topic,
    resourceName: 'orders',
    patternType: PatternType.Literal,
    operation: Operation.Read,
    permission: Permission.Allow,
    ...fields,
  };
}

describe('AclIndex decide', () => {
  it('denies when nothing matches', () => {
    expect(decide(new AclIndex(), alice, Operation.Read, ResourceType.Topic, 'orders')).toBe(false);
  });

  it('allows by a literal name only for that name', () => {
    const index = new AclIndex([acl({})]);
    expect(decide(index, alice, Operation.Read, ResourceType.Topic, 'orders')).toBe(true);
    expect(decide(index, alice, Operation.Read, ResourceType.Topic, 'orders2')).toBe(false);
    expect(decide(index, alice, Operation.Read, ResourceType.Group, 'orders')).toBe(false);
    expect(decide(index, alice, Operation.Write, ResourceType.Topic, 'orders')).toBe(false);
  });

  it('matches the literal * wildcard, prefixes, User:* and host', () => {
    const index = new AclIndex([
      acl({ resourceName: '*', operation: Operation.Write }),
      acl({ resourceName: 'logs.', patternType: PatternType.Prefixed, principal: 'User:*' }),
      acl({ resourceName: 'pinned', host: '10.0.0.2', operation: Operation.Delete }),
    ]);
    expect(decide(index, alice, Operation.Write, ResourceType.Topic, 'anything')).toBe(true);
    expect(decide(index, { principal: 'User:bob', host: 'x' }, Operation.Read, ResourceType.Topic, 'logs.app')).toBe(true);
    expect(decide(index, alice, Operation.Read, ResourceType.Topic, 'logs')).toBe(false);
    expect(decide(index, alice, Operation.Delete, ResourceType.Topic, 'pinned')).toBe(false);
    expect(decide(index, { ...alice, host: '10.0.0.2' }, Operation.Delete, ResourceType.Topic, 'pinned')).toBe(true);
  });

  it('implies Describe from Read, Write, Delete and Alter, DescribeConfigs from AlterConfigs, and everything from All', () => {
    for (const operation of [Operation.Read, Operation.Write, Operation.Delete, Operation.Alter, Operation.All]) {
      expect(decide(new AclIndex([acl({ operation })]), alice, Operation.Describe, ResourceType.Topic, 'orders')).toBe(true);
    }
    expect(decide(new AclIndex([acl({ operation: Operation.Create })]), alice, Operation.Describe, ResourceType.Topic, 'orders')).toBe(false);
    expect(decide(new AclIndex([acl({ operation: Operation.AlterConfigs })]), alice, Operation.DescribeConfigs, ResourceType.Topic, 'orders')).toBe(true);
    expect(decide(new AclIndex([acl({ operation: Operation.Describe })]), alice, Operation.Read, ResourceType.Topic, 'orders')).toBe(false);
  });

  it('lets a deny win, but a deny of Read does not deny Describe', () => {
    const index = new AclIndex([acl({ operation: Operation.All }), acl({ resourceName: 'ord', patternType: PatternType.Prefixed, permission: Permission.Deny })]);
    expect(decide(index, alice, Operation.Read, ResourceType.Topic, 'orders')).toBe(false);
    expect(decide(index, alice, Operation.Describe, ResourceType.Topic, 'orders')).toBe(true);
    index.add(acl({ principal: 'User:*', resourceName: '*', operation: Operation.All, permission: Permission.Deny }));
    expect(decide(index, alice, Operation.Describe, ResourceType.Topic, 'orders')).toBe(false);
  });

  it('finds Write on any topic (idempotent produce) unless that very pattern is denied', () => {
    const index = new AclIndex([acl({ resourceName: 'a.', patternType: PatternType.Prefixed, operation: Operation.Write })]);
    expect(allowedOnAny(index, alice, Operation.Write, ResourceType.Topic)).toBe(true);
    expect(allowedOnAny(index, { principal: 'User:bob', host: '*' }, Operation.Write, ResourceType.Topic)).toBe(false);
    index.add(acl({ resourceName: '*', operation: Operation.Write, permission: Permission.Deny }));
    expect(allowedOnAny(index, alice, Operation.Write, ResourceType.Topic)).toBe(false);
  });

  it('refuses malformed bindings', () => {
    expect(invalidBinding(acl({ principal: 'alice' }))).toMatch(/Type:name/);
    expect(invalidBinding(acl({ resourceType: ResourceType.Cluster, resourceName: 'x' }))).toMatch(/kafka-cluster/);
    expect(invalidBinding(acl({ resourceName: '*', patternType: PatternType.Prefixed }))).toMatch(/literal/);
    expect(invalidBinding(acl({}))).toBeNull();
  });
});

describe('Authorizer', () => {
  it('allows everything when off, and super users always', () => {
    const off = new Authorizer({ enabled: false, superUsers: [] });
    expect(off.authorize(alice, Operation.Delete, ResourceType.Topic, 'x')).toBe(true);
    const on = new Authorizer({ enabled: true, superUsers: ['User:admin'] });
    expect(on.authorize(alice, Operation.Delete, ResourceType.Topic, 'x')).toBe(false);
    on.acls.add(acl({ principal: 'User:*', resourceName: '*', operation: Operation.All, permission: Permission.Deny }));
    expect(on.authorize({ principal: 'User:admin', host: '1.2.3.4' }, Operation.Delete, ResourceType.Topic, 'x')).toBe(true);
  });
});

// ---- properties against a linear-scan model

const NAMES = ['a', 'ab', 'abc', 'b', 'ba', '*'];
const PRINCIPALS = ['User:alice', 'User:bob', 'User:*'];
const HOSTS = ['*', 'h1', 'h2'];
const OPERATIONS = Object.values(Operation);
const bindingArb: fc.Arbitrary<AclBinding> = fc
  .record({
    principal: fc.constantFrom(...PRINCIPALS),
    host: fc.constantFrom(...HOSTS),
    resourceType: fc.constantFrom(ResourceType.Topic, ResourceType.Group),
    resourceName: fc.constantFrom(...NAMES),
    patternType: fc.constantFrom(PatternType.Literal, PatternType.Prefixed),
    operation: fc.constantFrom(...OPERATIONS),
    permission: fc.constantFrom(Permission.Allow, Permission.Deny),
  })
  .filter((binding) => invalidBinding(binding) === null);
const requesterArb = fc.record({ principal: fc.constantFrom('User:alice', 'User:bob'), host: fc.constantFrom('h1', 'h2') });
const queryArb = fc.record({
  operation: fc.constantFrom(...OPERATIONS.filter((operation) => operation !== Operation.All)),
  resourceType: fc.constantFrom(ResourceType.Topic, ResourceType.Group),
  name: fc.constantFrom('a', 'ab', 'abc', 'b', 'ba', 'bab', 'c'),
});

function resourceMatches(binding: AclBinding, resourceType: ResourceType, name: string): boolean {
  if (binding.resourceType !== resourceType) return false;
  if (binding.patternType === PatternType.Prefixed) return name.startsWith(binding.resourceName);
  return binding.resourceName === '*' || binding.resourceName === name;
}

function applies(binding: AclBinding, requester: Requester): boolean {
  return (binding.principal === requester.principal || binding.principal === 'User:*') && (binding.host === '*' || binding.host === requester.host);
}

function model(bindings: readonly AclBinding[], requester: Requester, operation: Operation, resourceType: ResourceType, name: string): boolean {
  const relevant = bindings.filter((binding) => applies(binding, requester) && resourceMatches(binding, resourceType, name));
  if (relevant.some((binding) => binding.permission === Permission.Deny && (binding.operation === operation || binding.operation === Operation.All))) return false;
  return relevant.some((binding) => binding.permission === Permission.Allow && grantingOperations(operation).includes(binding.operation));
}

describe('AclIndex properties', () => {
  it('agrees with a linear scan of every ACL', () => {
    fc.assert(
      fc.property(fc.array(bindingArb, { maxLength: 30 }), requesterArb, queryArb, (bindings, requester, query) => {
        const index = new AclIndex(bindings);
        expect(decide(index, requester, query.operation, query.resourceType, query.name)).toBe(model(bindings, requester, query.operation, query.resourceType, query.name));
      }),
      { numRuns: 2000 },
    );
  });

  it('a matching deny always wins, whatever else is there', () => {
    fc.assert(
      fc.property(fc.array(bindingArb, { maxLength: 30 }), requesterArb, queryArb, (bindings, requester, query) => {
        const deny = acl({ principal: requester.principal, host: '*', resourceType: query.resourceType, resourceName: query.name, operation: query.operation, permission: Permission.Deny });
        const index = new AclIndex([...bindings, deny]);
        expect(decide(index, requester, query.operation, query.resourceType, query.name)).toBe(false);
      }),
    );
  });

  it('an ACL for another principal, host or resource never grants', () => {
    fc.assert(
      fc.property(fc.array(bindingArb, { maxLength: 30 }), requesterArb, queryArb, bindingArb, (bindings, requester, query, extra) => {
        const unrelated =
          (extra.principal !== requester.principal && extra.principal !== 'User:*') ||
          (extra.host !== '*' && extra.host !== requester.host) ||
          !resourceMatches(extra, query.resourceType, query.name);
        fc.pre(unrelated && extra.permission === Permission.Allow);
        const before = decide(new AclIndex(bindings), requester, query.operation, query.resourceType, query.name);
        const after = decide(new AclIndex([...bindings, extra]), requester, query.operation, query.resourceType, query.name);
        expect(after).toBe(before);
      }),
    );
  });

  it('removing an ACL undoes adding it', () => {
    fc.assert(
      fc.property(fc.array(bindingArb, { maxLength: 20 }), bindingArb, requesterArb, queryArb, (bindings, extra, requester, query) => {
        const base = new AclIndex(bindings);
        const before = decide(base, requester, query.operation, query.resourceType, query.name);
        const added = base.add(extra);
        if (added) base.remove(extra);
        expect(decide(base, requester, query.operation, query.resourceType, query.name)).toBe(before);
        expect(base.size).toBe(new AclIndex(bindings).size);
      }),
    );
  });
});
