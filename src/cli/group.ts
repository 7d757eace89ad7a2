// `spool group list|describe|reset|delete`: consumer-group administration over the admin API.

import { InvalidArgumentError, type Command } from 'commander';
import { parseInteger, parseResetTarget, type ResetTarget } from './args.js';
import { withConnection, type Connection } from './connect.js';
import type { ShareGroupDescription } from '../protocol/messages.js';
import { Errors, isSpoolError } from '../util/errors.js';
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
    .description('every group with its state, member count and kind (consumer, classic, share)')
    .addOption(adminFormatOption())
    .action(async (options: { format: AdminFormat }, command: Command) => {
      await withConnection(command, async (connection) => {
        const groups = [...(await connection.request(() => connection.client.admin().listGroups()))].sort((a, b) => a.groupId.localeCompare(b.groupId));
        const rows = groups.map((g) => [g.groupId, g.state, g.members, g.kind ?? 'consumer']);
        writeResult(options.format, groups, () => (rows.length > 0 ? formatTable(['GROUP', 'STATE', 'MEMBERS', 'KIND'], rows) : ''));
      });
    });

  group
    .command('describe <group>')
    .description('members and, per partition, the committed offset, log end offset and lag')
    .addOption(adminFormatOption())
    .action(async (groupId: string, options: { format: AdminFormat }, command: Command) => {
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
        writeResult(options.format, groupJson(description), () => formatGroup(description));
      });
    });

  group
    .command('reset <group>')
    .description('move the committed offsets of a group with no active members')
    .option('--topic <topic>', 'the topic whose offsets move')
    .option('--all-topics', 'every topic the group has committed offsets for')
    .option('--to <target>', 'earliest | latest | <offset> | <iso-time>', parseResetTarget)
    .option('--shift-by <n>', 'move each committed offset by n (negative: back), clamped into the log', parseSignedInteger)
    .option('-p, --partition <p>', 'only this partition (repeatable; default: every partition)', collectInteger('--partition'))
    .option('--dry-run', 'print the offsets the reset would commit, and change nothing')
    .addOption(adminFormatOption())
    .action(async (groupId: string, options: ResetOptions, command: Command) => {
      if ((options.topic === undefined) === (options.allTopics !== true)) command.error('group reset needs exactly one of --topic, --all-topics');
      if ((options.to === undefined) === (options.shiftBy === undefined)) command.error('group reset needs exactly one of --to, --shift-by');
      await withConnection(command, async (connection) => {
        const rows = await connection.request(() => resetGroup(connection.client.admin(), groupId, options));
        writeResult(options.format, { groupId, dryRun: options.dryRun === true, partitions: rows }, () => formatReset(groupId, rows, options.dryRun === true));
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
    ...(group.lockDurationMs !== undefined ? [`lock: ${group.lockDurationMs} ms  delivery limit: ${group.deliveryLimit}`] : []),
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
    ...(group.members.length > 0
      ? formatTable(['  MEMBER', 'CLIENT-ID', 'HOST'], group.members.map((member) => [`  ${member.memberId}`, member.clientId || '-', member.clientHost || '-'])).trimEnd().split('\n')
      : []),
    '',
  ].join('\n');
  const rows = [...group.offsets]
    .sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition)
    .map((o) => [o.topic, o.partition, o.memberId === '' ? '-' : o.memberId, o.committed < 0 ? '-' : o.committed, o.logEndOffset, o.committed < 0 ? '-' : o.lag]);
  return `${header}${formatTable(['TOPIC', 'PARTITION', 'MEMBER', 'COMMITTED', 'END', 'LAG'], rows)}`;
}

interface ResetOptions {
  topic?: string;
  allTopics?: boolean;
  to?: ResetTarget;
  shiftBy?: number;
  partition?: number[];
  dryRun?: boolean;
  format: AdminFormat;
}

interface ResetRow {
  topic: string;
  partition: number;
  /** The committed offset before the reset (-1: none). */
  previous: number;
  /** The offset committed (or, with --dry-run, that would be). */
  offset: number;
}

type Admin = ReturnType<Connection['client']['admin']>;

/**
 * Works out each partition's new offset from the committed offsets and the log's bounds
 * (as the broker does: an offset is clamped into [log start, log end], a time goes to the
 * first offset at or after it, else the log end), prints it with --dry-run, and otherwise
 * commits it: --to through the broker's ResetOffsets (one call per topic, the broker
 * computes), --shift-by as the computed offsets. The broker refuses a group with members.
 */
async function resetGroup(admin: Admin, groupId: string, options: ResetOptions): Promise<ResetRow[]> {
  const committed = await currentOffsets(admin, groupId);
  const topics = options.topic !== undefined ? [options.topic] : [...new Set(committed.map((entry) => entry.topic))].sort();
  if (topics.length === 0) throw new Error(`group ${groupId} has no committed offsets (give --topic)`);
  const previous = new Map(committed.map((entry) => [`${entry.topic}\u0000${entry.partition}`, entry.offset]));
  const rows: ResetRow[] = [];
  for (const topic of topics) {
    const [earliest, latest, atTime] = await Promise.all([
      admin.listOffsets({ topic, timestamp: 'earliest' }),
      admin.listOffsets({ topic, timestamp: 'latest' }),
      options.to?.kind === 'timestamp' ? admin.listOffsets({ topic, timestamp: options.to.timestamp }) : Promise.resolve([]),
    ]);
    const start = new Map(earliest.map((entry) => [entry.partition, entry.offset]));
    const time = new Map(atTime.map((entry) => [entry.partition, entry.offset]));
    const wanted = options.partition ?? latest.map((entry) => entry.partition);
    for (const partition of wanted) {
      const end = latest.find((entry) => entry.partition === partition)?.offset;
      if (end === undefined) throw new Error(`topic ${topic} has ${latest.length} partition${latest.length === 1 ? '' : 's'}; --partition ${partition} does not exist`);
      const low = start.get(partition) ?? 0;
      const before = previous.get(`${topic}\u0000${partition}`) ?? -1;
      const clamp = (offset: number): number => Math.min(Math.max(offset, low), end);
      let offset: number;
      if (options.shiftBy !== undefined) {
        // A partition without a committed offset has nothing to shift: it starts where the group would (its end).
        offset = clamp((before >= 0 ? before : end) + options.shiftBy);
      } else {
        const to = options.to!;
        offset = to.kind === 'earliest' ? low : to.kind === 'latest' ? end : to.kind === 'offset' ? clamp(to.offset) : (time.get(partition) ?? end);
      }
      rows.push({ topic, partition, previous: before, offset });
    }
  }
  if (options.dryRun === true) return rows;
  if (options.to !== undefined) {
    const applied: ResetRow[] = [];
    for (const topic of topics) {
      const partitions = rows.filter((row) => row.topic === topic).map((row) => row.partition);
      const result = await admin.resetOffsets({ groupId, topic, partitions, to: options.to });
      for (const entry of result) {
        applied.push({ topic, partition: entry.partition, previous: previous.get(`${topic}\u0000${entry.partition}`) ?? -1, offset: entry.offset });
      }
    }
    return applied;
  }
  // --shift-by: each partition's own offset (the broker clamps again against the log as it is then).
  const applied: ResetRow[] = [];
  for (const row of rows) {
    const [result] = await admin.resetOffsets({ groupId, topic: row.topic, partitions: [row.partition], to: { kind: 'offset', offset: row.offset } });
    applied.push({ ...row, offset: result?.offset ?? row.offset });
  }
  return applied;
}

/**
 * The group's committed offsets; for a share group (no commits), its start offsets per
 * share-partition (the broker's ResetOffsets moves those: src/groups/README.md "Share groups").
 */
async function currentOffsets(admin: Admin, groupId: string): Promise<Array<{ topic: string; partition: number; offset: number }>> {
  const committed = await admin.fetchOffsets({ groupId });
  if (committed.length > 0) return committed;
  try {
    const [share] = await admin.describeShareGroups({ groupIds: [groupId] });
    return (share?.partitions ?? []).map((entry) => ({ topic: entry.topic, partition: entry.partition, offset: entry.startOffset }));
  } catch (error) {
    if (isSpoolError(error, Errors.GROUP_ID_NOT_FOUND)) return committed;
    throw error;
  }
}

function formatReset(groupId: string, rows: ResetRow[], dryRun: boolean): string {
  const line = dryRun ? `dry run: group ${groupId} would be reset to (nothing changed)\n` : `reset group ${groupId}\n`;
  const sorted = [...rows].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
  return `${line}${formatTable(['TOPIC', 'PARTITION', 'PREVIOUS', 'NEW OFFSET'], sorted.map((row) => [row.topic, row.partition, row.previous < 0 ? '-' : row.previous, row.offset]))}`;
}

function parseSignedInteger(value: string): number {
  if (!/^[-+]?\d+$/.test(value.trim())) throw new InvalidArgumentError(`--shift-by must be an integer (negative moves back), got '${value}'`);
  return parseInt(value, 10);
}

function collectInteger(what: string): (value: string, previous: number[] | undefined) => number[] {
  return (value, previous) => [...(previous ?? []), parseInteger(value, what)];
}
