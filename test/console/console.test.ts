// Proves the web console works in a real browser against a real broker: a `spool serve`
// child (admin port on port 0) is filled through the SDK (JSON, text and binary values,
// keys and headers, a group with committed offsets), then Debian's headless chromium
// (puppeteer-core, /usr/bin/chromium; no browser download) opens every page and the numbers
// it shows are checked against the SDK's view (listOffsets, describeTopics,
// describeGroups, fetchOffsets); browsing by time starts at the first message at or after
// it. Through the UI it produces a test message (the SDK sees
// the log end move; the page shows it first), creates a topic (the SDK sees its partitions
// and config), grows it to more partitions, sets a config, deletes it behind the typed confirmation, previews a group reset
// (a dry run: the SDK still sees the old offsets) and applies it (the SDK sees the new
// ones). Any console error, uncaught page error or failed (>= 400) request of the page fails
// the test. A share group made with the SDK's shareConsumer (4 accepted, 1 rejected into the
// DLQ, 1 held) shows the members, per-partition state and DLQ depth that
// admin.describeShareGroups reports, and its DLQ link browses the dead letter. Screenshots of each page go to test-output/console/ (git-ignored; the README's
// pictures in docs/console/ are copies of them).

import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomTopic, waitFor } from '../helpers/broker.js';
import { useBroker } from '../helpers/use-broker.js';

const CHROMIUM = '/usr/bin/chromium';

// The callbacks given to page.$eval / waitForFunction run in the browser. The type-check
// config of the tests has no DOM types, so they see the few page names they use as these.
interface PageElement {
  hidden: boolean;
  value: string;
  disabled: boolean;
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: { getElementById(id: string): PageElement | null; querySelector(selector: string): PageElement | null; querySelectorAll(selector: string): { length: number } };
declare const location: { hash: string };
const OUTPUT = resolve(dirname(fileURLToPath(import.meta.url)), '../../test-output/console');
// CI installs chromium (.ci/run); elsewhere a machine without it skips rather than fails.
const haveBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';

describe.skipIf(!haveBrowser)('web console in headless chromium', () => {
  const shared = useBroker();
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  const topic = randomTopic('orders');
  const other = randomTopic('audit');
  const groupId = randomTopic('kitchen');
  const timed = randomTopic('ticks');
  const T0 = Date.UTC(2026, 0, 2, 3, 0, 0);
  const perPartition = [23, 17, 9];

  beforeAll(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }, { topic: other, numPartitions: 1, config: { 'cleanup.policy': 'compact' } }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    for (const [partition, count] of perPartition.entries()) {
      await producer.send({
        topic,
        messages: Array.from({ length: count }, (_, i) => ({
          partition,
          key: `table-${i % 5}`,
          value: i % 3 === 2 ? Buffer.from([0xde, 0xad, 0xbe, 0xef, i]) : i % 3 === 1 ? `plain text ${i}` : JSON.stringify({ order: i, items: ['tea', 'toast'], table: i % 5 }),
          headers: { source: 'console-test', seq: String(i) },
        })),
      });
    }
    await producer.send({ topic: other, messages: [{ key: 'k', value: 'v' }] });
    // One message a minute from T0, for browsing by time.
    await admin.createTopics({ topics: [{ topic: timed, numPartitions: 1 }] });
    await producer.send({ topic: timed, messages: Array.from({ length: 40 }, (_, i) => ({ value: `tick ${i}`, timestamp: T0 + i * 60_000 })) });
    await producer.close();
    await admin.resetOffsets({ groupId, topic, to: { offset: 4 } });

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 860 });
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error instanceof Error ? error.message : String(error)}`));
    page.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
  });

  const base = (): string => `http://${shared.broker().httpAddress!}`;

  /** Navigates to a console route and waits until its page has rendered. */
  async function open(route: string): Promise<void> {
    const loaded = await page.$eval('#page', (element) => (element as unknown as PageElement).dataset.loaded ?? '').catch(() => '');
    if (page.url().startsWith(base())) await page.evaluate((hash) => (location.hash = hash), route);
    else await page.goto(`${base()}/${route}`, { waitUntil: 'load' });
    await page.waitForFunction((before) => {
      const current = (document.getElementById('page') as unknown as PageElement | null)?.dataset.loaded;
      return current !== undefined && current !== before;
    }, {}, loaded);
  }

  const shot = (name: string, fullPage = true): Promise<unknown> => page.screenshot({ path: join(OUTPUT, `${name}.png`), fullPage });
  const dataOf = (selector: string, name: string): Promise<string | null> => page.$eval(selector, (element, attribute) => element.getAttribute(attribute), name);

  async function logEnds(name: string): Promise<Map<number, { start: number; end: number }>> {
    const admin = shared.client().admin();
    const [starts, ends] = await Promise.all([admin.listOffsets({ topic: name, timestamp: 'earliest' }), admin.listOffsets({ topic: name, timestamp: 'latest' })]);
    return new Map(ends.map((entry) => [entry.partition, { start: starts.find((s) => s.partition === entry.partition)!.offset, end: entry.offset }]));
  }

  it('overview shows the totals the SDK sees', async () => {
    await open('#/');
    const admin = shared.client().admin();
    const topics = await admin.listTopics();
    let messages = 0;
    let partitions = 0;
    for (const name of topics) {
      for (const { start, end } of (await logEnds(name)).values()) {
        messages += end - start;
        partitions++;
      }
    }
    expect(Number(await dataOf('[data-stat=topics]', 'data-value'))).toBe(topics.length);
    expect(Number(await dataOf('[data-stat=partitions]', 'data-value'))).toBe(partitions);
    expect(Number(await dataOf('[data-stat=messages]', 'data-value'))).toBe(messages);
    expect(Number(await dataOf('[data-stat=bytes]', 'data-value'))).toBeGreaterThan(0);
    expect(await page.$eval('[data-broker="0"]', (row) => row.textContent)).toContain(shared.address());
    // The messages/s sparkline draws once the page has polled twice more (every 2 s): produce meanwhile.
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic: other, messages: Array.from({ length: 120 }, (_, i) => ({ key: `k${i % 7}`, value: `burst ${i}` })) });
    await producer.close();
    await page.waitForSelector('.rate svg.sparkline polyline', { timeout: 10_000 });
    await shot('overview');
  });

  it('topics and a topic page show the partitions, offsets and config the SDK sees', async () => {
    await open('#/topics');
    const row = `tr[data-topic="${topic}"]`;
    expect(Number(await dataOf(row, 'data-partitions'))).toBe(3);
    expect(Number(await dataOf(row, 'data-messages'))).toBe(perPartition.reduce((a, b) => a + b, 0));
    await shot('topics');

    await open(`#/topics/${topic}`);
    const [description] = await shared.client().admin().describeTopics({ topics: [topic] });
    for (const [partition, { start, end }] of await logEnds(topic)) {
      const selector = `#partitions tr[data-partition="${partition}"]`;
      expect(Number(await dataOf(selector, 'data-start'))).toBe(start);
      expect(Number(await dataOf(selector, 'data-end'))).toBe(end);
      expect(Number(await dataOf(selector, 'data-size'))).toBe(description!.partitions[partition]!.sizeBytes);
    }
    expect(await page.$eval('#config tr[data-config="retention.ms"] td:last-child', (cell) => cell.textContent)).toBe(String(description!.config['retention.ms']));
    await shot('topic');
  });

  it('messages: newest first, JSON pretty-printed, binary as hex, keys and headers, paging', async () => {
    await open(`#/topics/${topic}/messages?partition=0&limit=20`);
    const offsets = await page.$$eval('#records [data-offset]', (cards) => cards.map((card) => Number(card.getAttribute('data-offset'))));
    const end = perPartition[0]!;
    expect(offsets).toEqual(Array.from({ length: 20 }, (_, i) => end - 1 - i));
    // Offset 21: i % 3 === 0, a JSON value; 20 binary; 19 text.
    const value = (offset: number): Promise<{ kind: string; text: string }> =>
      page.$eval(`[data-offset="${offset}"] .value pre`, (pre) => ({ kind: pre.className, text: pre.textContent ?? '' }));
    expect(await value(21)).toEqual({ kind: 'json', text: JSON.stringify({ order: 21, items: ['tea', 'toast'], table: 1 }, null, 2) });
    expect(await value(20)).toEqual({ kind: 'hex', text: 'de ad be ef 14' });
    expect(await value(19)).toEqual({ kind: 'text', text: 'plain text 19' });
    const meta = await page.$eval('[data-offset="21"]', (card) => card.textContent ?? '');
    expect(meta).toContain('table-1');
    expect(meta).toContain('seq=21');
    await shot('messages', false);
    await page.click('#older');
    await page.waitForFunction(() => document.querySelector('#records [data-offset]')?.getAttribute('data-offset') === '2');
    expect(await page.$$eval('#records [data-offset]', (cards) => cards.length)).toBe(3);
    // Search within the page hides the records that do not match.
    await page.type('#search', 'seq=1');
    expect(await page.$$eval('#records [data-offset]', (cards) => cards.filter((card) => !(card as unknown as PageElement).hidden).map((card) => card.getAttribute('data-offset')))).toEqual(['1']);

    // By time: the page starts at the first message at or after it (found by the broker's ListOffsets).
    await open(`#/topics/${timed}/messages?partition=0&limit=20`);
    await page.$eval('#time', (input, value) => ((input as unknown as PageElement).value = value), new Date(T0 + 2.5 * 60_000).toISOString().slice(0, 19));
    await page.click('#go-time');
    await page.waitForFunction(() => document.querySelector('#records [data-offset]')?.getAttribute('data-offset') === '22');
    const ticks = await page.$$eval('#records [data-offset]', (cards) => cards.map((card) => Number(card.getAttribute('data-offset'))));
    expect(ticks).toEqual(Array.from({ length: 20 }, (_, i) => 22 - i));
    await open(`#/topics/${topic}/messages?partition=0&limit=20`);

        // Produce a test message through the form: it lands at the log end and shows first.
    const endBefore = (await logEnds(topic)).get(0)!.end;
    await page.type('#produce-key', 'console-key');
    await page.type('#produce-value', '{"from":"console"}');
    await page.type('#produce-headers', 'via=ui');
    await page.click('#produce-submit');
    await waitFor(async () => (await logEnds(topic)).get(0)!.end === endBefore + 1);
    await page.waitForFunction((offset) => document.querySelector('#records [data-offset]')?.getAttribute('data-offset') === String(offset), {}, endBefore);
    const produced = await page.$eval(`[data-offset="${endBefore}"]`, (card) => card.textContent ?? '');
    expect(produced).toContain('console-key');
    expect(produced).toContain('via=ui');
    expect(await value(endBefore)).toEqual({ kind: 'json', text: JSON.stringify({ from: 'console' }, null, 2) });
  });

  it('creates a topic through the form and deletes it behind the typed confirmation', async () => {
    const created = randomTopic('created');
    await open('#/topics');
    await page.type('#topic-name', created);
    await page.$eval('#topic-partitions', (input) => ((input as unknown as PageElement).value = ''));
    await page.type('#topic-partitions', '4');
    await page.type('#topic-config', 'retention.ms=60000\ncleanup.policy=compact');
    await page.click('#create-topic-submit');
    await page.waitForFunction((name) => location.hash === `#/topics/${name}` && document.querySelectorAll('#partitions tbody tr').length === 4, {}, created);
    const [description] = await shared.client().admin().describeTopics({ topics: [created] });
    expect(description!.partitions).toHaveLength(4);
    expect(description!.config).toMatchObject({ 'retention.ms': 60000, 'cleanup.policy': 'compact' });

    // Grow it to 6 partitions (behind a confirmation).
    await page.$eval('#partition-count', (input) => ((input as unknown as PageElement).value = ''));
    await page.type('#partition-count', '6');
    await page.click('#add-partitions');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-ok');
    await page.waitForFunction(() => document.querySelectorAll('#partitions tbody tr').length === 6);
    expect((await shared.client().admin().describeTopics({ topics: [created] }))[0]!.partitions).toHaveLength(6);

    // Set a config (the others keep theirs).
    await page.type('#alter-config', 'retention.ms=120000');
    await page.click('#alter-config-submit');
    await page.waitForFunction(() => document.querySelector('#config tr[data-config="retention.ms"] td:last-child')?.textContent === '120000');
    expect((await shared.client().admin().describeTopics({ topics: [created] }))[0]!.config).toMatchObject({ 'retention.ms': 120000, 'cleanup.policy': 'compact' });

    await open('#/topics');
    await page.click(`button[data-delete="${created}"]`);
    await page.waitForSelector('dialog#confirm[open]');
    expect(await page.$eval('#confirm-ok', (button) => (button as unknown as PageElement).disabled)).toBe(true);
    await page.type('#confirm-text', created);
    await page.click('#confirm-ok');
    await waitFor(async () => !(await shared.client().admin().listTopics()).includes(created));
    await page.waitForFunction((name) => document.querySelector(`tr[data-topic="${name}"]`) === null, {}, created);
  });

  it('groups: state, committed offsets and lag as the SDK sees them; reset previews, then applies', async () => {
    await open('#/groups');
    expect(await dataOf(`tr[data-group="${groupId}"]`, 'data-state')).toBe('empty');
    await shot('groups');

    await open(`#/groups/${groupId}`);
    const [described] = await shared.client().admin().describeGroups({ groupIds: [groupId] });
    for (const entry of described!.offsets) {
      const selector = `#offsets tr[data-topic="${entry.topic}"][data-partition="${entry.partition}"]`;
      expect(Number(await dataOf(selector, 'data-committed'))).toBe(entry.committed);
      expect(Number(await dataOf(selector, 'data-lag'))).toBe(entry.lag);
    }
    const ends = await logEnds(topic);
    expect(Number(await dataOf('[data-stat=lag]', 'data-value'))).toBe([...ends.values()].reduce((sum, { end }) => sum + end - 4, 0));

    await page.select('#reset-topic', topic);
    await page.select('#reset-kind', 'latest');
    await page.click('#reset-preview-button');
    await page.waitForSelector('#reset-preview-table');
    for (const [partition, { end }] of ends) expect(Number(await dataOf(`#reset-preview-table tr[data-partition="${partition}"]`, 'data-new-offset'))).toBe(end);
    await shot('group-reset-preview');
    // The preview was a dry run: nothing committed moved.
    expect((await shared.client().admin().fetchOffsets({ groupId })).map((entry) => entry.offset)).toEqual([4, 4, 4]);

    await page.click('#reset-apply');
    await page.waitForSelector('dialog#confirm[open]');
    await page.click('#confirm-ok');
    await waitFor(async () => (await shared.client().admin().fetchOffsets({ groupId })).every((entry) => entry.offset === ends.get(entry.partition)!.end));
    await page.waitForFunction(() => document.querySelector('[data-stat=lag]')?.getAttribute('data-value') === '0');
    await shot('group');
  });

  it('share groups: members, per-partition state and the DLQ depth as admin.describeShareGroups sees them; the DLQ browses', async () => {
    const jobs = randomTopic('jobs');
    const workers = randomTopic('workers');
    const admin = shared.client().admin();
    await admin.createTopics({ topics: [{ topic: jobs, numPartitions: 1 }] });
    const producer = shared.client().producer({ lingerMs: 0 });
    await producer.send({ topic: jobs, messages: Array.from({ length: 6 }, (_, i) => ({ partition: 0, key: `job-${i}`, value: `job ${i}` })) });
    await producer.close();
    // Accept 4, reject 1 (-> the DLQ), and keep holding the 6th (acquired, in flight) while the page is checked.
    const consumer = shared.client().shareConsumer({ groupId: workers, maxWaitMs: 100 });
    await consumer.subscribe({ topics: [jobs] });
    let seen = 0;
    for await (const message of consumer) {
      seen++;
      if (seen === 6) break;
      if (seen === 3) await message.reject('burnt');
      else await message.ack();
    }
    try {
      const [described] = await admin.describeShareGroups({ groupIds: [workers] });
      expect(described!.deadLetters).toBe(1);
      expect(described!.members).toHaveLength(1);

      await open('#/share-groups');
      const row = `tr[data-share-group="${workers}"]`;
      expect(Number(await dataOf(row, 'data-members'))).toBe(1);
      expect(Number(await dataOf(row, 'data-dead-letters'))).toBe(1);
      await shot('share-groups');

      await open(`#/share-groups/${workers}`);
      expect(Number(await dataOf('[data-stat=members]', 'data-value'))).toBe(described!.members.length);
      expect(Number(await dataOf('[data-stat=dead-letters]', 'data-value'))).toBe(described!.deadLetters);
      expect(await dataOf('[data-stat=dead-letters]', 'data-topic')).toBe(described!.deadLetterTopic);
      expect(await dataOf(`#share-members tr[data-member="${described!.members[0]!}"]`, 'data-member')).toBe(described!.members[0]);
      expect(described!.partitions).toHaveLength(1);
      for (const entry of described!.partitions) {
        const selector = `#share-partitions tr[data-topic="${entry.topic}"][data-partition="${entry.partition}"]`;
        expect(Number(await dataOf(selector, 'data-start'))).toBe(entry.startOffset);
        expect(Number(await dataOf(selector, 'data-in-flight'))).toBe(entry.inFlight);
        expect(Number(await dataOf(selector, 'data-acquired'))).toBe(entry.acquired);
        expect(JSON.parse((await dataOf(selector, 'data-delivery-counts'))!)).toEqual(entry.deliveryCounts);
      }
      // The held record: acquired once, still in flight, the 5 before it done.
      expect(described!.partitions[0]).toMatchObject({ startOffset: 5, inFlight: 1, acquired: 1, deliveryCounts: [[1, 1]] });
      await shot('share-group');

      // The DLQ link opens the messages page on the dead-letter topic: the rejected record with its provenance.
      await page.click('#browse-dlq');
      await page.waitForFunction(() => document.querySelector('#records [data-offset]')?.getAttribute('data-offset') === '0');
      const letter = await page.$eval('[data-offset="0"]', (card) => card.textContent ?? '');
      expect(letter).toContain('job-2');
      expect(letter).toContain('burnt');
    } finally {
      await consumer.close();
    }
  });

  it('the page logged no console error and no request failed', () => {
    expect(problems).toEqual([]);
  });
});
