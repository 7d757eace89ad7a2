// The web console: a hash-routed single-page app over the admin port's /api/. No framework:
// each page is a function that fills #page and may return a stop function (for its poll
// timer). Routes:
//   #/                          overview (polls every POLL_MS for the messages/s sparkline)
//   #/topics                    topics, create, delete
//   #/topics/<name>             partitions and config
//   #/topics/<name>/messages    browse newest first (?partition=&before=)
//   #/groups                    consumer groups
//   #/groups/<id>               members, offsets and lag (chart), reset with a preview
//   #/share-groups              share groups (queues) and their DLQ depth
//   #/share-groups/<id>         members, per share-partition state, the DLQ (link to browse it)

import './style.css';
import { clear, h } from './dom.js';
import { groupPage, groupsPage } from './pages/groups.js';
import { messagesPage } from './pages/messages.js';
import { shareGroupPage, shareGroupsPage } from './pages/share-groups.js';
import { overviewPage } from './pages/overview.js';
import { topicPage, topicsPage } from './pages/topics.js';

export type Stop = () => void;
export interface PageContext {
  root: HTMLElement;
  params: URLSearchParams;
  /** Shows an error in the banner (the broker's code and message). */
  fail(error: unknown): void;
  /** Reloads the current route. */
  refresh(): void;
}

let stopPage: Stop | void;
let generation = 0;

function route(): void {
  stopPage?.();
  stopPage = undefined;
  const root = document.getElementById('page')!;
  clear(root);
  hideError();
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path = '/', query = ''] = hash.split('?');
  const parts = path.split('/').filter((part) => part !== '').map(decodeURIComponent);
  const params = new URLSearchParams(query);
  const mine = ++generation;
  const context: PageContext = { root, params, fail: (error) => mine === generation && showError(error), refresh: route };
  for (const link of document.querySelectorAll<HTMLAnchorElement>('nav a')) link.classList.toggle('active', link.dataset.nav === (parts[0] ?? 'overview'));
  const [section, name, sub] = parts;
  let page: Promise<Stop | void>;
  if (section === undefined) page = overviewPage(context);
  else if (section === 'topics' && name === undefined) page = topicsPage(context);
  else if (section === 'topics' && name !== undefined && sub === undefined) page = topicPage(context, name);
  else if (section === 'topics' && name !== undefined && sub === 'messages') page = messagesPage(context, name);
  else if (section === 'groups' && name === undefined) page = groupsPage(context);
  else if (section === 'groups' && name !== undefined) page = groupPage(context, name);
  else if (section === 'share-groups' && name === undefined) page = shareGroupsPage(context);
  else if (section === 'share-groups' && name !== undefined) page = shareGroupPage(context, name);
  else {
    root.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/' }, 'Overview')));
    return;
  }
  page.then(
    (stop) => {
      if (mine === generation) stopPage = stop;
      else stop?.();
      root.dataset.loaded = String(mine);
    },
    (error: unknown) => {
      showError(error);
      root.dataset.loaded = String(mine);
    },
  );
}

function showError(error: unknown): void {
  const banner = document.getElementById('error')!;
  banner.textContent = error instanceof Error ? error.message : String(error);
  banner.hidden = false;
}

function hideError(): void {
  const banner = document.getElementById('error')!;
  banner.hidden = true;
  banner.textContent = '';
}

window.addEventListener('hashchange', route);
route();
