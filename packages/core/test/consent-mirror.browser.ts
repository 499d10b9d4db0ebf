import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { googleConsentMode, renderConsentModeMirror, resolveConsent } from '../src/consent.js';
import { parseCookieHeader } from '../src/cookies.js';

let browser: Browser;
let site: Server;
let url: string;

beforeAll(async () => {
  browser = await launchBrowser();
  site = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "script-src 'nonce-abc'" });
    // The mirror first, then the site's usual Google tag setup with Consent Mode.
    res.end(`<!doctype html><html><head><link rel="icon" href="data:,">
      ${renderConsentModeMirror({ nonce: 'abc' })}
      <script nonce="abc">
        window.dataLayer = window.dataLayer || [];
        function gtag(){ dataLayer.push(arguments); }
        gtag('consent', 'default', { ad_storage: 'denied', ad_user_data: 'denied', analytics_storage: 'denied' });
        document.addEventListener('click', function (e) {
          if (e.target.id === 'accept') gtag('consent', 'update', { ad_storage: 'granted', ad_user_data: 'granted' });
          if (e.target.id === 'ads-only') gtag('consent', 'update', { ad_storage: 'granted', ad_user_data: 'denied' });
        });
      </script></head><body><button id="accept">Accept</button><button id="ads-only">Storage only</button></body></html>`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => site?.close(resolve));
});

it('mirrors Google Consent Mode into a cookie the server resolver reads', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  const serverSees = async () => {
    const header = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const cookies = parseCookieHeader(header);
    return resolveConsent({ cookie: (n) => cookies.get(n), header: () => undefined }, [googleConsentMode()])
      .state;
  };
  await page.goto(url);
  expect(await serverSees()).toBe('denied');
  await page.click('#accept');
  expect(await serverSees()).toBe('granted');
  await page.click('#ads-only');
  expect(await serverSees()).toBe('denied');
  expect(errors).toEqual([]);
  await context.close();
});
