import { ChatgptAdsService } from '@chatgpt-ads/nestjs';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import type { INestApplication } from '@nestjs/common';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startExampleNest } from '../src/app.js';

let browser: Browser;
let sandbox: Sandbox;
let app: INestApplication;
let url: string;
beforeAll(async () => {
  browser = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
  ({ app, url } = await startExampleNest(
    { endpoint: sandbox.endpoint, pixelScriptUrl: sandbox.pixelScriptUrl },
    0,
  ));
});
afterAll(async () => {
  await browser?.close();
  await app?.close();
  await sandbox?.close();
});

it('the Nest example pairs pixel and server like the Express demo: one first copy with the oppref, one duplicate', async () => {
  const context = await browser.newContext({ baseURL: url });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto('/?oppref=e2e-nest');
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL(/oppref=e2e-nest/);
  expect((await context.cookies()).find((c) => c.name === '__oppref')?.value).toBe('e2e-nest');
  await page.goto('/lead');
  await page.getByTestId('lead-submit').click();
  const lead = (await page.getByTestId('conversion-id').textContent())!;
  await page.goto('/checkout');
  await page.getByTestId('checkout-submit').click();
  const order = (await page.getByTestId('conversion-id').textContent())!;
  await page.waitForTimeout(300);
  await app.get(ChatgptAdsService).conversions.flush();
  await expect.poll(() => sandbox.events().length, { timeout: 10_000 }).toBe(4);
  for (const id of [lead, order]) {
    const copies = sandbox.events().filter((e) => e.event.id === id);
    expect(copies.map((c) => c.channel).sort()).toEqual(['pixel_sdk', 'server_to_server']);
    expect(copies.filter((c) => c.duplicateOf === undefined)).toHaveLength(1);
    expect(copies.every((c) => c.event.oppref === 'e2e-nest')).toBe(true);
  }
  expect(errors).toEqual([]);
  await context.close();
});
