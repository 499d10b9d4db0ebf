import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { renderPixel } from '@chatgpt-ads/core';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

const outputDir = join(import.meta.dirname, '..', 'test-output');
let browser: Browser;
let sandbox: Sandbox;

beforeAll(async () => {
  mkdirSync(outputDir, { recursive: true });
  browser = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
});
afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});
beforeEach(() => sandbox.reset());

describe('inspector page', () => {
  it('shows a new event without reload, opens its detail view, and logs no errors', async () => {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const errors = collectPageErrors(page);
    await page.goto(sandbox.url);
    await page.getByText('No events yet').waitFor();
    await page.getByText('● live').waitFor();

    const response = await fetch(`${sandbox.endpoint}?pid=px_demo`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_demo', 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          {
            id: 'order_browser_1',
            type: 'order_created',
            timestamp_ms: Date.now(),
            action_source: 'web',
            source_url: 'https://shop.example/checkout',
            oppref: 'gAAAAB-browser-click',
            user: {
              emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'],
              ip_address: '203.0.113.7',
            },
            data: {
              type: 'contents',
              amount: 12999,
              currency: 'USD',
              contents: [{ id: 'sku_1', quantity: 1 }],
            },
          },
        ],
      }),
    });
    expect(response.status).toBe(200);

    const row = page.locator('tr[data-testid="event-row"]', { hasText: 'order_browser_1' });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain('$129.99');
    expect(await row.textContent()).toContain('oppref');
    expect(await row.textContent()).toContain('First');
    await row.click();
    const detail = page.locator('#detail');
    await detail.waitFor();
    expect(await page.locator('#detail-title').textContent()).toContain('order_created');
    expect(await page.locator('#detail-json').textContent()).toContain('"order_browser_1"');
    expect(await detail.textContent()).toContain('gAAAAB-browser-click');

    // A refused request shows its reason in plain words.
    await fetch(`${sandbox.endpoint}?pid=px_demo`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk_demo' },
      body: JSON.stringify({
        events: [
          { id: 'x', type: 'order_created', timestamp_ms: Date.now(), data: { type: 'contents', amount: 5 } },
        ],
      }),
    });
    await page.getByRole('button', { name: /Requests/ }).click();
    await page
      .getByText(/events\[0\]\.data\.currency is required/)
      .first()
      .waitFor();
    await page.getByRole('button', { name: /Events/ }).click();

    await page.screenshot({ path: join(outputDir, 'inspector.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('stand-in pixel', () => {
  let site: Server;
  let siteUrl: string;

  beforeAll(async () => {
    site = createServer((req, res) => {
      const consent =
        new URL(req.url ?? '/', 'http://x').searchParams.get('consent') === 'no' ? 'denied' : 'granted';
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><html><head><link rel="icon" href="data:,">
        ${renderPixel({ pixelId: 'px_site', consent, scriptUrl: sandbox.pixelScriptUrl })}
        </head><body><button id="buy">Buy</button>
        <script>document.getElementById('buy').onclick = function () {
          oaiq('measure', 'order_created', { type: 'contents', amount: 2599, currency: 'USD' }, { event_id: 'order_px_1' });
        };</script></body></html>`);
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));

  it('stores oppref in __oppref for 30 days and sends measure with the event_id', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`${siteUrl}/landing?utm_source=chatgpt&oppref=e2e-click-1`);
    await page.waitForFunction(
      () => (window as unknown as { oaiq?: { sandbox?: boolean } }).oaiq?.sandbox === true,
    );
    const cookie = (await context.cookies()).find((c) => c.name === '__oppref');
    expect(cookie?.value).toBe('e2e-click-1');
    const days = ((cookie?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);

    await page.click('#buy');
    await expect.poll(() => sandbox.events().length).toBe(1);
    expect(sandbox.events()[0]).toMatchObject({
      channel: 'pixel_sdk',
      pixelId: 'px_site',
      event: {
        id: 'order_px_1',
        type: 'order_created',
        oppref: 'e2e-click-1',
        source_url: `${siteUrl}/landing`,
        data: { amount: 2599 },
      },
    });
    expect(errors).toEqual([]);
    await context.close();
  });

  it('honours consent(false): no cookie, nothing sent', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${siteUrl}/landing?consent=no&oppref=e2e-click-2`);
    await page.waitForFunction(
      () => (window as unknown as { oaiq?: { sandbox?: boolean } }).oaiq?.sandbox === true,
    );
    await page.click('#buy');
    await page.waitForTimeout(300);
    const names = (await context.cookies()).map((c) => c.name);
    expect(names).not.toContain('__oppref');
    expect(names).toContain('__oaiq_consent');
    expect(sandbox.requests().filter((r) => r.channel === 'pixel_sdk')).toEqual([]);
    await context.close();
  });
});
