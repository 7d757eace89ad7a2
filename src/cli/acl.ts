// `spool acl add|remove|list`: the broker's ACLs (src/security/README.md "ACLs") over the
// admin API. A resource is named by exactly one of --topic, --group, --transactional-id or
// --cluster; --prefixed makes the name a prefix. `remove` deletes the ACLs matching what
// is given (an option left out matches any value); `list` shows them.
//
//   spool acl add --allow User:alice --operation Write --topic orders
//   spool acl add --deny User:* --operation Read --topic secret- --prefixed
//   spool acl remove --allow User:alice --operation Write --topic orders
//   spool acl list [--principal User:alice] [--topic orders]

import { InvalidArgumentError, type Command } from 'commander';
import type { Acl, AclFilter } from '../client/admin.js';
import { withConnection } from './connect.js';
import { adminFormatOption, formatTable, writeResult, type AdminFormat } from './output.js';

const OPERATIONS = ['All', 'Read', 'Write', 'Create', 'Delete', 'Alter', 'Describe', 'DescribeConfigs', 'AlterConfigs', 'IdempotentWrite'] as const;

interface AclOptions {
  allow?: string;
  deny?: string;
  principal?: string;
  operation?: string;
  topic?: string;
  group?: string;
  transactionalId?: string;
  cluster?: boolean;
  prefixed?: boolean;
  host?: string;
  format: AdminFormat;
}

function operationOption(value: string): Acl['operation'] {
  const found = OPERATIONS.find((operation) => operation.toLowerCase() === value.toLowerCase());
  if (!found) throw new InvalidArgumentError(`--operation must be one of ${OPERATIONS.join(', ')}, got '${value}'`);
  return found;
}

function principalOption(value: string): string {
  if (!/^[A-Za-z]+:.+$/.test(value)) throw new InvalidArgumentError(`a principal is Type:name (User:alice, User:*), got '${value}'`);
  return value;
}

function resourceOf(options: AclOptions): Pick<Acl, 'resourceType' | 'resourceName' | 'patternType'> | null {
  const given = [
    options.topic !== undefined ? { resourceType: 'Topic' as const, resourceName: options.topic } : null,
    options.group !== undefined ? { resourceType: 'Group' as const, resourceName: options.group } : null,
    options.transactionalId !== undefined ? { resourceType: 'TransactionalId' as const, resourceName: options.transactionalId } : null,
    options.cluster === true ? { resourceType: 'Cluster' as const, resourceName: 'kafka-cluster' } : null,
  ].filter((entry) => entry !== null);
  if (given.length > 1) throw new InvalidArgumentError('name one resource: --topic, --group, --transactional-id or --cluster');
  if (given.length === 0) return null;
  return { ...given[0]!, patternType: options.prefixed === true ? 'prefixed' : 'literal' };
}

function filterOf(options: AclOptions): AclFilter {
  if (options.allow !== undefined && options.deny !== undefined) throw new InvalidArgumentError('give --allow or --deny, not both');
  const principal = options.allow ?? options.deny ?? options.principal;
  const resource = resourceOf(options);
  return {
    ...(principal !== undefined ? { principal } : {}),
    ...(options.allow !== undefined ? { permission: 'allow' as const } : options.deny !== undefined ? { permission: 'deny' as const } : {}),
    ...(options.operation !== undefined ? { operation: options.operation as Acl['operation'] } : {}),
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(resource !== null ? { resourceType: resource.resourceType, resourceName: resource.resourceName!, ...(options.prefixed === true ? { patternType: 'prefixed' as const } : {}) } : {}),
  };
}

function addResourceOptions(command: Command): Command {
  return command
    .option('--operation <operation>', `${OPERATIONS.join(', ')}`, operationOption)
    .option('--topic <name>', 'a topic (with --prefixed: every topic starting with it; * is every topic)')
    .option('--group <name>', 'a consumer or share group')
    .option('--transactional-id <id>', 'a transactional id')
    .option('--cluster', 'the cluster (topic creation, ACL and quota admin, idempotent produce)')
    .option('--prefixed', 'the name is a prefix')
    .option('--host <address>', 'the client address the ACL applies to (default *)');
}

function rows(acls: Array<Required<Acl>>): string {
  if (acls.length === 0) return '';
  const sorted = [...acls].sort((a, b) => `${a.resourceType}${a.resourceName}${a.principal}`.localeCompare(`${b.resourceType}${b.resourceName}${b.principal}`));
  return formatTable(
    ['PERMISSION', 'PRINCIPAL', 'OPERATION', 'RESOURCE', 'NAME', 'PATTERN', 'HOST'],
    sorted.map((acl) => [acl.permission, acl.principal, acl.operation, acl.resourceType, acl.resourceName, acl.patternType, acl.host]),
  );
}

export function registerAcl(program: Command): void {
  const acl = program.command('acl').description('add, remove and list ACLs (authorisation: see spool serve --authorizer)');

  addResourceOptions(
    acl
      .command('add')
      .description('allow or deny a principal an operation on a resource')
      .option('--allow <principal>', 'allow this principal (User:alice, User:* for everyone)', principalOption)
      .option('--deny <principal>', 'deny this principal (deny wins over every allow)', principalOption),
  ).action(async (options: AclOptions, command: Command) => {
    const principal = options.allow ?? options.deny;
    if (principal === undefined || (options.allow !== undefined && options.deny !== undefined)) throw new InvalidArgumentError('give one of --allow <principal> or --deny <principal>');
    if (options.operation === undefined) throw new InvalidArgumentError('--operation is required');
    const resource = resourceOf(options);
    if (resource === null) throw new InvalidArgumentError('name a resource: --topic, --group, --transactional-id or --cluster');
    const entry: Acl = { principal, host: options.host ?? '*', ...resource, operation: options.operation as Acl['operation'], permission: options.allow !== undefined ? 'allow' : 'deny' };
    await withConnection(command, async (connection) => {
      await connection.request(() => connection.client.admin().createAcls([entry]));
    });
  });

  addResourceOptions(
    acl
      .command('remove')
      .description('remove the ACLs matching the options given (one left out matches any value)')
      .option('--allow <principal>', 'allow ACLs of this principal', principalOption)
      .option('--deny <principal>', 'deny ACLs of this principal', principalOption)
      .option('--principal <principal>', 'ACLs of this principal, allow or deny', principalOption)
      .addOption(adminFormatOption()),
  ).action(async (options: AclOptions, command: Command) => {
    await withConnection(command, async (connection) => {
      const removed = await connection.request(() => connection.client.admin().deleteAcls([filterOf(options)]));
      writeResult(options.format, removed, () => rows(removed));
    });
  });

  addResourceOptions(
    acl
      .command('list')
      .description('the ACLs matching the options given (all without any)')
      .option('--principal <principal>', 'ACLs of this principal', principalOption)
      .addOption(adminFormatOption()),
  ).action(async (options: AclOptions, command: Command) => {
    await withConnection(command, async (connection) => {
      const acls = await connection.request(() => connection.client.admin().describeAcls(filterOf(options)));
      writeResult(options.format, acls, () => rows(acls));
    });
  });
}
