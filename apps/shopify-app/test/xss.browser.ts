// In Chromium: every parameter the app's pages could echo, loaded with script payloads, runs
// nothing. A page served here that does echo raw proves the detector sees execution when it happens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { launchBrowser } from '@tooling/e2e';
import type { Browser as Chromium, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Browser,
  install,
  SECRET,
  type StartedApp,
  signedQuery,
  startApp,
  XSS_PAYLOADS,
} from './helpers.js';

const SHOP = 'northwind.myshopify.com';
let chromium: Chromium;
let sandbox: Sandbox;
let app: StartedApp;
let merchant: Browser;
let vulnerable: Server;
let vulnerableUrl: string;

beforeAll(async () => {
  chromium = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
  // The browser must see the app as its own origin, as it would in production over https.
  app = await startApp((base) => ({
    hostName: new URL(base).host,
    hostScheme: 'http',
    conversionsEndpoint: sandbox.endpoint,
  }));
  merchant = (await install(app, SHOP)).browser;
  await merchant.post('/settings', { pixelId: 'px_northwind', apiKey: 'sk_live_northwind_0000' });
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

/** Loads a URL in a fresh page (signed in when asked) and reports whether any payload ran. */
async function load(url: string, signedIn: boolean) {
  const context = await chromium.newContext();
  if (signedIn) {
    await context.addCookies([
      { name: 'chatgpt_ads_session', value: merchant.jar.get('chatgpt_ads_session')!, url: app.base },
    ]);
  }
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
      const result = await load(`${vulnerableUrl}/?q=${encodeURIComponent(payload)}`, false);
      expect(result.ran).toBe(true);
    },
  );
});

describe('the app’s pages', () => {
  it.each(XSS_PAYLOADS)('run nothing with %s in every echoed parameter', async (payload) => {
    const p = encodeURIComponent(payload);
    const everything = ['shop', 'host', 'state', 'code', 'hmac', 'timestamp', 'note', 'embedded', 'session']
      .map((name) => `${name}=${p}`)
      .join('&');
    const signed = signedQuery(SECRET, { code: payload, host: payload, shop: payload, state: payload });
    const pages: Array<[string, boolean]> = [
      [`/auth/callback?${everything}`, false],
      [`/auth/callback?${signed}`, false],
      [`/auth/callback?${everything}`, true],
      [`/auth?${everything}`, false],
      [`/settings?${everything}`, true],
      [`/settings?note=${p}`, false],
      [`/${p}?${everything}`, true],
    ];
    for (const [path, signedIn] of pages) {
      const result = await load(`${app.base}${path}`, signedIn);
      expect({ path, ran: result.ran, dialogs: result.dialogs }).toEqual({ path, ran: false, dialogs: [] });
      // Escaping alone stops it: the policy never even had to refuse anything.
      expect(result.violations).toEqual([]);
      expect(result.status).toBeLessThan(500);
    }
  });

  it('shows a pixel id full of markup as text on the settings page', async () => {
    for (const payload of XSS_PAYLOADS) {
      expect((await merchant.post('/settings', { pixelId: payload, apiKey: '' })).status).toBe(303);
      const result = await load(`${app.base}/settings`, true);
      expect(result.ran).toBe(false);
      expect(result.dialogs).toEqual([]);
      expect(result.violations).toEqual([]);
      expect(result.status).toBe(200); // signed in: the page that shows the stored value
      expect(result.text).toContain('data-testid="masked-key"');
    }
  });
});

describe('the settings form in a real browser', () => {
  it('saves through the CSRF token, the Origin check and the page policy, and shows the note once', async () => {
    const context = await chromium.newContext();
    await context.addCookies([
      { name: 'chatgpt_ads_session', value: merchant.jar.get('chatgpt_ads_session')!, url: app.base },
    ]);
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(`${app.base}/settings`);
    await page.fill('input[name="pixelId"]', 'px_from_the_browser');
    const [posted] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'),
      page.click('form[action="/settings"] button'),
    ]);
    expect(posted.status()).toBe(303);
    await page.waitForLoadState('load');
    expect(await page.textContent('[data-testid="note"]')).toBe('Saved.');
    expect(app.store.settings(SHOP)?.pixelId).toBe('px_from_the_browser');
    // The stylesheet is allowed by its hash: the page is styled, and nothing was refused.
    expect(await page.evaluate(() => getComputedStyle(document.body).maxWidth)).toBe('640px');
    expect(violations).toEqual([]);
    await page.reload();
    expect(await page.locator('[data-testid="note"]').count()).toBe(0);
    await context.close();
  });
});
