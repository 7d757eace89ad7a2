// Proves that a produce to a topic the cluster knows but this broker holds no log of (not a
// replica here, or a new leader still creating its log: the partition state in etcd comes
// first) is answered NOT_LEADER_OR_FOLLOWER, which clients retry after asking Metadata,
// never UNKNOWN_TOPIC, which they do not retry (a CI bench saw 17 of 20 batches refused
// that way right after a topic was created); a topic nobody knows is still UNKNOWN_TOPIC.
// An in-process broker whose cluster admin says which topics the cluster has.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, startBroker, type Broker } from '../../src/broker/index.js';
import { Errors } from '../../src/util/errors.js';
import { RawClient } from '../helpers/raw-client.js';
import { batchOf } from './records.js';

let broker: Broker;
let client: RawClient;

beforeAll(async () => {
  broker = await startBroker({ dataDir: mkdtempSync(join(tmpdir(), 'spool-no-log-')), port: 0, fsync: { kind: 'never' }, logger: silentLogger });
  const refuse = (): Promise<never> => Promise.reject(new Error('not in this test'));
  broker.context.clusterAdmin = { hasTopic: (name) => name === 'placed', createTopic: refuse, deleteTopic: refuse, createPartitions: refuse, alterTopicConfig: refuse };
  client = await RawClient.connect(broker.port);
});

afterAll(async () => {
  client?.socket.destroy();
  await broker?.close();
});

describe('produce to a cluster topic without a local log', () => {
  it('answers NOT_LEADER_OR_FOLLOWER (retriable), and UNKNOWN_TOPIC only for a topic the cluster does not have', async () => {
    const placed = await client.produce('placed', 0, batchOf(['a']));
    expect(placed.errorCode).toBe(Errors.NOT_LEADER_OR_FOLLOWER.code);
    expect(placed.errorMessage).toMatch(/holds no log of it/);
    expect((await client.produce('nowhere', 0, batchOf(['a']))).errorCode).toBe(Errors.UNKNOWN_TOPIC.code);
    expect(broker.context.logs.getTopic('placed')).toBeUndefined();
  });
});
