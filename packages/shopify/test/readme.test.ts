// Runs the README's Usage example: a signed orders/create delivery reaches the sandbox.
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Conversions } from '@chatgpt-ads/core';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { expect, it, vi } from 'vitest';
import { largeOrder, order } from './fixtures.js';

const packageDir = join(import.meta.dirname, '..');

it('the README webhook endpoint verifies, answers and sends', async () => {
  const sandbox = await startSandbox({ port: 0 });
  const secret = 'shpss_readme_secret';
  for (const [name, value] of Object.entries({
    SHOPIFY_API_KEY: 'readme-key',
    SHOPIFY_API_SECRET: secret,
    CHATGPT_ADS_PIXEL_ID: 'px_readme',
    CHATGPT_ADS_API_KEY: 'sk_readme',
    CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
  })) {
    vi.stubEnv(name, value);
  }
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1];
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const file = join(packageDir, 'test-output', 'readme-usage.ts');
  const cwd = mkdtempSync(join(tmpdir(), 'shopify-readme-'));
  writeFileSync(
    file,
    `${code!.replaceAll("'@chatgpt-ads/shopify'", "'../src/index.js'").replace("'./webhooks.db'", JSON.stringify(join(cwd, 'webhooks.db')))}\nexport { server, conversions };\n`,
  );
  vi.stubEnv('PORT', '0');
  // The block is a whole program: it starts listening itself.
  const { server, conversions } = (await import(/* @vite-ignore */ file)) as {
    server: Server;
    conversions: Conversions;
  };
  await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
  const deliver = (body: string, eventId: string) =>
    fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/orders/create`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('base64'),
        'x-shopify-topic': 'orders/create',
        'x-shopify-shop-domain': 'northwind.myshopify.com',
        'x-shopify-api-version': '2025-10',
        'x-shopify-webhook-id': `wh_${eventId}`,
        'x-shopify-event-id': eventId,
      },
    });
  const body = JSON.stringify(order({ note_attributes: [{ name: '_oppref', value: 'gAAAAB-readme' }] }));
  expect((await deliver(body, 'evt_readme')).status).toBe(200);

  // A 90-line-item order is past express.raw()'s 100 KB default: the README's limit must take it.
  const large = { ...largeOrder(90), id: 450789470 };
  const largeBody = JSON.stringify(large);
  expect(Buffer.byteLength(largeBody)).toBeGreaterThan(140 * 1024);
  expect((await deliver(largeBody, 'evt_large')).status).toBe(200);

  await conversions.shutdown();
  expect(
    sandbox
      .events()
      .map((e) => [
        e.event.id,
        e.event.oppref,
        (e.event.data as { contents?: unknown[] } | undefined)?.contents?.length,
      ]),
  ).toEqual([
    ['shopify_order_450789469', 'gAAAAB-readme', 1],
    ['shopify_order_450789470', 'gAAAAB-land+ing%2Bclick', 90],
  ]);
  await new Promise((resolve) => server.close(resolve));
  vi.unstubAllEnvs();
  await sandbox.close();
});
