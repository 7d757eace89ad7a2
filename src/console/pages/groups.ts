// Consumer groups: the list (state, members), and one group's members, per-partition
// committed offset, log end and lag (polled every POLL_MS; total lag drawn over time), and
// a reset of its offsets for one topic: Preview asks the broker for a dry run (the same
// ResetOffsets path with dryRun: every check, no write) and shows current -> new per
// partition; Apply, after a confirmation, runs it for real.

import { api } from '../api.js';
import { clear, h, table } from '../dom.js';
import { count, sparkline } from '../format.js';
import type { PageContext, Stop } from '../main.js';
import type { GroupDescription, ResetTarget } from '../../http/console-types.js';
import { confirmDialog } from './confirm.js';

const POLL_MS = 2000;
const LAG_POINTS = 90;

export async function groupsPage(context: PageContext): Promise<void> {
  const { groups } = await api.groups();
  const rows = groups.map((group) =>
    h(
      'tr',
      { 'data-group': group.groupId, 'data-state': group.state, 'data-members': group.members },
      h('td', {}, h('a', { href: `#/groups/${encodeURIComponent(group.groupId)}` }, group.groupId)),
      h('td', {}, h('span', { class: `state ${group.state}` }, group.state)),
      h('td', { class: 'number' }, group.members),
      h('td', {}, group.kind ?? 'consumer'),
    ),
  );
  context.root.append(h('h1', {}, 'Consumer groups'), groups.length === 0 ? h('p', { class: 'empty' }, 'No consumer groups yet.') : table(['Group', 'State', 'Members', 'Kind'], rows, { id: 'groups' }));
}

export async function groupPage(context: PageContext, groupId: string): Promise<Stop> {
  const lags: number[] = [];
  const summary = h('div', { class: 'stats' });
  const chart = h('div', { class: 'card rate' });
  const members = h('div', {});
  const offsets = h('div', {});
  let latest = await api.group(groupId);
  const render = (group: GroupDescription): void => {
    latest = group;
    const totalLag = group.offsets.reduce((sum, o) => sum + Math.max(0, o.lag), 0);
    lags.push(totalLag);
    if (lags.length > LAG_POINTS) lags.shift();
    clear(summary);
    summary.append(
      card('state', 'State', group.state, group.state),
      card('members', 'Members', group.members.length, count(group.members.length)),
      card('lag', 'Total lag', totalLag, count(totalLag)),
      card('epoch', 'Epoch', group.groupEpoch, String(group.groupEpoch)),
    );
    clear(chart);
    chart.append(h('div', { class: 'label' }, 'Total lag over time'), sparkline(lags, 480, 48, LAG_POINTS));
    clear(members);
    members.append(
      group.members.length === 0
        ? h('p', { class: 'empty' }, 'No active members.')
        : table(
            ['Member', 'Client', 'Epoch', 'Assignment'],
            group.members.map((m) =>
              h('tr', { 'data-member': m.memberId }, h('td', { class: 'mono' }, m.memberId), h('td', {}, m.clientId), h('td', {}, m.memberEpoch), h('td', {}, m.assignment.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; '))),
            ),
          ),
    );
    clear(offsets);
    offsets.append(
      table(
        ['Topic', 'Partition', 'Member', 'Committed', 'Log end', 'Lag'],
        group.offsets.map((o) =>
          h(
            'tr',
            { 'data-topic': o.topic, 'data-partition': o.partition, 'data-committed': o.committed, 'data-lag': o.lag },
            h('td', {}, o.topic),
            h('td', { class: 'number' }, o.partition),
            h('td', { class: 'mono' }, o.memberId === '' ? '–' : o.memberId),
            h('td', { class: 'number' }, o.committed < 0 ? '–' : count(o.committed)),
            h('td', { class: 'number' }, count(o.logEndOffset)),
            h('td', { class: 'number' }, count(o.lag)),
          ),
        ),
        { id: 'offsets' },
      ),
    );
  };
  render(latest);
  context.root.append(
    h('h1', {}, h('a', { href: '#/groups' }, 'Consumer groups'), ' / ', groupId),
    summary,
    chart,
    h('h2', {}, 'Members'),
    members,
    h('h2', {}, 'Offsets and lag'),
    offsets,
    resetForm(context, groupId, () => latest),
  );
  const timer = setInterval(() => {
    api.group(groupId).then(render, context.fail);
  }, POLL_MS);
  return () => clearInterval(timer);
}

function card(name: string, label: string, value: number | string, shown: string): HTMLElement {
  return h('div', { class: 'card', 'data-stat': name, 'data-value': value }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, shown));
}

function resetForm(context: PageContext, groupId: string, current: () => GroupDescription): HTMLElement {
  const topics = [...new Set(current().offsets.map((o) => o.topic))];
  const topic = h('select', { id: 'reset-topic' }, ...topics.map((name) => h('option', { value: name }, name)));
  const kind = h('select', { id: 'reset-kind' }, h('option', { value: 'earliest' }, 'earliest'), h('option', { value: 'latest' }, 'latest'), h('option', { value: 'offset' }, 'offset'), h('option', { value: 'timestamp' }, 'time (UTC)'));
  const offset = h('input', { id: 'reset-offset', type: 'number', min: 0, placeholder: 'offset', hidden: true });
  const when = h('input', { id: 'reset-time', type: 'datetime-local', step: 1, hidden: true });
  kind.addEventListener('change', () => {
    offset.hidden = kind.value !== 'offset';
    when.hidden = kind.value !== 'timestamp';
  });
  const preview = h('div', { id: 'reset-preview' });
  const apply = h('button', { type: 'button', class: 'danger', id: 'reset-apply', disabled: true }, 'Apply reset');
  const target = (): ResetTarget | null => {
    if (kind.value === 'earliest' || kind.value === 'latest') return { kind: kind.value };
    if (kind.value === 'offset') return offset.value === '' ? null : { kind: 'offset', offset: Number(offset.value) };
    return when.value === '' ? null : { kind: 'timestamp', timestamp: Date.parse(`${when.value}Z`) };
  };
  let previewed: { topic: string; to: ResetTarget } | null = null;
  const invalidate = (): void => {
    previewed = null;
    apply.disabled = true;
    clear(preview);
  };
  for (const input of [topic, kind, offset, when]) input.addEventListener('input', invalidate);
  const previewButton = h('button', { type: 'button', id: 'reset-preview-button' }, 'Preview (dry run)');
  previewButton.addEventListener('click', () => {
    const to = target();
    if (to === null) return context.fail(new Error('give an offset or a time to reset to'));
    api.resetGroup(groupId, topic.value, to, true).then((result) => {
      const committed = new Map(current().offsets.filter((o) => o.topic === topic.value).map((o) => [o.partition, o.committed]));
      clear(preview);
      preview.append(
        table(
          ['Partition', 'Committed now', 'After reset'],
          result.partitions.map((p) => h('tr', { 'data-partition': p.partition, 'data-new-offset': p.offset }, h('td', {}, p.partition), h('td', { class: 'number' }, (committed.get(p.partition) ?? -1) < 0 ? '–' : count(committed.get(p.partition)!)), h('td', { class: 'number' }, count(p.offset)))),
          { id: 'reset-preview-table' },
        ),
      );
      previewed = { topic: topic.value, to };
      apply.disabled = false;
    }, context.fail);
  });
  apply.addEventListener('click', () => {
    const planned = previewed;
    if (planned === null) return;
    void confirmDialog({ title: `Reset ${groupId} on ${planned.topic}?`, body: 'The committed offsets are replaced by the previewed ones. The group must have no active members.', action: 'Reset' }).then((yes) => {
      if (!yes) return;
      api.resetGroup(groupId, planned.topic, planned.to, false).then(() => context.refresh(), context.fail);
    });
  });
  return h('div', { class: 'card form', id: 'reset' }, h('h2', {}, 'Reset offsets'), h('div', { class: 'toolbar' }, topic, kind, offset, when, previewButton, apply), preview);
}
