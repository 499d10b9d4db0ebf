// The settings page in Chromium, opened as the admin opens it (no cookie, no token at first), with
// Shopify's CDN scripts replaced by the stand-ins of ./shopify-cdn.ts.
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser as Chromium } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Admin, deliver, orderBody, type StartedApp, startAppOnOwnOrigin } from './helpers.js';
import { standInShopifyCdn } from './shopify-cdn.js';

const SHOP = 'northwind.myshopify.com';
let chromium: Chromium;
let sandbox: Sandbox;
let app: StartedApp;

beforeAll(async () => {
  chromium = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
  app = await startAppOnOwnOrigin(sandbox.endpoint);
});
afterAll(async () => {
  await chromium?.close();
  await app?.close();
  await sandbox?.close();
});

it('opens from the admin without a cookie, saves settings, sends a test event, and shows an order arriving', async () => {
  const admin = new Admin(app, SHOP);
  const context = await chromium.newContext();
  const cdn: string[] = [];
  await standInShopifyCdn(context, admin, cdn);
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });

  // Shopify's first load: shop and host, no token. App Bridge gives one and the page reloads with it.
  await page.goto(`${app.base}/?embedded=1&shop=${SHOP}&host=aG9zdA`);
  await page.waitForSelector('#pixelId');
  expect(new URL(page.url()).searchParams.get('bounced')).toBe('1');
  expect(await context.cookies()).toEqual([]);
  expect(cdn).toContain('https://cdn.shopify.com/shopifycloud/app-bridge.js');
  expect(cdn).toContain('https://cdn.shopify.com/shopifycloud/polaris.js');
  expect(await page.textContent('#country')).toContain('Germany (DE)');
  await expect.poll(() => page.textContent('#backlog')).toBe('Nothing is waiting to be sent.');
  expect(await page.textContent('#delivery-rows')).toContain('No orders yet.');

  // An error looks like an error: a critical banner, nothing saved.
  await page.locator('#pixelId input').fill('px_from_the_browser');
  await page.click('#save');
  await page.waitForSelector('#messages s-banner');
  expect(await page.getAttribute('#messages s-banner', 'tone')).toBe('critical');
  expect(await page.textContent('#messages s-banner')).toContain('Conversions API key');
  expect(await app.store.settings(SHOP)).toBeUndefined();

  await page.locator('#apiKey input').fill('sk_live_from_the_browser_7c1d');
  await page.locator('#consentPolicy select').selectOption('send');
  await page.click('#save');
  await page.waitForSelector('#messages s-banner[tone="success"]');
  expect(await page.getAttribute('#messages s-banner', 'heading')).toBe('Saved');
  expect(await page.getAttribute('#apiKey', 'details')).toContain('ending in 7c1d');
  expect(await page.locator('#apiKey input').inputValue()).toBe('');
  expect(await page.textContent('#policy-effect')).toContain('are sent');
  const saved = await app.store.settings(SHOP);
  expect(saved).toMatchObject({ pixelId: 'px_from_the_browser', consentPolicy: 'send' });

  await page.click('#test');
  await page.waitForSelector('#messages s-banner[heading="Test event accepted"]');
  expect(sandbox.requests().at(-1)).toMatchObject({ validateOnly: true, pixelId: 'px_from_the_browser' });

  // A signed orders/create arrives; the panel shows the order and that it was sent.
  const body = orderBody(7_000_001, 1, { note_attributes: [] });
  expect((await deliver(app.base, '/webhooks/orders/create', 'orders/create', body)).status).toBe(200);
  await expect.poll(() => sandbox.events().length, { timeout: 10_000 }).toBe(1);
  await expect
    .poll(
      async () => {
        await page.click('#refresh');
        return page.locator('#delivery-rows s-table-row[data-outcome="sent"]').count();
      },
      { timeout: 15_000 },
    )
    .toBe(1);
  const row = await page.textContent('#delivery-rows s-table-row');
  expect(row).toContain('#1');
  expect(row).toContain('Sent');
  expect(row).not.toContain('yuki@example.jp');

  expect(violations).toEqual([]);
  // The one refused save is logged by Chromium as a failed resource; nothing else went wrong.
  expect(errors).toEqual([
    'console: Failed to load resource: the server responded with a status of 400 (Bad Request)',
  ]);
  await context.close();
});
