// Proves LogManager.alterTopicConfig: the changed configs apply to the live partition logs
// at once (an append over a lowered max.message.bytes is MESSAGE_TOO_LARGE; one under it
// still appends), the others keep their values, the change survives close and reopen (the
// metadata file was rewritten), and an unknown topic, an internal topic or a bad value is
// refused with its error code and changes nothing. Real files in a temp dir.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogManager } from '../../src/storage/index.js';
import { makeBatch, tempDataDir } from './helpers.js';

let data: ReturnType<typeof tempDataDir>;
beforeEach(() => {
  data = tempDataDir();
});
afterEach(() => data.cleanup());

function open(): Promise<LogManager> {
  return LogManager.open({ dataDir: data.dir, fsync: { kind: 'never' }, backgroundTasks: false });
}

describe('LogManager.alterTopicConfig', () => {
  it('applies to the live logs, keeps the other configs, and survives a reopen', async () => {
    let manager = await open();
    await manager.createTopic('orders', 2, { retentionMs: 1000, cleanupPolicy: 'delete' });
    const info = await manager.alterTopicConfig('orders', { maxMessageBytes: 200, retentionBytes: 4096 });
    expect(info.config).toMatchObject({ maxMessageBytes: 200, retentionBytes: 4096, retentionMs: 1000, cleanupPolicy: 'delete' });
    for (const partition of [0, 1]) {
      const log = manager.getPartition('orders', partition);
      await expect(log.append(makeBatch(1, 1, 400))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
      await log.append(makeBatch(2, 1, 20));
      expect(log.logEndOffset).toBe(1);
    }
    await manager.close();
    manager = await open();
    expect(manager.getTopic('orders')!.config).toMatchObject({ maxMessageBytes: 200, retentionBytes: 4096, retentionMs: 1000 });
    await expect(manager.getPartition('orders', 0).append(makeBatch(3, 1, 400))).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' });
    await manager.close();
  });

  it('refuses an unknown topic, an internal topic and a bad value, changing nothing', async () => {
    const manager = await open();
    await manager.createTopic('orders', 1);
    await manager.createTopic('__internal', 1, undefined, true);
    const before = manager.getTopic('orders')!.config;
    await expect(manager.alterTopicConfig('nope', { retentionMs: 1 })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC' });
    await expect(manager.alterTopicConfig('__internal', { retentionMs: 1 })).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    await expect(manager.alterTopicConfig('orders', { segmentBytes: -5 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
    expect(manager.getTopic('orders')!.config).toEqual(before);
    await manager.close();
  });
});
