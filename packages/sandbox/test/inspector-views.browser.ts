// The inspector as a user reads it: pixel ids and the pixel filter, a layout that holds at phone,
// tablet and laptop widths with the detail panel open, counts that agree, details for every request,
// no unexplained sequence numbers, and the mark on conversions only the server reported.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

const outputDir = join(import.meta.dirname, '..', 'test-output');
let browser: Browser;
let sandbox: Sandbox;
let context: BrowserContext;

beforeAll(async () => {
  mkdirSync(outputDir, { recursive: true });
  browser = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
});
afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});
beforeEach(async () => {
  sandbox.reset();
  await context?.close();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 860 } });
});

function serverEvent(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    type: 'order_created',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://shop.example/checkout',
    oppref: 'gAAAAB-click',
    user: { emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'] },
    data: { type: 'contents', amount: 12999, currency: 'USD', contents: [{ id: 'sku_1', quantity: 1 }] },
    ...extra,
  };
}

async function postServer(pixelId: string, events: unknown[]): Promise<void> {
  const response = await fetch(`${sandbox.endpoint}?pid=${pixelId}`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_test', 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  expect(response.status).toBe(200);
}

async function postPixel(pixelId: string, id: string, event = 'order_created'): Promise<void> {
  const response = await fetch(`${sandbox.url}/v1/sdk/events?pid=${pixelId}`, {
    method: 'POST',
    body: JSON.stringify({
      event,
      event_id: id,
      data: { type: 'contents', amount: 12999, currency: 'USD' },
      source_url: 'https://shop.example/thanks',
      timestamp_ms: Date.now(),
      oppref: 'gAAAAB-click',
    }),
  });
  expect(response.status).toBe(202);
}

async function open(page: Page, rows: number): Promise<void> {
  await page.goto(sandbox.url);
  await expect.poll(() => page.locator('tr[data-testid="event-row"]').count()).toBe(rows);
}

const eventRow = (page: Page, text: string) => page.locator('tr[data-testid="event-row"]', { hasText: text });

describe('pixel ids', () => {
  it('shows each event’s pixel id in its own column and filters by pixel', async () => {
    await postServer('px_store_eu', [serverEvent('order_eu_1')]);
    await postServer('px_store_us', [serverEvent('order_us_1'), serverEvent('order_us_2')]);
    await postPixel('px_store_us', 'order_us_1');
    const page = await context.newPage();
    await open(page, 4);
    const headers = await page.locator('#events-view th').allTextContents();
    expect(headers).toContain('Pixel');
    const pixelCells = await page
      .locator('tr[data-testid="event-row"] td[data-label="Pixel"]')
      .allTextContents();
    expect(pixelCells.sort()).toEqual(['px_store_eu', 'px_store_us', 'px_store_us', 'px_store_us']);

    const options = await page.locator('#filter-pixel option').allTextContents();
    expect(options).toEqual(['All pixels', 'px_store_eu', 'px_store_us']);
    await page.selectOption('#filter-pixel', 'px_store_eu');
    await expect.poll(() => page.locator('tr[data-testid="event-row"]').count()).toBe(1);
    expect(await page.locator('tr[data-testid="event-row"]').textContent()).toContain('order_eu_1');
    expect(await page.locator('#events-note').textContent()).toBe('Showing 1 of 4 events (filtered).');
    // The same filter applies to the requests.
    await page.getByRole('button', { name: /Requests/ }).click();
    await expect.poll(() => page.locator('tr[data-testid="request-row"]').count()).toBe(1);
    expect(await page.locator('#requests-note').textContent()).toBe('Showing 1 of 3 requests (filtered).');
    await page.selectOption('#filter-pixel', '');
    await expect.poll(() => page.locator('tr[data-testid="request-row"]').count()).toBe(3);
    await page.getByRole('button', { name: /Events/ }).click();
    await expect.poll(() => page.locator('tr[data-testid="event-row"]').count()).toBe(4);
  });
});

/** Text nodes laid out with fewer than four characters a line: a column squeezed to one character. */
function perCharacterWraps(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const found: string[] = [];
    const cells = document.querySelectorAll<HTMLElement>('main td, #detail dd, #detail h2');
    for (const cell of cells) {
      if (cell.offsetParent === null) continue;
      const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const text = (node.textContent ?? '').trim();
        if (text.length < 4) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        const tops = new Set(
          [...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)),
        );
        if (tops.size > 1 && text.length / tops.size < 4)
          found.push(`${cell.dataset.label ?? cell.tagName}: "${text}" on ${tops.size} lines`);
      }
    }
    return found;
  });
}

/** Visible table cells narrower than three ems of their own font. */
function narrowCells(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('main td')]
      .filter((cell) => cell.offsetParent !== null)
      .filter((cell) => {
        const value = cell.querySelector<HTMLElement>('.v') ?? cell;
        return value.getBoundingClientRect().width < 3 * Number.parseFloat(getComputedStyle(value).fontSize);
      })
      .map((cell) => `${cell.dataset.label}: ${cell.textContent}`),
  );
}

describe('layout with the detail panel open', () => {
  for (const width of [390, 760, 1280]) {
    it(`at ${width} px no cell wraps one character per line and the page does not scroll sideways`, async () => {
      // A server event with every signal: the attribution column at its widest.
      const user = {
        emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'],
        phone_numbers_sha256: ['a8e2b1c7d3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0'],
        first_names_sha256: ['b8e2b1c7d3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0'],
        external_ids_sha256: ['c8e2b1c7d3f4e5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0'],
        countries: ['us'],
        ip_address: '203.0.113.7',
        user_agent:
          'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 Safari/605.1.15',
      };
      await postServer('px_store_us', [
        serverEvent('order_2025_000123', { user }),
        serverEvent('9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d', {
          type: 'lead_created',
          data: { type: 'customer_action' },
        }),
      ]);
      await postPixel('px_store_us', 'order_2025_000123');
      await postPixel('px_store_eu_marketing', 'checkout_started_77', 'checkout_started');
      const page = await context.newPage();
      const errors = collectPageErrors(page);
      await page.setViewportSize({ width, height: 900 });
      await open(page, 4);
      await eventRow(page, '9b1deb4d').click();
      await page.locator('#detail').waitFor();
      expect(await page.locator('#detail-title').textContent()).toContain('lead_created');

      expect(await perCharacterWraps(page)).toEqual([]);
      expect(await narrowCells(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      // The detail panel is on screen and as wide as its text needs.
      const panel = (await page.locator('#detail').boundingBox())!;
      expect(panel.width).toBeGreaterThanOrEqual(Math.min(320, width - 24));
      await page.screenshot({ path: join(outputDir, `inspector-${width}.png`), fullPage: true });

      await page.getByRole('button', { name: /Requests/ }).click();
      await page.locator('tr[data-testid="request-row"]').first().click();
      expect(await perCharacterWraps(page)).toEqual([]);
      expect(await narrowCells(page)).toEqual([]);
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(outputDir, `inspector-requests-${width}.png`), fullPage: true });
      expect(errors).toEqual([]);
    });
  }
});

describe('counts', () => {
  it('the header and the tabs give the same totals, with thousands separators', async () => {
    const batch = Array.from({ length: 1000 }, (_, i) => serverEvent(`order_${i}`));
    await postServer('px_store_us', batch);
    await postPixel('px_store_us', 'order_0');
    await postServer('px_store_us', [serverEvent('order_1000')]);
    const page = await context.newPage();
    await page.goto(sandbox.url);
    const stat = (name: string) => page.locator(`[data-testid="stat-${name}"] b`).textContent();
    await expect.poll(() => stat('events')).toBe('1,002');
    expect(await page.locator('#count-events').textContent()).toBe('1,002');
    expect(await stat('duplicates')).toBe('1');
    expect(await stat('requests')).toBe('3');
    expect(await page.locator('#count-requests').textContent()).toBe('3');
    expect(await page.locator('#events-note').textContent()).toBe('Showing the latest 500 of 1,002 events.');

    // Live updates keep the two in step.
    await postServer('px_store_us', [serverEvent('order_1001')]);
    await expect.poll(() => page.locator('#count-events').textContent()).toBe('1,003');
    expect(await stat('events')).toBe('1,003');
    expect(await stat('requests')).toBe('4');
    expect(await page.locator('#count-requests').textContent()).toBe('4');
  });
});

describe('requests', () => {
  it('every request has details: what it carried, what the sandbox answered and how long it took', async () => {
    await postServer('px_store_us', [serverEvent('order_a'), serverEvent('order_b')]);
    await postPixel('px_store_us', 'order_a');
    const page = await context.newPage();
    await open(page, 3);
    await page.getByRole('button', { name: /Requests/ }).click();
    const rows = page.locator('tr[data-testid="request-row"]');
    await expect.poll(() => rows.count()).toBe(2);
    const details = await page
      .locator('tr[data-testid="request-row"] td[data-label="Details"]')
      .allTextContents();
    expect(details[0]).toMatch(/^order_created order_a · answered in \d+ ms$/);
    expect(details[1]).toMatch(/^2 events stored · answered in \d+ ms$/);

    await rows.nth(1).click();
    const detail = page.locator('#detail');
    await detail.waitFor();
    expect(await page.locator('#detail-title').textContent()).toBe('POST /v1/events');
    expect(await detail.textContent()).toContain('px_store_us');
    expect(await page.locator('#detail-json').textContent()).toContain('"object": "events.ingest"');
    const stored = await page.locator('#detail-summary dd li').allTextContents();
    expect(stored).toEqual([
      'order_created order_a · First · 1 duplicate',
      'order_created order_b · First · recovered by the server',
    ]);
    // From a request to one of its events.
    await page.locator('#detail-summary dd li button', { hasText: 'order_b' }).click();
    expect(await page.locator('#detail-title').textContent()).toBe('order_created · server copy');
  });
});

describe('sequence numbers', () => {
  it('are not shown: a duplicate names the copy that counts and links to it', async () => {
    await postPixel('px_store_us', 'order_seq');
    await postServer('px_store_us', [serverEvent('order_seq')]);
    const page = await context.newPage();
    await open(page, 2);
    const visible = async () =>
      `${await page.locator('#events').textContent()} ${await page
        .locator('#detail')
        .textContent()
        .catch(() => '')}`;
    const duplicate = page.locator('tr[data-testid="event-row"]', { hasText: 'Duplicate of' });
    expect(await duplicate.locator('td[data-label="Dedup"]').textContent()).toBe(
      'Duplicate of the pixel copy: ignored',
    );
    await duplicate.click();
    await page.locator('#detail').waitFor();
    expect(await visible()).not.toMatch(/#\d/);
    await page.locator('#detail-summary button', { hasText: 'pixel copy received at' }).click();
    expect(await page.locator('#detail-title').textContent()).toBe('order_created · pixel copy');
    expect(await visible()).not.toMatch(/#\d/);
  });
});

describe('recovered by the server', () => {
  it('marks a conversion only the server reported, and only that one', async () => {
    // Pixel first, then server: the pixel saw it.
    await postPixel('px_store_us', 'order_both');
    await postServer('px_store_us', [serverEvent('order_both')]);
    // Server only: the pixel missed it (an ad blocker).
    await postServer('px_store_us', [serverEvent('order_saved')]);
    // Server first, pixel later: the pixel saw it too, just late.
    await postServer('px_store_us', [serverEvent('order_late_pixel')]);
    await postPixel('px_store_us', 'order_late_pixel');
    const page = await context.newPage();
    await open(page, 5);
    const dedup = (id: string, channel: 'Server' | 'Pixel') =>
      page
        .locator('tr[data-testid="event-row"]', { hasText: id })
        .filter({ has: page.locator('td[data-label="Channel"]', { hasText: channel }) })
        .locator('td[data-label="Dedup"]')
        .textContent();
    expect(await dedup('order_saved', 'Server')).toBe('First · recovered by the server');
    expect(await dedup('order_both', 'Server')).toBe('Duplicate of the pixel copy: ignored');
    expect(await dedup('order_late_pixel', 'Server')).toBe('First · 1 duplicate');
    expect(await page.locator('[data-testid="stat-recovered"]').textContent()).toBe(
      '1 recovered by the server',
    );

    await eventRow(page, 'order_saved').click();
    expect(await page.locator('#detail').textContent()).toContain('no pixel copy arrived');

    // A pixel copy that arrives later takes the mark away: the pixel did see it.
    await postPixel('px_store_us', 'order_saved');
    await expect.poll(() => dedup('order_saved', 'Server')).toBe('First · 1 duplicate');
    expect(await page.locator('[data-testid="stat-recovered"]').textContent()).toBe(
      '0 recovered by the server',
    );
  });
});
