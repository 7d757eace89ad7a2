// The parent side of group-worker.ts: a forked group member and what it reported, plus the
// wait for a stable group (every member joined and owns partitions).

import type { ChildProcess } from 'node:child_process';
import type { Client } from '../../src/client/index.js';
import { forkWorker } from './common.js';
import type { GroupWorkerConfig, GroupWorkerMessage } from './group-worker.js';

export class Member {
  readonly child: ChildProcess;
  count = 0;
  bytes = 0;
  lastWallMs = 0;
  readonly assigned = new Set<number>();
  /** partition -> wall time of its first batch since it was (re)assigned. */
  readonly firsts = new Map<number, number>();
  failure: string | undefined;
  readonly exited: Promise<void>;

  constructor(config: GroupWorkerConfig) {
    this.child = forkWorker('group-worker');
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.child.on('message', (message: GroupWorkerMessage) => this.onMessage(message));
    this.child.send({ type: 'start', config });
  }

  private onMessage(message: GroupWorkerMessage): void {
    switch (message.type) {
      case 'progress':
        this.count = message.count;
        this.bytes = message.bytes;
        this.lastWallMs = message.lastWallMs;
        break;
      case 'assigned':
        for (const partition of message.partitions) this.assigned.add(partition);
        break;
      case 'revoked':
        for (const partition of message.partitions) this.assigned.delete(partition);
        break;
      case 'first':
        this.firsts.set(message.partition, message.wallMs);
        break;
      case 'failed':
        this.failure = message.error;
        break;
      case 'ready':
        break;
    }
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  go(): void {
    if (this.alive) this.child.send({ type: 'go' });
  }
}

/** Asks every live member to leave the group and exit; SIGKILLs one that takes over 10 s. */
export async function stopMembers(members: Member[]): Promise<void> {
  await Promise.all(
    members.map(async (member) => {
      if (!member.alive) return;
      member.child.send({ type: 'stop' });
      const timer = setTimeout(() => member.child.kill('SIGKILL'), 10_000);
      await member.exited;
      clearTimeout(timer);
    }),
  );
}

export function failed(members: Member[]): string | undefined {
  return members.find((member) => member.failure !== undefined)?.failure;
}

/** Stable with `members` members, each owning partitions (when there are enough to go round). */
export async function groupStable(client: Client, group: string, members: number, partitions: number): Promise<boolean> {
  // Before the first member joins, the group does not exist (GROUP_ID_NOT_FOUND): not stable yet.
  const [description] = await client.admin().describeGroups({ groupIds: [group] }).catch(() => []);
  if (description === undefined || description.state !== 'stable' || description.members.length !== members) return false;
  return partitions < members || description.members.every((member) => member.assignment.length > 0);
}
