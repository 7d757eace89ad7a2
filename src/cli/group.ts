// `spool group list|describe|reset|delete`: consumer-group administration over the admin API.

import type { Command } from 'commander';
import { parseResetTarget, type ResetTarget } from './args.js';
import { withConnection } from './connect.js';
import { adminFormatOption, formatTable, writeResult, type AdminFormat } from './output.js';

/** The fields of a group description the CLI shows (the wire's GroupDescription). */
interface GroupView {
  groupId: string;
  state: string;
  groupEpoch?: number;
  assignor?: string;
  members: Array<{
    memberId: string;
    clientId?: string;
    clientHost?: string;
    assignment?: Array<{ topic: string; partitions: number[] }>;
    metadata?: unknown;
    assignmentBytes?: unknown;
  }>;
  offsets: Array<{ topic: string; partition: number; committed: number; logEndOffset: number; lag: number; memberId: string }>;
  errorCode?: number;
  errorMessage?: string;
}

export function registerGroup(program: Command): void {
  const group = program.command('group').description('list, describe, reset and delete consumer groups');

  group
    .command('list')
    .description('every group with its state and member count')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const groups = [...(await connection.request(() => connection.client.admin().listGroups()))].sort((a, b) => a.groupId.localeCompare(b.groupId));
        const rows = groups.map((g) => [g.groupId, g.state, g.members]);
        writeResult(options.format, groups, () => (rows.length > 0 ? formatTable(['GROUP', 'STATE', 'MEMBERS'], rows) : ''));
      });
    });

  group
    .command('describe <group>')
    .description('members and, per partition, the committed offset, log end offset and lag')
    .addOption(adminFormatOption())
    .action(async (groupId: string, options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const described = (await connection.request(() => connection.client.admin().describeGroups({ groupIds: [groupId] }))) as GroupView[];
        const description = described.find((entry) => entry.groupId === groupId) ?? described[0];
        if (description === undefined) throw new Error(`group ${groupId} was not described by the broker`);
        writeResult(options.format, groupJson(description), () => formatGroup(description));
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
    .addOption(adminFormatOption())
    .action(async (groupId: string, options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        await connection.request(() => connection.client.admin().deleteGroups({ groupIds: [groupId] }));
        writeResult(options.format, { groupId, deleted: true }, () => `deleted group ${groupId}\n`);
      });
    });
}

/** The description without the opaque protocol bytes of classic members (not JSON material). */
function groupJson(group: GroupView): unknown {
  return { ...group, members: group.members.map(({ metadata: _metadata, assignmentBytes: _assignment, ...member }) => member) };
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
