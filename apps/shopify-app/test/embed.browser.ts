import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';

const embed = readFileSync(
  join(import.meta.dirname, '..', 'extensions', 'chatgpt-ads-embed', 'assets', 'chatgpt-ads.js'),
  'utf8',
);
let browser: Browser;
let storefront: Server;
let url: string;
let carts: Array<Record<string, string>> = [];

beforeAll(async () => {
  browser = await launchBrowser();
  // A storefront page as Shopify renders it with the app embed on: Shopify's Customer Privacy API
  // (standing in, answering from ?marketing=) and the Ajax Cart API endpoint.
  storefront = createServer((req, res) => {
    if (req.url === '/cart/update.js') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        carts.push(JSON.parse(body).attributes);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
      return;
    }
    if (req.url === '/chatgpt-ads.js')
      return void res.writeHead(200, { 'content-type': 'text/javascript' }).end(embed);
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><html><head><link rel="icon" href="data:,">
      <script>
        var marketing = new URLSearchParams(location.search).get('marketing');
        window.Shopify = {
          loadFeatures: function (features, done) { setTimeout(function () { done(); }, 10); },
          customerPrivacy: { marketingAllowed: function () { return marketing === 'yes'; } }
        };
        window.grant = function () { marketing = 'yes'; document.dispatchEvent(new CustomEvent('visitorConsentCollected')); };
      </script></head><body><h1>Grinder</h1><script src="/chatgpt-ads.js" defer></script></body></html>`);
  });
  await new Promise<void>((resolve) => storefront.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(storefront.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => storefront?.close(resolve));
});
beforeEach(() => {
  carts = [];
});

it('writes the raw click id and granted consent to the cart', async () => {
  const page = await browser.newPage();
  const errors = collectPageErrors(page);
  await page.goto(`${url}/products/grinder?marketing=yes&oppref=gAAAAB-cart%2Bclick`);
  await expect.poll(() => carts.length).toBe(1);
  expect(carts[0]).toEqual({ _chatgpt_ads_consent: 'granted', _oppref: 'gAAAAB-cart%2Bclick' });
  expect(errors).toEqual([]);
  await page.close();
});

it('falls back to the __oppref cookie, and records a denial without the click id, then a later grant', async () => {
  const context = await browser.newContext();
  await context.addCookies([{ name: '__oppref', value: 'gAAAAB-from-cookie', url }]);
  const page = await context.newPage();
  await page.goto(`${url}/cart?marketing=no`);
  await expect.poll(() => carts.length).toBe(1);
  expect(carts[0]).toEqual({ _chatgpt_ads_consent: 'denied', _oppref: '' });
  await page.evaluate(() => (window as unknown as { grant(): void }).grant());
  await expect.poll(() => carts.length).toBe(2);
  expect(carts[1]).toEqual({ _chatgpt_ads_consent: 'granted', _oppref: 'gAAAAB-from-cookie' });
  await context.close();
});
