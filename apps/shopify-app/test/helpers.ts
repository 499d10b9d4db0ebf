// Drives the app as Shopify and a merchant in the admin do: real HTTP, session tokens signed here
// with the app secret, signed webhooks, and a local stand-in for Shopify's token endpoint and
// GraphQL Admin API (the app's Shopify client is pointed at it; nothing reaches the network).
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

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A session token as Shopify's admin issues it to App Bridge: an HS256 JWT signed with the app
 * secret, for one shop, valid for a minute. `claims` and `secret` make the bad ones.
 */
export function sessionToken(shop: string, claims: Record<string, unknown> = {}, secret = SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({
    iss: `https://${shop}/admin`,
    dest: `https://${shop}`,
    aud: API_KEY,
    sub: '42',
    exp: now + 60,
    nbf: now - 5,
    iat: now - 5,
    jti: randomBytes(8).toString('hex'),
    sid: randomBytes(8).toString('hex'),
    ...claims,
  })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/** What the stand-in of Shopify saw and what it answers. */
export const shopifyStandIn = {
  /** Token exchange requests, as sent. */
  tokenRequests: [] as Array<Record<string, string>>,
  /** GraphQL queries, with the access token they carried. */
  graphqlRequests: [] as Array<{ shop: string; token: string; query: string }>,
  /** Each shop's billing country. */
  countries: new Map<string, string>([['northwind.myshopify.com', 'DE']]),
  /** When set, the Admin API answers this status. */
  adminStatus: undefined as number | undefined,
  /** Secrets the stand-in accepts, with their client ids. */
  clients: new Map<string, string>(),
  tokens: new Map<string, string>(),
  origin: '',
};

function verifyJwt(token: string, secret: string): Record<string, unknown> | undefined {
  const [header, payload, signature] = token.split('.');
  if (!header || !payload || !signature) return undefined;
  const expected = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return expected === signature ? JSON.parse(Buffer.from(payload, 'base64url').toString()) : undefined;
}

/** Shopify's token endpoint and GraphQL Admin API, for `<shop>/admin/...` paths. */
const standIn: Server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const [, shop = '', ...rest] = (req.url ?? '').split('/');
    const path = `/${rest.join('/')}`;
    const answer = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (req.method === 'POST' && path === '/admin/oauth/access_token') {
      const request = JSON.parse(body) as Record<string, string>;
      shopifyStandIn.tokenRequests.push({ shop, ...request });
      const secret = request.client_secret ?? '';
      const claims = verifyJwt(request.subject_token ?? '', secret);
      if (
        shopifyStandIn.clients.get(secret) !== request.client_id ||
        request.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' ||
        request.subject_token_type !== 'urn:ietf:params:oauth:token-type:id_token' ||
        request.requested_token_type !== 'urn:shopify:params:oauth:token-type:offline-access-token' ||
        claims?.dest !== `https://${shop}`
      ) {
        return answer(400, { error: 'invalid_subject_token' });
      }
      const token = `shpat_${randomBytes(8).toString('hex')}`;
      shopifyStandIn.tokens.set(token, shop);
      return answer(200, { access_token: token, scope: 'read_orders' });
    }
    if (req.method === 'POST' && /^\/admin\/api\/[\w-]+\/graphql\.json$/.test(path)) {
      const token = String(req.headers['x-shopify-access-token'] ?? '');
      shopifyStandIn.graphqlRequests.push({ shop, token, query: JSON.parse(body).query });
      if (shopifyStandIn.adminStatus) return answer(shopifyStandIn.adminStatus, { errors: 'unavailable' });
      if (shopifyStandIn.tokens.get(token) !== shop)
        return answer(401, { errors: 'Invalid API key or access token' });
      const country = shopifyStandIn.countries.get(shop) ?? 'US';
      return answer(200, { data: { shop: { billingAddress: { countryCodeV2: country } } } });
    }
    answer(404, { errors: 'Not Found' });
  });
});
await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
standIn.unref();
shopifyStandIn.origin = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
// The app's Shopify client sends every Admin request through this function: `https://<shop>/…`
// goes to the stand-in; anything else (the sandbox, local servers) is fetched as asked.
setAbstractFetchFunc(async (input, init) => {
  const url = new URL(String(input));
  if (url.hostname.endsWith('.myshopify.com')) {
    return fetch(`${shopifyStandIn.origin}/${url.hostname}${url.pathname}${url.search}`, init);
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
  shopifyStandIn.clients.set(options.apiSecret, options.apiKey);
  const created = await createShopifyApp(options);
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

/** The app as a browser must see it: on its own origin (loopback, http), as over https in production. */
export function startAppOnOwnOrigin(conversionsEndpoint: string) {
  return startApp((base) => ({ hostName: new URL(base).host, hostScheme: 'http', conversionsEndpoint }));
}

/**
 * A merchant in the Shopify admin: opens the app as the admin does (shop, host, a fresh session
 * token in the URL; no cookie) and calls its API the way App Bridge's fetch does.
 */
export class Admin {
  constructor(
    readonly app: { base: string; options: ShopifyAppOptions },
    readonly shop: string,
  ) {}

  token(claims: Record<string, unknown> = {}, secret = this.app.options.apiSecret): string {
    return sessionToken(this.shop, { aud: this.app.options.apiKey, ...claims }, secret);
  }

  /** The app's home as the admin loads it in its iframe. */
  open(query: Record<string, string> = {}) {
    const params = new URLSearchParams({
      embedded: '1',
      host: Buffer.from(`admin.shopify.com/store/${this.shop.split('.')[0]}`).toString('base64url'),
      shop: this.shop,
      id_token: this.token(),
      ...query,
    });
    return fetch(`${this.app.base}/?${params}`, { redirect: 'manual' });
  }

  /** A call from the settings page: JSON, with `Authorization: Bearer <session token>`. */
  call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return fetch(`${this.app.base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token()}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async save(fields: { pixelId: string; apiKey?: string; consentPolicy?: string }) {
    return this.call('POST', '/api/settings', { consentPolicy: 'skip-in-eea-uk-ch', apiKey: '', ...fields });
  }

  async status(): Promise<{
    backlog: number;
    deliveries: Array<{ order: string; eventId: string; outcome: string; reason?: string }>;
    halted?: string;
  }> {
    const response = await this.call('GET', '/api/status');
    if (response.status !== 200) throw new Error(`/api/status answered ${response.status}`);
    return response.json();
  }
}

/** Opens the app from the admin once (the token exchange happens there) and returns the merchant. */
export async function install(app: StartedApp, shop: string) {
  const admin = new Admin(app, shop);
  const response = await admin.open();
  if (response.status !== 200) throw new Error(`the app's home answered ${response.status}`);
  return admin;
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

export function orderBody(id: number, lineItems = 1, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    name: `#${id % 100_000}`,
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
    ...extra,
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
