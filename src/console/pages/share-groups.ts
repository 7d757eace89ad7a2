// Share groups (queues): the list (members, partitions, records in flight, DLQ depth), and
// one group's members, a table per share-partition (start offset, log end, in flight,
// acquired, delivery-count histogram) and its dead-letter topic with its depth and a link
// to browse it on the messages page. One group's page polls every POLL_MS.

import { api } from '../api.js';
import { clear, h, table } from '../dom.js';
import { count } from '../format.js';
import type { PageContext, Stop } from '../main.js';
import type { ShareGroupDetail } from '../../http/console-types.js';

const POLL_MS = 2000;

const groupLink = (groupId: string): string => `#/share-groups/${encodeURIComponent(groupId)}`;
const dlqLink = (topic: string): string => `#/topics/${encodeURIComponent(topic)}/messages?partition=0`;

export async function shareGroupsPage(context: PageContext): Promise<void> {
  const { groups } = await api.shareGroups();
  const rows = groups.map((group) =>
    h(
      'tr',
      { 'data-share-group': group.groupId, 'data-members': group.members, 'data-in-flight': group.inFlight, 'data-dead-letters': group.deadLetters },
      h('td', {}, h('a', { href: groupLink(group.groupId) }, group.groupId)),
      h('td', { class: 'number' }, group.members),
      h('td', { class: 'number' }, group.partitions),
      h('td', { class: 'number' }, count(group.inFlight)),
      h('td', {}, group.deadLetterTopic),
      h('td', { class: 'number' }, count(group.deadLetters)),
    ),
  );
  context.root.append(
    h('h1', {}, 'Share groups'),
    groups.length === 0 ? h('p', { class: 'empty' }, 'No share groups yet.') : table(['Group', 'Members', 'Partitions', 'In flight', 'Dead-letter topic', 'Dead letters'], rows, { id: 'share-groups' }),
  );
}

export async function shareGroupPage(context: PageContext, groupId: string): Promise<Stop> {
  const summary = h('div', { class: 'stats' });
  const members = h('div', {});
  const partitions = h('div', {});
  const render = (group: ShareGroupDetail): void => {
    const inFlight = group.partitions.reduce((sum, p) => sum + p.inFlight, 0);
    const acquired = group.partitions.reduce((sum, p) => sum + p.acquired, 0);
    clear(summary);
    summary.append(
      card('members', 'Members', group.members.length, count(group.members.length)),
      card('in-flight', 'In flight', inFlight, count(inFlight)),
      card('acquired', 'Acquired', acquired, count(acquired)),
      h(
        'div',
        { class: 'card', 'data-stat': 'dead-letters', 'data-value': group.deadLetters, 'data-topic': group.deadLetterTopic },
        h('div', { class: 'label' }, 'Dead letters'),
        h('div', { class: 'value' }, count(group.deadLetters)),
        h('div', { class: 'mono' }, group.deadLetterTopic),
        group.deadLetterTopicExists ? h('a', { href: dlqLink(group.deadLetterTopic), id: 'browse-dlq' }, 'Browse dead letters') : h('span', { class: 'empty' }, 'no dead-letter topic yet'),
      ),
    );
    clear(members);
    members.append(
      group.members.length === 0
        ? h('p', { class: 'empty' }, 'No members seen lately.')
        : table(['Member'], group.members.map((memberId) => h('tr', { 'data-member': memberId }, h('td', { class: 'mono' }, memberId))), { id: 'share-members' }),
    );
    clear(partitions);
    partitions.append(
      group.partitions.length === 0
        ? h('p', { class: 'empty' }, 'No share-partitions yet.')
        : table(
            ['Topic', 'Partition', 'Start offset', 'Log end', 'In flight', 'Acquired', 'Delivery counts'],
            group.partitions.map((p) =>
              h(
                'tr',
                {
                  'data-topic': p.topic,
                  'data-partition': p.partition,
                  'data-start': p.startOffset,
                  'data-in-flight': p.inFlight,
                  'data-acquired': p.acquired,
                  'data-delivery-counts': JSON.stringify(p.deliveryCounts),
                },
                h('td', {}, p.topic),
                h('td', { class: 'number' }, p.partition),
                h('td', { class: 'number' }, count(p.startOffset)),
                h('td', { class: 'number' }, p.logEndOffset < 0 ? '–' : count(p.logEndOffset)),
                h('td', { class: 'number' }, count(p.inFlight)),
                h('td', { class: 'number' }, count(p.acquired)),
                // "delivered once: 3, twice: 1" as "1×: 3 · 2×: 1".
                h('td', {}, p.deliveryCounts.length === 0 ? '–' : p.deliveryCounts.map(([deliveries, records]) => `${deliveries}×: ${count(records)}`).join(' · ')),
              ),
            ),
            { id: 'share-partitions' },
          ),
    );
  };
  render(await api.shareGroup(groupId));
  context.root.append(h('h1', {}, h('a', { href: '#/share-groups' }, 'Share groups'), ' / ', groupId), summary, h('h2', {}, 'Members'), members, h('h2', {}, 'Share-partitions'), partitions);
  const timer = setInterval(() => {
    api.shareGroup(groupId).then(render, context.fail);
  }, POLL_MS);
  return () => clearInterval(timer);
}

function card(name: string, label: string, value: number, shown: string): HTMLElement {
  return h('div', { class: 'card', 'data-stat': name, 'data-value': value }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, shown));
}
