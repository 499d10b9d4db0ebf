// Script through every value the demo store echoes, in Chromium: the book form's day, the landing
// URL's query (oppref and back=), the cart cookie. The detector is alert(): a positive control proves
// it fires on this page when markup is injected the unsafe way.
import { launchBrowser } from '@tooling/e2e';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../src/demo.js';

let browser: Browser;
let demo: RunningDemo;
beforeAll(async () => {
  browser = await launchBrowser();
  demo = await startDemo({ storePort: 0, sandboxPort: 0 });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

const PAYLOADS = [
  `<img src=x onerror="alert('xss-img')">`,
  `"><svg onload="alert('xss-svg')">`,
  `'><script>alert('xss-script')</script>`,
  `</textarea></title><script>alert('xss-close')</script>`,
];

function detectDialogs(page: Page): string[] {
  const seen: string[] = [];
  page.on('dialog', (dialog) => {
    seen.push(dialog.message());
    void dialog.dismiss();
  });
  return seen;
}

describe('demo store: echoed values never run as script', () => {
  it('the book form, the landing query, back= and the cart cookie (CSP off, so only escaping protects)', async () => {
    const context = await browser.newContext({ bypassCSP: true, baseURL: demo.storeUrl });
    const page = await context.newPage();
    const dialogs = detectDialogs(page);
    const host = new URL(demo.storeUrl).hostname;
    for (const payload of PAYLOADS) {
      await context.addCookies([
        {
          name: 'demo_cart',
          value: encodeURIComponent(JSON.stringify({ grinder: payload })),
          domain: host,
          path: '/',
        },
        { name: 'demo_consent', value: 'granted', domain: host, path: '/' },
      ]);
      await page.goto(`/?oppref=${encodeURIComponent(payload)}&back=${encodeURIComponent(payload)}`);
      await page.goto('/cart');
      await page.goto('/book');
      await page.evaluate((day) => {
        const form = document.querySelector('form[action="/book"]') as HTMLFormElement;
        const input = document.createElement('input');
        input.type = 'hidden';
        input.name = 'day';
        input.value = day;
        form.querySelector('[name=day]')?.remove();
        form.appendChild(input);
        form.requestSubmit();
      }, payload);
      await page.getByText('Your tasting is booked').waitFor();
      expect(await page.locator('body').textContent()).toContain(payload.slice(0, 12));
    }
    // The control runs after every payload was rendered: had one run, its dialog would be first.
    await page.evaluate(() => {
      const holder = document.createElement('div');
      holder.innerHTML = `<img src=x onerror="alert('control')">`;
      document.body.appendChild(holder);
    });
    await expect.poll(() => dialogs).toContain('control');
    expect(dialogs).toEqual(['control']);
    await context.close();
  });
});
