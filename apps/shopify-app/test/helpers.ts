// Drives the app as Shopify and a merchant's browser do: real HTTP, a cookie jar, signed webhooks,
// and a stand-in for Shopify's OAuth token endpoint.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setAbstractFetchFunc } from '@shopify/shopify-api/runtime';
import { createShopifyApp, type ShopifyAppOptions } from '../src/app.js';

export const API_KEY = 'app-client-id';
export const SECRET = 'shpss_app_secret_for_tests';
export const key = (id: string) => `${id}:${randomBytes(32).toString('base64url')}`;

// Shopify's token endpoint, as the app's server-side fetch reaches it: it checks the client id, the
// client secret the app was started with, and the one-time code.
const secrets = new Map<string, string>();
export const tokenRequests: Array<Record<string, string>> = [];
setAbstractFetchFunc(async (input, init) => {
  const url = new URL(String(input));
  if (url.pathname === '/admin/oauth/access_token' && url.hostname.endsWith('.myshopify.com')) {
    const body = JSON.parse(String(init?.body));
    tokenRequests.push(body);
    if (body.client_id !== API_KEY || !secrets.has(body.client_secret) || body.code !== 'auth-code-1') {
      return new Response('{"error":"invalid_request"}', { status: 400 });
    }
    return Response.json({ access_token: `shpat_${url.hostname}`, scope: 'read_orders' });
  }
  return fetch(input, init);
});

export type StartedApp = Awaited<ReturnType<typeof startApp>>;

/**
 * The app on a free port; `overrides` change its options, `dbPath` reuses a database (a restart).
 * Given a function, it receives the app's own origin first (for a browser that must see it as same-origin).
 */
export async function startApp(
  overrides: Partial<ShopifyAppOptions> | ((base: string) => Partial<ShopifyAppOptions>) = {},
) {
  const logged: string[] = [];
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const options: ShopifyAppOptions = {
    apiKey: API_KEY,
    apiSecret: SECRET,
    hostName: 'app.example.test',
    dbPath: join(mkdtempSync(join(tmpdir(), 'shopify-app-')), 'app.db'),
    encryptionKeys: key('k1'),
    logger: {
      info: (m) => logged.push(m),
      warn: (m) => logged.push(m),
      error: (m, e) => logged.push(`${m}${e ? ` ${(e as Error).stack}` : ''}`),
    },
    ...(typeof overrides === 'function' ? overrides(base) : overrides),
  };
  secrets.set(options.apiSecret, options.apiKey);
  const created = createShopifyApp(options);
  server.on('request', created.app);
  return {
    ...created,
    base,
    options,
    logged,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await created.close();
    },
  };
}

/** A merchant's browser: keeps cookies, follows nothing by itself. */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.base}${path}`, {
      ...init,
      redirect: 'manual',
      headers: {
        // shopify-api turns bots away from OAuth; this is a merchant's browser.
        'user-agent':
          'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0 Safari/537.36',
        cookie: [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(init.headers as Record<string, string>),
      },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(cookie))
        this.jar.delete(pair.slice(0, eq));
      else this.jar.set(pair.slice(0, eq), value);
    }
    return response;
  }

  /** The CSRF token of the settings page's forms. */
  async csrf(): Promise<string> {
    const page = await (await this.fetch('/settings')).text();
    const token = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
    if (!token) throw new Error(`no CSRF token on the settings page:\n${page}`);
    return token;
  }

  /** Posts a form as the settings page does, with its CSRF token unless one is given. */
  async post(path: string, fields: Record<string, string> = {}, headers: Record<string, string> = {}) {
    const body = new URLSearchParams({ csrf: await this.csrf(), ...fields });
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body.toString(),
    });
  }
}

/** OAuth install as Shopify runs it: /auth, the merchant approves, Shopify calls back signed. */
export async function install(app: StartedApp, shop: string, browser = new Browser(app.base)) {
  const begin = await browser.fetch(`/auth?shop=${shop}`);
  if (begin.status !== 302) throw new Error(`/auth answered ${begin.status}`);
  const authorize = new URL(begin.headers.get('location')!);
  const callback = await browser.fetch(
    `/auth/callback?${signedQuery(app.options.apiSecret, { code: 'auth-code-1', host: 'bm9ydGh3aW5k', shop, state: authorize.searchParams.get('state')! })}`,
  );
  if (callback.status !== 303) throw new Error(`/auth/callback answered ${callback.status}`);
  return { browser, authorize, callback };
}

export function signedQuery(secret: string, fields: Record<string, string>) {
  const query = new URLSearchParams(
    Object.entries({ ...fields, timestamp: String(Math.floor(Date.now() / 1000)) }).sort(([a], [b]) =>
      a.localeCompare(b),
    ),
  );
  query.set('hmac', createHmac('sha256', secret).update(query.toString()).digest('hex'));
  return query;
}

/** A webhook delivery from Shopify, signed with `secret` unless `hmac` is given. */
export function deliver(
  base: string,
  path: string,
  topic: string,
  body: string | undefined,
  options: {
    secret?: string;
    hmac?: string;
    shop?: string;
    eventId?: string;
    contentType?: string | null;
  } = {},
) {
  const headers: Record<string, string> = {
    'x-shopify-hmac-sha256':
      options.hmac ??
      createHmac('sha256', options.secret ?? SECRET)
        .update(body ?? '')
        .digest('base64'),
    'x-shopify-topic': topic,
    'x-shopify-shop-domain': options.shop ?? 'northwind.myshopify.com',
    'x-shopify-api-version': '2025-10',
    'x-shopify-webhook-id': `wh_${randomBytes(6).toString('hex')}`,
    'x-shopify-event-id': options.eventId ?? `evt_${randomBytes(6).toString('hex')}`,
  };
  if (options.contentType !== null) headers['content-type'] = options.contentType ?? 'application/json';
  return fetch(`${base}${path}`, { method: 'POST', ...(body === undefined ? {} : { body }), headers });
}

const GIFT_NOTE =
  'Happy birthday! We picked this one because you said the Ethiopian last spring was the best cup you had all year. ' +
  'Grind it just before brewing, 60 g per litre, water just off the boil, and let it bloom for thirty seconds. ' +
  'There is a second bag in the box for the office, so nobody has to drink the instant stuff any more. ' +
  'See you at the cabin in June, and bring the good kettle this time. With love from all of us.';

export function orderBody(id: number, lineItems = 1): string {
  return JSON.stringify({
    id,
    created_at: new Date().toISOString(),
    currency: 'JPY',
    total_price: '8900',
    total_price_set: {
      shop_money: { amount: '8900', currency_code: 'JPY' },
      presentment_money: { amount: '8900', currency_code: 'JPY' },
    },
    source_name: 'web',
    email: 'yuki@example.jp',
    note_attributes: [
      { name: '_oppref', value: 'gAAAAB-shopify-app' },
      { name: '_chatgpt_ads_consent', value: 'granted' },
    ],
    line_items: Array.from({ length: lineItems }, (_, i) => ({
      id: 1 + i,
      product_id: 1000 + i,
      variant_id: 2000 + i,
      title: `Beans no. ${i + 1}`,
      name: `Beans no. ${i + 1} - 1 kg / Whole bean`,
      sku: `NW-BEANS-${i}`,
      vendor: 'Northwind Roasters',
      quantity: 1,
      price: '8900',
      price_set: {
        shop_money: { amount: '8900', currency_code: 'JPY' },
        presentment_money: { amount: '8900', currency_code: 'JPY' },
      },
      properties: [
        { name: 'Grind', value: 'Whole bean' },
        { name: 'Roast date', value: '2026-03-01' },
        { name: 'Gift note', value: GIFT_NOTE },
      ],
      tax_lines: [
        {
          title: 'Consumption tax',
          price: '809',
          rate: 0.1,
          price_set: { shop_money: { amount: '809', currency_code: 'JPY' } },
        },
      ],
      discount_allocations: [{ amount: '0', discount_application_index: 0 }],
      origin_location: {
        id: 44,
        country_code: 'JP',
        name: 'Northwind Roasters',
        address1: '1-1 Marunouchi',
        city: 'Tokyo',
        zip: '100-0005',
      },
      fulfillment_service: 'manual',
      requires_shipping: true,
      taxable: true,
      grams: 1000,
      admin_graphql_api_id: `gid://shopify/LineItem/${1 + i}`,
      variant_title: '1 kg / Whole bean',
      gift_card: false,
      product_exists: true,
      total_discount: '0',
      total_discount_set: {
        shop_money: { amount: '0', currency_code: 'JPY' },
        presentment_money: { amount: '0', currency_code: 'JPY' },
      },
      duties: [],
    })),
  });
}

/**
 * A Conversions API endpoint in front of the sandbox that can be held closed: requests wait until
 * `open()`; every answer is recorded in `steps`.
 */
export async function gatedEndpoint(target: string) {
  const steps: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      await gate;
      const url = new URL(req.url ?? '/', target);
      const answer = await fetch(new URL(`${url.pathname}${url.search}`, target), {
        method: req.method ?? 'POST',
        headers: Object.fromEntries(
          Object.entries(req.headers).filter(
            ([name]) => !['host', 'content-length', 'connection'].includes(name),
          ),
        ) as Record<string, string>,
        body: Buffer.concat(chunks),
      });
      const body = Buffer.from(await answer.arrayBuffer());
      // Named by what it carried: a send left over from an earlier test must not pass for this one.
      steps.push(`endpoint answered ${Buffer.concat(chunks).toString('utf8')}`);
      res.writeHead(answer.status, {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint: new URL(new URL(target).pathname, origin).toString(),
    steps,
    hold() {
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    open() {
      release();
      gate = Promise.resolve();
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Markup that runs script if any page echoes it raw: each sets `window.__xss`. */
export const XSS_PAYLOADS = [
  '<script>window.__xss=1</script>',
  '"><img src=x onerror="window.__xss=1">',
  "'><svg onload=window.__xss=1>",
  '</title><script>window.__xss=1</script>',
  'javascript:window.__xss=1',
  '<iframe srcdoc="<script>parent.__xss=1</script>">',
];
