// A topic's messages, newest first: one partition, a page of `limit` records before an
// offset (the log end by default), or from a time (the broker finds the first offset at or
// after it, as `spool consume --from-time` does). Keys, values and headers are shown as
// JSON (pretty-printed), text, or hex for binary; the search box filters the page shown.

import { api } from '../api.js';
import { h } from '../dom.js';
import { bytes, count, payload, time } from '../format.js';
import type { PageContext } from '../main.js';
import type { ShownBytes, ShownRecord } from '../../http/console-types.js';

const LIMITS = [20, 50, 100, 200];

export async function messagesPage(context: PageContext, topicName: string): Promise<void> {
  const topic = await api.topic(topicName);
  const partition = Number(context.params.get('partition') ?? 0);
  const beforeText = context.params.get('before');
  const before = beforeText === null || beforeText === '' ? null : Number(beforeText);
  const limit = Number(context.params.get('limit') ?? 50);
  const page = await api.messages(topicName, partition, before, limit);
  const go = (changes: Record<string, string | number | null>): void => {
    const params = new URLSearchParams({ partition: String(partition), limit: String(limit), ...(before === null ? {} : { before: String(before) }) });
    for (const [key, value] of Object.entries(changes)) value === null ? params.delete(key) : params.set(key, String(value));
    const hash = `#/topics/${encodeURIComponent(topicName)}/messages?${params}`;
    // The same route again (e.g. newest after producing): reload it, as no hashchange fires.
    if (location.hash === hash) context.refresh();
    else location.hash = hash;
  };

  const partitionSelect = h('select', { id: 'partition' }, ...topic.partitions.map((p) => h('option', { value: p.partition, selected: p.partition === partition }, `partition ${p.partition}`)));
  partitionSelect.addEventListener('change', () => go({ partition: partitionSelect.value, before: null }));
  const limitSelect = h('select', { id: 'limit' }, ...LIMITS.map((value) => h('option', { value, selected: value === limit }, `${value} per page`)));
  limitSelect.addEventListener('change', () => go({ limit: limitSelect.value }));
  const offsetInput = h('input', { id: 'offset', type: 'number', min: 0, placeholder: 'offset', value: before === null ? '' : Math.max(0, before - 1) });
  const offsetButton = h('button', { type: 'button', id: 'go-offset' }, 'Go to offset');
  offsetButton.addEventListener('click', () => go({ before: offsetInput.value === '' ? null : Number(offsetInput.value) + 1 }));
  const timeInput = h('input', { id: 'time', type: 'datetime-local', step: 1 });
  const timeButton = h('button', { type: 'button', id: 'go-time' }, 'Go to time');
  timeButton.addEventListener('click', () => {
    if (timeInput.value === '') return;
    // datetime-local has no zone: read it as UTC, like the times shown.
    const timestamp = Date.parse(`${timeInput.value}Z`);
    api.offsetForTime(topicName, partition, timestamp).then((answer) => go({ before: answer.offset + limit }), context.fail);
  });
  const search = h('input', { id: 'search', type: 'search', placeholder: 'Search this page' });

  const cards = page.records.map(recordCard);
  search.addEventListener('input', () => {
    const needle = search.value.toLowerCase();
    for (const card of cards) card.hidden = needle !== '' && !(card.textContent ?? '').toLowerCase().includes(needle);
  });
  const newest = page.records[0]?.offset;
  const oldest = page.records.at(-1)?.offset;
  context.root.append(
    h('h1', {}, h('a', { href: '#/topics' }, 'Topics'), ' / ', h('a', { href: `#/topics/${encodeURIComponent(topicName)}` }, topicName), ' / messages'),
    h('div', { class: 'toolbar' }, partitionSelect, limitSelect, offsetInput, offsetButton, timeInput, timeButton, search),
    h(
      'p',
      { id: 'range', 'data-start': page.logStartOffset, 'data-end': page.logEndOffset },
      `Partition ${partition}: offsets ${count(page.logStartOffset)} to ${count(page.logEndOffset)} (end). `,
      newest === undefined ? 'No messages here.' : `Showing ${count(oldest ?? 0)}–${count(newest)}, newest first.`,
    ),
    h(
      'div',
      { class: 'pager' },
      h('button', { type: 'button', id: 'newest', disabled: before === null, onclick: () => go({ before: null }) }, 'Newest'),
      h('button', { type: 'button', id: 'newer', disabled: before === null || newest === undefined || newest + 1 >= page.logEndOffset, onclick: () => go({ before: Math.min(page.logEndOffset, (newest ?? 0) + 1 + limit) }) }, 'Newer'),
      h('button', { type: 'button', id: 'older', disabled: page.olderBeforeOffset === null, onclick: () => go({ before: page.olderBeforeOffset }) }, 'Older'),
    ),
    h('div', { id: 'records' }, ...cards),
    produceForm(context, topicName, partition, () => go({ before: null })),
  );
}

/** Produces one message (text key, value and headers) to the partition shown, with acks all. */
function produceForm(context: PageContext, topicName: string, partition: number, done: () => void): HTMLElement {
  const key = h('input', { id: 'produce-key', placeholder: 'key (empty: null)', autocomplete: 'off' });
  const value = h('textarea', { id: 'produce-value', rows: 3, placeholder: '{"hello": "world"}' });
  const headers = h('input', { id: 'produce-headers', placeholder: 'headers: k=v, k2=v2', autocomplete: 'off' });
  const form = h(
    'form',
    { class: 'card form', id: 'produce' },
    h('h2', {}, `Produce a test message to partition ${partition}`),
    key,
    value,
    headers,
    h('button', { type: 'submit', id: 'produce-submit' }, 'Produce'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const pairs: Record<string, string> = {};
    for (const part of headers.value.split(',')) {
      const trimmed = part.trim();
      if (trimmed === '') continue;
      const at = trimmed.indexOf('=');
      if (at <= 0) return context.fail(new Error(`header ${JSON.stringify(trimmed)} is not k=v`));
      pairs[trimmed.slice(0, at).trim()] = trimmed.slice(at + 1).trim();
    }
    api.produce(topicName, partition, key.value === '' ? null : key.value, value.value, pairs).then(done, context.fail);
  });
  return form;
}

function recordCard(record: ShownRecord): HTMLElement {
  return h(
    'article',
    { class: 'record card', 'data-offset': record.offset },
    h('div', { class: 'meta' }, h('span', { class: 'offset' }, `#${record.offset}`), h('span', {}, time(record.timestamp)), h('span', {}, 'key: ', shownInline(record.key))),
    record.headers.length === 0 ? null : h('div', { class: 'headers' }, ...record.headers.map((header) => h('span', { class: 'header' }, `${header.key}=`, shownInline(header.value)))),
    shownBlock(record.value),
  );
}

function shownInline(value: ShownBytes | null): HTMLElement {
  const shown = payload(value);
  if (shown.kind === 'null') return h('code', { class: 'null' }, 'null');
  return h('code', { class: shown.kind }, shown.text);
}

function shownBlock(value: ShownBytes | null): HTMLElement {
  const shown = payload(value);
  const size = value === null ? '' : ` · ${bytes(value.bytes)}`;
  return h('div', { class: 'value' }, h('div', { class: 'kind' }, `value · ${shown.kind}${size}`), h('pre', { class: shown.kind }, shown.kind === 'null' ? 'null' : shown.text));
}
