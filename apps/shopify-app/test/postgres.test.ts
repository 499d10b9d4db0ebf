// Two instances of the app on one PostgreSQL (a throwaway server from @tooling/postgres): sessions,
// settings, the webhook log, the delivery status and the outbox are shared, so Shopify's redelivery
// of one order to both instances becomes one conversion.
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { startPostgres, type ThrowawayPostgres } from '@tooling/postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresBackend, outboxTable } from '../src/postgres.js';
import {
  Admin,
  deliver,
  install,
  key,
  orderBody,
  type StartedApp,
  shopifyStandIn,
  startApp,
} from './helpers.js';

const SHOP = 'northwind.myshopify.com';
let server: ThrowawayPostgres;
let url: string;
let sandbox: Sandbox;
let first: StartedApp;
let second: StartedApp;
let closed = false;

beforeAll(async () => {
  server = await startPostgres({ quiet: true });
  url = await server.createDatabase('shopify_app');
  sandbox = await startSandbox({ port: 0 });
  // Both start at once, as a fleet does (one configuration): the schema is created once, under a lock.
  const encryptionKeys = key('k1');
  const started = await Promise.all(
    [1, 2].map(() =>
      startApp({
        storage: openPostgresBackend(url),
        conversionsEndpoint: sandbox.endpoint,
        encryptionKeys,
      }),
    ),
  );
  first = started[0]!;
  second = started[1]!;
});
afterAll(async () => {
  if (!closed) await Promise.all([first?.close(), second?.close()]);
  await sandbox?.close();
  await server?.stop();
});

it('shares sessions and settings: a shop installed through one instance is served by the other', async () => {
  const merchant = await install(first, SHOP);
  expect((await merchant.save({ pixelId: 'px_fleet', apiKey: 'sk_live_fleet_4242' })).status).toBe(200);
  const exchanges = shopifyStandIn.tokenRequests.length;
  const onSecond = new Admin(second, SHOP);
  const page = await onSecond.open();
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('ending in 4242');
  // The offline token stored by the first instance is used by the second: no new exchange.
  expect(shopifyStandIn.tokenRequests.length).toBe(exchanges);
  expect((await second.store.settings(SHOP))?.pixelId).toBe('px_fleet');
});

it('settings saved on one instance are used by the other for its next order', async () => {
  sandbox.reset();
  // The first instance makes its client for the shop with the first settings…
  expect(
    (await deliver(first.base, '/webhooks/orders/create', 'orders/create', orderBody(8_000_101))).status,
  ).toBe(200);
  await expect.poll(() => sandbox.events().map((e) => e.pixelId), { timeout: 10_000 }).toEqual(['px_fleet']);
  // …the merchant saves new ones through the second…
  expect((await new Admin(second, SHOP).save({ pixelId: 'px_fleet_new' })).status).toBe(200);
  // …and the first sends the next order with them.
  expect(
    (await deliver(first.base, '/webhooks/orders/create', 'orders/create', orderBody(8_000_102))).status,
  ).toBe(200);
  await expect
    .poll(() => sandbox.events().map((e) => `${e.event.id} ${e.pixelId}`), { timeout: 10_000 })
    .toEqual(['shopify_order_8000101 px_fleet', 'shopify_order_8000102 px_fleet_new']);
});

it('one conversion for an order Shopify delivers to both instances, and both show it sent', async () => {
  sandbox.reset();
  const before = [first, second].map((app) => app.webhook.stats());
  const body = orderBody(8_100_001);
  const [a, b] = await Promise.all([
    deliver(first.base, '/webhooks/orders/create', 'orders/create', body, { eventId: 'evt_fleet_1' }),
    deliver(second.base, '/webhooks/orders/create', 'orders/create', body, { eventId: 'evt_fleet_1' }),
  ]);
  expect([a.status, b.status]).toEqual([200, 200]);
  // And once more to each, as a redelivery after a timeout would arrive.
  for (const app of [first, second]) {
    const again = await deliver(app.base, '/webhooks/orders/create', 'orders/create', body, {
      eventId: 'evt_fleet_1',
    });
    expect(again.status).toBe(200);
  }
  const added = (outcome: 'tracked' | 'duplicate') =>
    [first, second]
      .map((app, i) => app.webhook.stats()[outcome] - before[i]![outcome])
      .reduce((x, y) => x + y);
  expect(added('tracked')).toBe(1);
  expect(added('duplicate')).toBe(3);
  await expect
    .poll(() => sandbox.events().map((e) => e.event.id), { timeout: 10_000 })
    .toEqual(['shopify_order_8100001']);
  for (const app of [first, second]) {
    await expect
      .poll(
        async () => (await new Admin(app, SHOP).status()).deliveries.map((d) => `${d.order} ${d.outcome}`),
        {
          timeout: 10_000,
        },
      )
      .toEqual(['#1 sent', '#102 sent', '#101 sent']);
  }
  // Both instances flushed and nothing waits in the shop's outbox table.
  await Promise.all([first.close(), second.close()]);
  closed = true;
  expect(sandbox.events()).toHaveLength(1);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const waiting = await client.query(
    `SELECT COUNT(*)::int AS n FROM ${outboxTable(SHOP)} WHERE state IN ('waiting', 'leased')`,
  );
  await client.end();
  expect(waiting.rows[0].n).toBe(0);
});
