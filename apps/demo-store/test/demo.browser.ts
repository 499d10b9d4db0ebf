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
    await funnel(page);
    await demo.flush();
    await page.waitForTimeout(500);
    expect((await context.cookies()).map((c) => c.name)).not.toContain('__oppref');
    expect(demo.sandbox.events()).toEqual([]);
    expect(demo.sandbox.requests()).toEqual([]);
  });
});
