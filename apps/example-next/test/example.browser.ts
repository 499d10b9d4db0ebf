import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { collectPageErrors, launchBrowser } from '@tooling/e2e';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startNext } from './next-server.js';

let browser: Browser;
let sandbox: Sandbox;
let app: Awaited<ReturnType<typeof startNext>>;
beforeAll(async () => {
  mkdirSync(join(import.meta.dirname, '..', 'test-output'), { recursive: true });
  browser = await launchBrowser();
  sandbox = await startSandbox({ port: 0 });
  app = await startNext(sandbox);
});
afterAll(async () => {
  await browser?.close();
  await app?.stop();
  await sandbox?.close();
});

it('pairs pixel and server like the Express demo; server actions answer before their conversion is sent', async () => {
  // The endpoint answers server sends after 5 s (a margin a busy machine cannot eat): a server action must not wait for that.
  sandbox.setFaults([{ latencyMs: 5_000, times: 'always' }]);
  const context = await browser.newContext({ baseURL: app.url });
  const page = await context.newPage();
  const errors = collectPageErrors(page);
  await page.goto('/?oppref=e2e-next');
  await page.getByRole('button', { name: 'Accept' }).click();
  await page.waitForURL(/oppref=e2e-next/);
  expect((await context.cookies()).find((c) => c.name === '__oppref')?.value).toBe('e2e-next');

  const ids: string[] = [];
  for (const [path, button] of [
    ['/lead', 'lead-submit'],
    ['/checkout', 'checkout-submit'],
  ]) {
    await page.goto(path!);
    await page.getByTestId(button!).click();
    const id = (await page.getByTestId('conversion-id').textContent())!;
    // The thanks page is showing, and the server's copy has not reached the endpoint yet.
    expect(sandbox.events().some((e) => e.event.id === id && e.channel === 'server_to_server')).toBe(false);
    ids.push(id);
  }
  await page.screenshot({ path: join(import.meta.dirname, '..', 'test-output', 'thanks.png') });
  await expect
    .poll(() => sandbox.events().filter((e) => ids.includes(e.event.id)).length, { timeout: 20_000 })
    .toBe(4)
    .catch((error) => {
      console.error(
        JSON.stringify(
          sandbox.events().map((e) => [e.event.id, e.channel]),
          null,
          1,
        ),
        JSON.stringify(sandbox.requests().slice(-5)),
      );
      throw error;
    });
  for (const id of ids) {
    const copies = sandbox.events().filter((e) => e.event.id === id);
    expect(copies.map((c) => c.channel).sort()).toEqual(['pixel_sdk', 'server_to_server']);
    expect(copies.filter((c) => c.duplicateOf === undefined)).toHaveLength(1);
    expect(copies.every((c) => c.event.oppref === 'e2e-next')).toBe(true);
  }
  expect(errors).toEqual([]);
  await context.close();
});
