import '@shopify/shopify-api/adapters/node';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type Conversions, createConversions } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { ApiVersion, shopifyApi } from '@shopify/shopify-api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createOrdersWebhook,
  type OrdersWebhookOptions,
  orderEventId,
  SqliteWebhookLog,
  type WebhookOutcome,
} from '../src/index.js';
import { order } from './fixtures.js';

const SECRET = 'shpss_test_app_secret';
const SHOP = 'northwind.myshopify.com';
const shopify = shopifyApi({
  apiKey: 'test-api-key',
  apiSecretKey: SECRET,
  scopes: ['read_orders'],
  hostName: 'app.example.test',
  apiVersion: ApiVersion.October25,
  isEmbeddedApp: true,
  logger: { log: () => undefined },
});

let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults([]);
  dir = mkdtempSync(join(tmpdir(), 'shopify-webhooks-'));
});

/** The app's webhook endpoint over real HTTP, as a merchant's server runs it. */
async function serve(
  logPath: string,
  overrides: { fetch?: typeof fetch; shopFor?: OrdersWebhookOptions['shopFor'] } = {},
) {
  const log = new SqliteWebhookLog({ path: logPath });
  const conversions: Conversions = createConversions({
    pixelId: 'px_shop',
    apiKey: 'sk_shop',
    endpoint: sandbox.endpoint,
    batch: { flushIntervalMs: 50 },
    logger: { warn() {}, error() {} },
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
  });
  const logged: string[] = [];
  const webhook = createOrdersWebhook({
    shopify,
    log,
    logger: { warn: (m) => logged.push(m), error: (m) => logged.push(m) },
    shopFor:
      overrides.shopFor ??
      (async (domain) =>
        domain === SHOP ? { conversions, options: { shopDomain: SHOP, shopCountry: 'US' } } : undefined),
  });
  const outcomes: WebhookOutcome[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const outcome = await webhook.handle({
        rawBody: Buffer.concat(chunks).toString('utf8'),
        rawRequest: req,
        rawResponse: res,
      });
      outcomes.push(outcome);
      res.statusCode = outcome.status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/orders/create`,
    outcomes,
    conversions,
    webhook,
    logged,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await conversions.shutdown();
      log.close();
    },
  };
}

function deliver(
  url: string,
  body: string,
  headers: { eventId?: string; hmac?: string; topic?: string } = {},
) {
  return fetch(url, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256':
        headers.hmac ?? createHmac('sha256', SECRET).update(body, 'utf8').digest('base64'),
      'x-shopify-topic': headers.topic ?? 'orders/create',
      'x-shopify-shop-domain': SHOP,
      'x-shopify-api-version': '2025-10',
      'x-shopify-webhook-id': `wh_${Math.random().toString(36).slice(2)}`,
      'x-shopify-event-id': headers.eventId ?? 'evt_1',
      'x-shopify-triggered-at': new Date().toISOString(),
    },
  });
}

let app: Awaited<ReturnType<typeof serve>> | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

describe('orders/create webhook', () => {
  it('sends the order as order_created with its click id', async () => {
    app = await serve(join(dir, 'log.db'));
    const response = await deliver(app.url, JSON.stringify(order()));
    expect(response.status).toBe(200);
    await app.conversions.flush();
    expect(sandbox.events().map((e) => [e.event.id, e.event.oppref])).toEqual([
      [orderEventId(450789469), 'gAAAAB-land+ing%2Bclick'],
    ]);
  });

  it('answers 401 for a forged HMAC or a body altered by one byte, and sends nothing', async () => {
    app = await serve(join(dir, 'log.db'));
    const body = JSON.stringify(order());
    const forged = await deliver(app.url, body, {
      hmac: createHmac('sha256', 'wrong-secret').update(body).digest('base64'),
    });
    const signature = createHmac('sha256', SECRET).update(body, 'utf8').digest('base64');
    const altered = await deliver(app.url, body.replace('129.99', '129.98'), { hmac: signature });
    expect([forged.status, altered.status]).toEqual([401, 401]);
    await app.conversions.flush();
    expect(sandbox.requests()).toEqual([]);
  });

  it('sends one conversion when Shopify delivers the same event three times, even across a restart', async () => {
    const logPath = join(dir, 'log.db');
    app = await serve(logPath);
    const body = JSON.stringify(order());
    expect((await deliver(app.url, body, { eventId: 'evt_9' })).status).toBe(200);
    expect((await deliver(app.url, body, { eventId: 'evt_9' })).status).toBe(200);
    await app.close();
    app = await serve(logPath); // a deploy between deliveries
    expect((await deliver(app.url, body, { eventId: 'evt_9' })).status).toBe(200);
    await app.conversions.flush();
    expect(app.outcomes.map((o) => o.outcome)).toEqual(['duplicate']);
    expect(sandbox.requests().filter((r) => r.status === 200)).toHaveLength(1);
    expect(sandbox.events()).toHaveLength(1);
  });

  it('answers Shopify before the endpoint answers; the conversion arrives after', async () => {
    // The endpoint is held until Shopify has its answer. A webhook that waited for the send would
    // never answer while the endpoint is held; the guard below releases it anyway so such a webhook
    // fails on the order of events instead of hanging the suite.
    const steps: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const guard = setTimeout(release, 15_000);
    app = await serve(join(dir, 'log.db'), {
      fetch: async (input, init) => {
        steps.push('endpoint reached');
        await held;
        const response = await fetch(input, init);
        steps.push('endpoint answered');
        return response;
      },
    });
    const response = await deliver(app.url, JSON.stringify(order()), { eventId: 'evt_slow' });
    steps.push(`webhook answered ${response.status}`);
    release();
    await app.conversions.flush();
    clearTimeout(guard);
    expect(steps.filter((step) => step !== 'endpoint reached')).toEqual([
      'webhook answered 200',
      'endpoint answered',
    ]);
    expect(sandbox.events().map((e) => e.event.id)).toEqual([orderEventId(450789469)]);
  });

  it('answers 200 to a body Shopify signed that is not JSON, logs and counts it, and sends nothing', async () => {
    app = await serve(join(dir, 'log.db'));
    const body = '{"id": 450789469, "line_items": [ truncated';
    const response = await deliver(app.url, body, { eventId: 'evt_broken' });
    expect(response.status).toBe(200);
    expect(app.outcomes.map((o) => o.outcome)).toEqual(['unreadable']);
    expect(app.webhook.stats()).toMatchObject({ unreadable: 1, tracked: 0, failed: 0 });
    expect(app.logged).toHaveLength(1);
    expect(app.logged[0]).toMatch(/evt_broken.*not JSON.*answered 200/);
    expect(app.logged[0]).not.toContain('truncated'); // the body never reaches the log
    // A redelivery of the same event is a duplicate: the claim was kept, nothing is retried.
    expect((await deliver(app.url, body, { eventId: 'evt_broken' })).status).toBe(200);
    await app.conversions.flush();
    expect(sandbox.requests()).toEqual([]);
  });

  it('answers 200 to signed JSON that is not an order (null, an array), counted as unreadable', async () => {
    app = await serve(join(dir, 'log.db'));
    expect((await deliver(app.url, 'null', { eventId: 'evt_null' })).status).toBe(200);
    expect((await deliver(app.url, '[1,2]', { eventId: 'evt_array' })).status).toBe(200);
    const badMoney = JSON.stringify(order({ total: 'twelve' }));
    expect((await deliver(app.url, badMoney, { eventId: 'evt_money' })).status).toBe(200);
    expect(app.outcomes.map((o) => o.outcome)).toEqual(['unreadable', 'unreadable', 'unreadable']);
  });

  it('answers 503, never 500, when the shop settings cannot be loaded, and processes the redelivery', async () => {
    let broken = true;
    const conversions = createConversions({
      pixelId: 'px_shop',
      apiKey: 'sk_shop',
      endpoint: sandbox.endpoint,
      logger: { warn() {}, error() {} },
    });
    app = await serve(join(dir, 'log.db'), {
      shopFor: async () => {
        if (broken) throw new Error('stored key was encrypted with key id "k0", which is not configured');
        return { conversions, options: { shopDomain: SHOP, shopCountry: 'US' } };
      },
    });
    const body = JSON.stringify(order());
    expect((await deliver(app.url, body, { eventId: 'evt_key' })).status).toBe(503);
    expect(app.logged.join('\n')).toMatch(/evt_key.*503.*key id "k0"/);
    broken = false; // the operator restores the key; Shopify delivers the same event again
    expect((await deliver(app.url, body, { eventId: 'evt_key' })).status).toBe(200);
    expect(app.outcomes.map((o) => o.outcome)).toEqual(['failed', 'tracked']);
    await conversions.shutdown();
    expect(sandbox.events()).toHaveLength(1);
  });

  it('treats a missing body as unsigned (401), not a TypeError', async () => {
    const log = new SqliteWebhookLog({ path: join(dir, 'log.db') });
    const webhook = createOrdersWebhook({ shopify, log, shopFor: async () => undefined });
    const rawRequest = { headers: { 'x-shopify-hmac-sha256': 'x' }, method: 'POST', url: '/' };
    for (const rawBody of [undefined, null, '', new Uint8Array()]) {
      await expect(webhook.handle({ rawBody, rawRequest })).resolves.toEqual({
        status: 401,
        outcome: 'invalid',
      });
    }
    log.close();
  });

  it('prints and serializes without the app secret or any API key', async () => {
    app = await serve(join(dir, 'log.db'));
    const shown = [
      inspect(app.webhook, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify(app.webhook),
      String(app.webhook),
    ].join('\n');
    expect(shown).toContain('OrdersWebhook');
    expect(shown).not.toContain(SECRET);
    expect(shown).not.toContain('sk_shop');
  });

  it('skips test and POS orders and ignores other topics, answering 200', async () => {
    app = await serve(join(dir, 'log.db'));
    await deliver(app.url, JSON.stringify(order({ test: true })), { eventId: 'evt_test' });
    await deliver(app.url, JSON.stringify(order({ source_name: 'pos' })), { eventId: 'evt_pos' });
    await deliver(app.url, JSON.stringify(order()), { eventId: 'evt_other', topic: 'orders/updated' });
    await app.conversions.flush();
    expect(
      app.outcomes.map((o) => [o.outcome, o.mapped && !o.mapped.send ? o.mapped.reason : undefined]),
    ).toEqual([
      ['skipped', 'test_order'],
      ['skipped', 'not_online_store'],
      ['ignored_topic', undefined],
    ]);
    expect(sandbox.requests()).toEqual([]);
  });
});
