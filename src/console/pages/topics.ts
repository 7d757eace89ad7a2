// Topics: the list (partitions, messages, size) with create and delete, and one topic's
// partitions (start/end offsets, size, segments) and config. Delete asks for the topic's
// name to be typed again; create sends name, partitions and `key=value` config lines to
// the broker, which validates them as `spool topic create` does.

import { api } from '../api.js';
import { h, table } from '../dom.js';
import { bytes, count } from '../format.js';
import type { PageContext } from '../main.js';
import { confirmDialog } from './confirm.js';

export async function topicsPage(context: PageContext): Promise<void> {
  const { topics } = await api.topics();
  const rows = topics.map((topic) =>
    h(
      'tr',
      { 'data-topic': topic.name, 'data-partitions': topic.partitions, 'data-messages': topic.messages, 'data-size': topic.sizeBytes },
      h('td', {}, h('a', { href: `#/topics/${encodeURIComponent(topic.name)}` }, topic.name)),
      h('td', { class: 'number' }, count(topic.partitions)),
      h('td', { class: 'number' }, count(topic.messages)),
      h('td', { class: 'number' }, bytes(topic.sizeBytes)),
      h(
        'td',
        { class: 'actions' },
        h('a', { href: `#/topics/${encodeURIComponent(topic.name)}/messages` }, 'Messages'),
        h('button', { class: 'danger', 'data-delete': topic.name, onclick: () => void deleteTopic(context, topic.name) }, 'Delete'),
      ),
    ),
  );
  context.root.append(
    h('h1', {}, 'Topics'),
    topics.length === 0 ? h('p', { class: 'empty' }, 'No topics yet.') : table(['Name', 'Partitions', 'Messages', 'Size'], rows, { id: 'topics' }),
    createForm(context),
  );
}

function createForm(context: PageContext): HTMLElement {
  const name = h('input', { id: 'topic-name', required: true, placeholder: 'orders', autocomplete: 'off' });
  const partitions = h('input', { id: 'topic-partitions', type: 'number', min: 1, value: 1, required: true });
  const config = h('textarea', { id: 'topic-config', rows: 3, placeholder: 'retention.ms=86400000\ncleanup.policy=compact' });
  const form = h(
    'form',
    { class: 'card form', id: 'create-topic' },
    h('h2', {}, 'Create a topic'),
    h('label', {}, 'Name', name),
    h('label', {}, 'Partitions', partitions),
    h('label', {}, 'Config (key=value per line)', config),
    h('button', { type: 'submit', id: 'create-topic-submit' }, 'Create'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const entries = configLines(config.value);
    if (entries instanceof Error) return context.fail(entries);
    api.createTopic(name.value.trim(), Number(partitions.value), entries).then(() => {
      location.hash = `#/topics/${encodeURIComponent(name.value.trim())}`;
    }, context.fail);
  });
  return form;
}

/** `key=value` lines as a config map, or the Error naming the first bad line. */
function configLines(text: string): Record<string, string> | Error {
  const entries: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    const at = trimmed.indexOf('=');
    if (at <= 0) return new Error(`config line ${JSON.stringify(trimmed)} is not key=value`);
    entries[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
  }
  return entries;
}

async function deleteTopic(context: PageContext, name: string): Promise<void> {
  const confirmed = await confirmDialog({
    title: `Delete topic ${name}?`,
    body: 'Every partition and message of the topic is deleted. This cannot be undone.',
    typeToConfirm: name,
    action: 'Delete',
  });
  if (!confirmed) return;
  await api.deleteTopic(name).then(context.refresh, context.fail);
}

export async function topicPage(context: PageContext, name: string): Promise<void> {
  const topic = await api.topic(name);
  const totals = topic.partitions.reduce((sum, p) => ({ messages: sum.messages + p.logEndOffset - p.logStartOffset, size: sum.size + p.sizeBytes }), { messages: 0, size: 0 });
  const link = (partition: number): string => `#/topics/${encodeURIComponent(name)}/messages?partition=${partition}`;
  const rows = topic.partitions.map((p) =>
    h(
      'tr',
      { 'data-partition': p.partition, 'data-start': p.logStartOffset, 'data-end': p.logEndOffset, 'data-size': p.sizeBytes },
      h('td', {}, h('a', { href: link(p.partition) }, p.partition)),
      h('td', { class: 'number' }, count(p.logStartOffset)),
      h('td', { class: 'number' }, count(p.logEndOffset)),
      h('td', { class: 'number' }, count(p.logEndOffset - p.logStartOffset)),
      h('td', { class: 'number' }, bytes(p.sizeBytes)),
      h('td', { class: 'number' }, p.segments),
    ),
  );
  const configRows = Object.entries(topic.config)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => h('tr', { 'data-config': key }, h('td', {}, key), h('td', { class: 'mono' }, String(value))));
  context.root.append(
    h('h1', {}, h('a', { href: '#/topics' }, 'Topics'), ' / ', name),
    h('p', {}, `${topic.partitions.length} partitions · ${count(totals.messages)} messages · ${bytes(totals.size)} · `, h('a', { href: link(0) }, 'Browse messages')),
    h('h2', {}, 'Partitions'),
    table(['Partition', 'Start offset', 'End offset', 'Messages', 'Size', 'Segments'], rows, { id: 'partitions' }),
    addPartitionsForm(context, name, topic.partitions.length),
    h('h2', {}, 'Config'),
    // With ACLs on, a principal may Describe a topic without DescribeConfigs: say so instead of an empty table.
    topic.configAuthorized ? table(['Key', 'Value'], configRows, { id: 'config' }) : h('p', { id: 'config-denied' }, 'Not shown: your user may not DescribeConfigs on this topic.'),
    alterConfigForm(context, name),
  );
}

function alterConfigForm(context: PageContext, name: string): HTMLElement {
  const lines = h('textarea', { id: 'alter-config', rows: 2, placeholder: 'retention.ms=3600000' });
  const form = h('form', { class: 'card form', id: 'alter-config-form' }, h('h2', {}, 'Set configs'), h('label', {}, 'key=value per line (the others keep their values)', lines), h('button', { type: 'submit', id: 'alter-config-submit' }, 'Set'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const entries = configLines(lines.value);
    if (entries instanceof Error) return context.fail(entries);
    api.alterConfig(name, entries).then(context.refresh, context.fail);
  });
  return form;
}

function addPartitionsForm(context: PageContext, name: string, current: number): HTMLElement {
  const count = h('input', { id: 'partition-count', type: 'number', min: current + 1, value: current + 1 });
  const button = h('button', { type: 'button', id: 'add-partitions' }, 'Add partitions');
  button.addEventListener('click', () => {
    const wanted = Number(count.value);
    void confirmDialog({ title: `Grow ${name} to ${wanted} partitions?`, body: 'Partitions can be added but never removed; keys may map to other partitions from now on.', action: 'Add partitions' }).then((yes) => {
      if (yes) api.addPartitions(name, wanted).then(context.refresh, context.fail);
    });
  });
  return h('div', { class: 'toolbar' }, h('label', {}, 'Partition count '), count, button);
}
