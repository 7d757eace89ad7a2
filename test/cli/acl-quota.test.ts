// Proves the acl and quota commands and the serve flags end to end on a real `spool serve`
// process: with `--authorizer acl` an anonymous CLI is refused (TOPIC_AUTHORIZATION_FAILED,
// exit 1) until an ACL allows it; `--super-users User:ANONYMOUS` bypasses the ACLs; `acl
// add / list / remove` and `quota set / list` round-trip, and ACLs and quotas survive a
// restart (meta/security/acls.json).

import { afterAll, describe, expect, it } from 'vitest';
import { randomTopic, startBroker, tempDir, type BrokerProcess } from '../helpers/broker.js';
import { spool } from './run.js';
import { superUsersOption } from '../../src/cli/serve.js';

const brokers: BrokerProcess[] = [];
afterAll(async () => {
  for (const broker of brokers) {
    await broker.stop();
    broker.cleanup();
  }
});

async function serve(args: string[], dataDir = tempDir()): Promise<BrokerProcess> {
  const broker = await startBroker({ dataDir, args });
  brokers.push(broker);
  return broker;
}

describe('spool acl and quota', () => {
  it('refuses an anonymous CLI under --authorizer acl until an ACL allows it', async () => {
    const broker = await serve(['--authorizer', 'acl']);
    const topic = randomTopic('cli-acl');
    const refused = await spool(broker.address, `topic create ${topic}`);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('TOPIC_AUTHORIZATION_FAILED');
    // Nobody may manage ACLs either: the CLI gets CLUSTER_AUTHORIZATION_FAILED.
    const acl = await spool(broker.address, `acl add --allow User:ANONYMOUS --operation Create --topic ${topic}`);
    expect(acl.stderr).toContain('CLUSTER_AUTHORIZATION_FAILED');
  });

  it('adds, lists and removes ACLs and quotas as a super user; they survive a restart', async () => {
    const dataDir = tempDir();
    let broker = await serve(['--authorizer', 'acl', '--super-users', 'User:ANONYMOUS'], dataDir);
    const topic = randomTopic('cli-acl');
    expect((await spool(broker.address, `topic create ${topic}`)).code).toBe(0);
    expect((await spool(broker.address, `acl add --allow User:alice --operation Write --topic ${topic}`)).code).toBe(0);
    expect((await spool(broker.address, `acl add --deny 'User:*' --operation Read --topic secret. --prefixed --host 10.0.0.7`)).code).toBe(0);
    expect((await spool(broker.address, `quota set --user alice --producer-byte-rate 1048576`)).code).toBe(0);
    expect((await spool(broker.address, `quota set --client-id batch --consumer-byte-rate 5000`)).code).toBe(0);

    await broker.stop();
    brokers.splice(brokers.indexOf(broker), 1);
    broker = await serve(['--authorizer', 'acl', '--super-users', 'User:ANONYMOUS'], dataDir);

    const listed = await spool(broker.address, 'acl list --format json');
    expect(listed.code, listed.stderr).toBe(0);
    const acls = JSON.parse(listed.stdout) as Array<Record<string, string>>;
    expect(acls).toContainEqual({ principal: 'User:alice', host: '*', resourceType: 'Topic', resourceName: topic, patternType: 'literal', operation: 'Write', permission: 'allow' });
    expect(acls).toContainEqual({ principal: 'User:*', host: '10.0.0.7', resourceType: 'Topic', resourceName: 'secret.', patternType: 'prefixed', operation: 'Read', permission: 'deny' });
    const table = await spool(broker.address, 'acl list --principal User:alice');
    expect(table.stdout).toMatch(/allow\s+User:alice\s+Write\s+Topic/);

    const quotas = JSON.parse((await spool(broker.address, 'quota list --format json')).stdout) as unknown[];
    expect(quotas).toContainEqual({ user: 'alice', producerByteRate: 1048576 });
    expect(quotas).toContainEqual({ clientId: 'batch', consumerByteRate: 5000 });

    const removed = await spool(broker.address, `acl remove --allow User:alice --topic ${topic}`);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toContain('User:alice');
    expect((await spool(broker.address, 'acl list --principal User:alice --format json')).stdout.trim()).toBe('[]');
    expect((await spool(broker.address, 'quota set --user alice --producer-byte-rate 0')).code).toBe(0);
    expect((await spool(broker.address, 'quota list --format json')).stdout).not.toContain('alice');
  });
});

describe('--super-users', () => {
  it('splits on ; or on a comma before the next Type:, keeping certificate principals whole', () => {
    expect(superUsersOption('User:admin,User:ops')).toEqual(['User:admin', 'User:ops']);
    expect(superUsersOption('User:a;User:b')).toEqual(['User:a', 'User:b']);
    expect(superUsersOption('User:CN=alice,OU=eng,O=Spool Test,C=US,User:ops')).toEqual(['User:CN=alice,OU=eng,O=Spool Test,C=US', 'User:ops']);
    expect(() => superUsersOption('admin')).toThrow(/Type:name/);
  });
});
