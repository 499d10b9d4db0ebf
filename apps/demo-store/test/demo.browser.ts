import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningDemo, startDemo } from '../src/demo.js';

const outputDir = join(import.meta.dirname, '..', 'test-output');
let browser: Browser;
let demo: RunningDemo;
let context: BrowserContext;

beforeAll(async () => {
  mkdirSync(outputDir, { recursive: true });
  browser = await launchBrowser();
  demo = await startDemo({ storePort: 0, sandboxPort: 0 });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});
beforeEach(async () => {
  demo.sandbox.reset();
  await context?.close();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: demo.storeUrl });
});

async function funnel(page: Page): Promise<{ lead: string; order: string }> {
  await page.goto('/lead');
  await page.getByTestId('lead-submit').click();
  const lead = (await page.getByTestId('conversion-id').textContent())!;
  await page.goto('/');
  await page.getByTestId('add-grinder').click();
  await page.getByTestId('checkout-submit').click();
  const order = (await page.getByTestId('conversion-id').textContent())!;
  return { lead, order };
}

async function settled(ids: string[], copies: number) {
  await demo.flush();
  await expect
    .poll(() => demo.sandbox.events().filter((e) => ids.includes(e.event.id)).length, { timeout: 10_000 })
    .toBe(ids.length * copies);
  return demo.sandbox.events();
}

describe('demo store in Chromium', () => {
  it('lands from an ad, accepts consent, converts twice: one first copy with the oppref and one duplicate per conversion', async () => {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    await page.goto(`/?oppref=e2e-click`);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/oppref=e2e-click/);
    const cookie = (await context.cookies()).find((c) => c.name === '__oppref');
    expect(cookie?.value).toBe('e2e-click');
    const { lead, order } = await funnel(page);
    expect(await page.getByTestId('conversion-report').textContent()).toBe(
      'The server and the pixel both report it with this id, so ChatGPT Ads counts it once.',
    );
    await page.screenshot({ path: join(outputDir, 'demo-thanks.png') });
    const events = await settled([lead, order], 2);
    for (const id of [lead, order]) {
      const copies = events.filter((e) => e.event.id === id);
      expect(copies.map((c) => c.channel).sort()).toEqual(['pixel_sdk', 'server_to_server']);
      expect(copies.filter((c) => c.duplicateOf === undefined)).toHaveLength(1);
      expect(copies.every((c) => c.event.oppref === 'e2e-click')).toBe(true);
    }
    expect(errors).toEqual([]);
  });

  it('with the pixel script blocked, the server events still arrive with the oppref', async () => {
    const page = await context.newPage();
    await page.route('**/sdk/oaiq.min.js', (route) => route.abort());
    await page.goto(`/?oppref=e2e-blocked`);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/oppref=e2e-blocked/);
    const { lead, order } = await funnel(page);
    const events = await settled([lead, order], 1);
    const ours = events.filter((e) => [lead, order].includes(e.event.id));
    expect(ours.map((e) => e.channel)).toEqual(['server_to_server', 'server_to_server']);
    expect(ours.every((e) => e.event.oppref === 'e2e-blocked' && e.duplicateOf === undefined)).toBe(true);
  });

  it('with consent rejected, no __oppref cookie exists and the sandbox receives nothing', async () => {
    const page = await context.newPage();
    await page.goto(`/?oppref=e2e-rejected`);
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.waitForURL(/oppref=e2e-rejected/);
    expect(await page.getByTestId('consent-note').textContent()).toContain(
      'You rejected ad measurement: no click id is kept and nothing is sent.',
    );
    await funnel(page);
    // The thanks page says what happened, not what would have happened with consent.
    const report = (await page.getByTestId('conversion-report').textContent()) ?? '';
    expect(report).toBe(
      'Nothing was sent to ChatGPT Ads: you rejected ad measurement, so neither the server nor the pixel reported it.',
    );
    expect(await page.locator('main').textContent()).not.toContain('both report it');
    expect(await page.getByTestId('pixel-switch').textContent()).toContain('without your consent');
    await page.screenshot({ path: join(outputDir, 'demo-rejected-thanks.png') });
    await demo.flush();
    await page.waitForTimeout(500);
    expect((await context.cookies()).map((c) => c.name)).not.toContain('__oppref');
    expect(demo.sandbox.events()).toEqual([]);
    expect(demo.sandbox.requests()).toEqual([]);
  });
});

describe('the store\'s "block the pixel" switch', () => {
  it('plays an ad blocker: the page loads no pixel, the order arrives from the server only, and the inspector marks it recovered', async () => {
    const page = await context.newPage();
    const errors = collectPageErrors(page);
    const pixelLoads: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).origin === demo.sandbox.url) pixelLoads.push(request.url());
    });
    await page.goto(`/?oppref=e2e-switch`);
    await page.getByRole('button', { name: 'Accept' }).click();
    await page.waitForURL(/oppref=e2e-switch/);
    const toggle = page.getByRole('button', { name: 'Block the pixel' });
    expect(await toggle.isVisible()).toBe(true);
    await toggle.click();
    await page.waitForURL(/oppref=e2e-switch/);
    expect(await page.getByTestId('pixel-switch').textContent()).toContain('Pixel blocked');
    expect(await page.getByRole('button', { name: 'Allow the pixel' }).isVisible()).toBe(true);
    pixelLoads.length = 0;

    await page.getByTestId('add-grinder').click();
    await page.getByTestId('checkout-submit').click();
    const order = (await page.getByTestId('conversion-id').textContent())!;
    expect(await page.getByTestId('conversion-report').textContent()).toContain(
      'only the server reported it',
    );
    await page.screenshot({ path: join(outputDir, 'demo-blocked-thanks.png') });
    // Nothing of the pixel reached the browser: no script, no event.
    expect(pixelLoads).toEqual([]);
    expect(await page.evaluate(() => typeof (window as unknown as { oaiq?: unknown }).oaiq)).toBe(
      'undefined',
    );

    const events = await settled([order], 1);
    const copies = events.filter((e) => e.event.id === order);
    expect(copies.map((e) => [e.channel, e.duplicateOf, e.event.oppref])).toEqual([
      ['server_to_server', undefined, 'e2e-switch'],
    ]);

    const inspector = await context.newPage();
    await inspector.goto(demo.sandbox.url);
    const row = inspector.locator('tr[data-testid="event-row"]', { hasText: order });
    await row.waitFor();
    expect(await row.locator('td[data-label="Dedup"]').textContent()).toBe('First · recovered by the server');
    expect(await inspector.locator('[data-testid="stat-recovered"]').textContent()).toBe(
      '1 recovered by the server',
    );
    await inspector.screenshot({ path: join(outputDir, 'demo-inspector-recovered.png') });

    // Allowing it again brings the pixel back.
    await page.goto('/');
    await page.getByRole('button', { name: 'Allow the pixel' }).click();
    await page.waitForFunction(() => typeof (window as unknown as { oaiq?: unknown }).oaiq === 'function');
    expect(errors).toEqual([]);
  });
});
