// In Chromium: every parameter the app's pages could echo, loaded with script payloads, runs
// nothing. A page served here that does echo raw proves the detector sees execution when it happens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { launchBrowser } from '@tooling/e2e';
import type { Browser as Chromium, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Admin, install, type StartedApp, startAppOnOwnOrigin, XSS_PAYLOADS } from './helpers.js';
import { standInShopifyCdn } from './shopify-cdn.js';

const SHOP = 'northwind.myshopify.com';
let chromium: Chromium;
let sandbox: Sandbox;
let app: StartedApp;
let merchant: Admin;
let vulnerable: Server;
let vulnerableUrl: string;

beforeAll(async () => {
  chromium = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
  app = await startAppOnOwnOrigin(sandbox.endpoint);
  merchant = await install(app, SHOP);
  await merchant.save({ pixelId: 'px_northwind', apiKey: 'sk_live_northwind_0000' });
  // The positive control: echoes ?q= raw into HTML, without a policy.
  vulnerable = createServer((req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams.get('q') ?? '';
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>${q}</title><p>${q}</p>`);
  });
  await new Promise<void>((resolve) => vulnerable.listen(0, '127.0.0.1', resolve));
  vulnerableUrl = `http://127.0.0.1:${(vulnerable.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await chromium?.close();
  await app?.close();
  await sandbox?.close();
  await new Promise((resolve) => vulnerable?.close(resolve));
});

/** Loads a URL in a fresh page (with App Bridge and Polaris stood in) and reports whether any payload ran. */
async function load(url: string) {
  const context = await chromium.newContext();
  await standInShopifyCdn(context, merchant);
  const page: Page = await context.newPage();
  const dialogs: string[] = [];
  const violations: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  const ran = await page.evaluate(() => (window as unknown as { __xss?: number }).__xss === 1);
  const text = await page.content();
  await context.close();
  return { ran, dialogs, violations, status: response?.status(), text };
}

describe('the detector', () => {
  it.each(XSS_PAYLOADS.filter((p) => !p.startsWith('javascript:')))(
    'sees %s run on a page that echoes it raw',
    async (payload) => {
      const result = await load(`${vulnerableUrl}/?q=${encodeURIComponent(payload)}`);
      expect(result.ran).toBe(true);
    },
  );
});

describe('the app’s pages', () => {
  it.each(XSS_PAYLOADS)('run nothing with %s in every echoed parameter', async (payload) => {
    const p = encodeURIComponent(payload);
    const everything = ['host', 'hmac', 'locale', 'timestamp', 'note', 'embedded', 'session']
      .map((name) => `${name}=${p}`)
      .join('&');
    const pages = [
      `/?shop=${p}&id_token=${p}&${everything}`,
      `/?shop=${SHOP}&id_token=${p}&${everything}`,
      `/?shop=${SHOP}&id_token=${p}&bounced=2&${everything}`,
      `/?shop=${SHOP}&id_token=${merchant.token()}&${everything}`,
      `/settings?shop=${SHOP}&id_token=${merchant.token()}&${everything}`,
      `/${p}?${everything}`,
    ];
    for (const path of pages) {
      const result = await load(`${app.base}${path}`);
      expect({ path, ran: result.ran, dialogs: result.dialogs }).toEqual({ path, ran: false, dialogs: [] });
      // Escaping alone stops it: the policy never even had to refuse anything.
      expect(result.violations).toEqual([]);
      expect(result.status).toBeLessThan(500);
    }
  });

  it('shows a pixel id full of markup as text on the settings page', async () => {
    for (const payload of XSS_PAYLOADS) {
      expect((await merchant.save({ pixelId: payload })).status).toBe(200);
      const result = await load(`${app.base}/?shop=${SHOP}&host=aG9zdA&id_token=${merchant.token()}`);
      expect(result.ran).toBe(false);
      expect(result.dialogs).toEqual([]);
      expect(result.violations).toEqual([]);
      expect(result.status).toBe(200); // the page that shows the stored value
      expect(result.text).toContain('id="pixelId"');
    }
  });
});
