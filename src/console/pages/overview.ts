// Overview: the broker and its listeners, and totals over the topics (partitions, bytes,
// messages), polled every POLL_MS; messages/s is the change of the message total between
// polls, drawn as a sparkline of the last SPARKLINE_POINTS polls.

import { api } from '../api.js';
import { clear, h, table } from '../dom.js';
import { bytes, count, sparkline } from '../format.js';
import type { PageContext, Stop } from '../main.js';
import type { Overview } from '../../http/console-types.js';

const POLL_MS = 2000;
const SPARKLINE_POINTS = 60;

export async function overviewPage(context: PageContext): Promise<Stop> {
  const rates: number[] = [];
  let last: Overview | null = null;
  const stats = h('div', { class: 'stats' });
  const brokers = h('div', {});
  const rate = h('div', { class: 'card rate' });
  context.root.append(h('h1', {}, 'Overview'), stats, rate, h('h2', {}, 'Brokers'), brokers);
  const render = (overview: Overview): void => {
    if (last !== null) {
      const seconds = Math.max(0.001, (overview.nowMs - last.nowMs) / 1000);
      rates.push(Math.max(0, (overview.messages - last.messages) / seconds));
      if (rates.length > SPARKLINE_POINTS) rates.shift();
    }
    last = overview;
    clear(stats);
    stats.append(
      stat('topics', 'Topics', overview.topics, count(overview.topics)),
      stat('partitions', 'Partitions', overview.partitions, count(overview.partitions)),
      stat('messages', 'Messages', overview.messages, count(overview.messages)),
      stat('bytes', 'Size on disk', overview.sizeBytes, bytes(overview.sizeBytes)),
      stat('groups', 'Consumer groups', overview.groups, count(overview.groups)),
    );
    clear(rate);
    const now = rates.at(-1);
    rate.append(h('div', { class: 'label' }, 'Messages/s (appended)'), h('div', { class: 'value' }, now === undefined ? 'measuring…' : count(Math.round(now))), sparkline(rates, 480, 48, SPARKLINE_POINTS));
    clear(brokers);
    brokers.append(
      table(
        ['Node', 'Address', 'Listeners', 'Data directory'],
        overview.brokers.map((broker) => h('tr', { 'data-broker': broker.nodeId }, h('td', {}, broker.nodeId), h('td', {}, `${broker.host}:${broker.port}`), h('td', {}, broker.listeners.join(', ')), h('td', {}, broker.dataDir))),
      ),
    );
  };
  render(await api.overview());
  const timer = setInterval(() => {
    api.overview().then(render, context.fail);
  }, POLL_MS);
  return () => clearInterval(timer);
}

function stat(name: string, label: string, value: number, shown: string): HTMLElement {
  return h('div', { class: 'card', 'data-stat': name, 'data-value': value }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, shown));
}
