// `spool group list|describe|reset|delete`: consumer-group administration over the admin API.

import type { Command } from 'commander';
import { parseResetTarget, type ResetTarget } from './args.js';
import { withConnection, type Connection } from './connect.js';
import type { ShareGroupDescription } from '../protocol/messages.js';
import { Errors, isSpoolError } from '../util/errors.js';
import { formatTable } from './output.js';

/** The fields of a group description the CLI shows (the wire's GroupDescription). */
interface GroupView {
  groupId: string;
  state: string;
  groupEpoch?: number;
  assignor?: string;
  members: Array<{ memberId: string; clientId?: string; assignment?: Array<{ topic: string; partitions: number[] }> }>;
  offsets: Array<{ topic: string; partition: number; committed: number; logEndOffset: number; lag: number; memberId: string }>;
  errorCode?: number;
  errorMessage?: string;
}

export function registerGroup(program: Command): void {
  const group = program.command('group').description('list, describe, reset and delete consumer groups');

  group
    .command('list')
    .description('every group with its state and member count')
    .action(async (_options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        const groups = await connection.request(() => connection.client.admin().listGroups());
        const rows = [...groups].sort((a, b) => a.groupId.localeCompare(b.groupId)).map((g) => [g.groupId, g.state, g.members]);
        if (rows.length > 0) process.stdout.write(formatTable(['GROUP', 'STATE', 'MEMBERS'], rows));
      });
    });

  group
    .command('describe <group>')
    .description('members and, per partition, the committed offset, log end offset and lag')
    .action(async (groupId: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        let described: GroupView[];
        try {
          described = (await connection.request(() => connection.client.admin().describeGroups({ groupIds: [groupId] }))) as GroupView[];
        } catch (error) {
          // Not a consumer or classic group: maybe a share group (its own describe).
          if (!isSpoolError(error, Errors.GROUP_ID_NOT_FOUND)) throw error;
          const shares = await connection.request(() => describeShareGroup(connection, groupId));
          if (shares === undefined) throw error;
          process.stdout.write(formatShareGroup(shares));
          return;
        }
        const description = described.find((entry) => entry.groupId === groupId) ?? described[0];
        if (description === undefined) throw new Error(`group ${groupId} was not described by the broker`);
        process.stdout.write(formatGroup(description));
      });
    });

  group
    .command('reset <group>')
    .description('move the committed offsets of a group with no active members')
    .requiredOption('--topic <topic>', 'the topic whose offsets move')
    .requiredOption('--to <target>', 'earliest | latest | <offset> | <iso-time>', parseResetTarget)
    .action(async (groupId: string, options: { topic: string; to: ResetTarget }, command: Command) => {
      await withConnection(command, async (connection) => {
        const result: unknown = await connection.request(() =>
          connection.client.admin().resetOffsets({ groupId, topic: options.topic, to: options.to }),
        );
        process.stdout.write(formatReset(groupId, options.topic, result));
      });
    });

  group
    .command('delete <group>')
    .description('delete a group with no active members and its committed offsets')
    .action(async (groupId: string, _options: unknown, command: Command) => {
      await withConnection(command, async (connection) => {
        await connection.request(() => connection.client.admin().deleteGroups({ groupIds: [groupId] }));
        process.stdout.write(`deleted group ${groupId}\n`);
      });
    });
}

async function describeShareGroup(connection: Connection, groupId: string): Promise<ShareGroupDescription | undefined> {
  try {
    return (await connection.client.admin().describeShareGroups({ groupIds: [groupId] }))[0];
  } catch (error) {
    // GROUP_ID_NOT_FOUND: not a share group either; the consumer view ("dead") is printed.
    if (isSpoolError(error, Errors.GROUP_ID_NOT_FOUND)) return undefined;
    throw error;
  }
}

function formatShareGroup(group: ShareGroupDescription): string {
  const header = [
    `group: ${group.groupId}  kind: share`,
    `members: ${group.members.length}`,
    ...group.members.map((member) => `  ${member}`),
    `dead letters: ${group.deadLetters} (${group.deadLetterTopic})`,
    '',
  ].join('\n');
  const rows = [...group.partitions]
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((p) => [p.topic, p.partition, p.startOffset, p.inFlight, p.acquired, p.deliveryCounts.map(([count, records]) => `${count}:${records}`).join(' ') || '-']);
  return `${header}${formatTable(['TOPIC', 'PARTITION', 'START', 'IN FLIGHT', 'ACQUIRED', 'DELIVERIES:RECORDS'], rows)}`;
}

function formatGroup(group: GroupView): string {
  const header = [
    `group: ${group.groupId}`,
    `state: ${group.state}${group.groupEpoch !== undefined ? `  epoch: ${group.groupEpoch}` : ''}${group.assignor ? `  assignor: ${group.assignor}` : ''}`,
    `members: ${group.members.length}`,
    ...group.members.map((member) => `  ${member.memberId}${member.clientId ? ` (${member.clientId})` : ''}`),
    '',
  ].join('\n');
  const rows = [...group.offsets]
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((o) => [o.topic, o.partition, o.memberId === '' ? '-' : o.memberId, o.committed < 0 ? '-' : o.committed, o.logEndOffset, o.committed < 0 ? '-' : o.lag]);
  return `${header}${formatTable(['TOPIC', 'PARTITION', 'MEMBER', 'COMMITTED', 'END', 'LAG'], rows)}`;
}

/** The reset result, when the SDK returns the new offsets per partition; otherwise a one-line confirmation. */
function formatReset(groupId: string, topic: string, result: unknown): string {
  const partitions = Array.isArray(result)
    ? result
    : Array.isArray((result as { partitions?: unknown } | null)?.partitions)
      ? (result as { partitions: unknown[] }).partitions
      : null;
  const line = `reset group ${groupId} on topic ${topic}\n`;
  if (partitions === null) return line;
  const rows = (partitions as Array<{ partition: number; offset: number }>)
    .filter((p) => typeof p.partition === 'number' && typeof p.offset === 'number')
    .sort((a, b) => a.partition - b.partition)
    .map((p) => [topic, p.partition, p.offset]);
  return rows.length === 0 ? line : `${line}${formatTable(['TOPIC', 'PARTITION', 'NEW OFFSET'], rows)}`;
}
