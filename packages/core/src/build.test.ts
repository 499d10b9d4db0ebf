import { describe, expect, it } from 'vitest';
import { buildEvent } from './build.js';
import { validateEvent } from './validate.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const EMAIL_HASH = '6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110';
const PHONE_HASH = '758fbf68945f21c416814c539ab578876c8d98fb69e6da692def92cd52417fe0';
const context = {
  oppref: 'gAAAAB_click-1',
  obref: '0b7c9a0e-0d7f-4a0c-9f43-1d2b1c3e4f50',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  sourceUrl: 'https://shop.example/checkout/done?order=1001&email=alex%40example.com#thanks',
  consent: 'granted' as const,
};

describe('buildEvent', () => {
  it('turns the friendly input and request context into the exact wire event', async () => {
    const result = await buildEvent(
      {
        type: 'order_created',
        id: 'order_1001',
        data: {
          amount: 12999,
          currency: 'usd',
          contents: [
            {
              id: 'sku_1',
              groupId: 'mug',
              name: 'Mug',
              contentType: 'product',
              quantity: 2,
              amount: 4500,
              variantDict: { color: 'blue' },
            },
          ],
        },
        user: {
          email: [' Alex@Example.com ', 'alex@example.com'],
          phone: '+1 (415) 555-2671',
          city: ' Paris ',
          country: 'fr',
        },
      },
      context,
      { now: NOW },
    );
    expect(result).toEqual({
      ok: true,
      warnings: [],
      event: {
        id: 'order_1001',
        type: 'order_created',
        timestamp_ms: NOW,
        oppref: 'gAAAAB_click-1',
        action_source: 'web',
        source_url: 'https://shop.example/checkout/done',
        user: {
          emails_sha256: [EMAIL_HASH],
          phone_numbers_sha256: [PHONE_HASH],
          cities: ['Paris'],
          countries: ['FR'],
          ip_address: '203.0.113.7',
          user_agent: 'Mozilla/5.0 (X11; Linux x86_64)',
          obref: '0b7c9a0e-0d7f-4a0c-9f43-1d2b1c3e4f50',
        },
        data: {
          type: 'contents',
          amount: 12999,
          currency: 'USD',
          contents: [
            {
              id: 'sku_1',
              group_id: 'mug',
              name: 'Mug',
              content_type: 'product',
              quantity: 2,
              amount: 4500,
              variant_dict: { color: 'blue' },
            },
          ],
        },
      },
    });
  });

  it('generates a UUID id and defaults the timestamp to now', async () => {
    const result = await buildEvent({ type: 'lead_created' }, context, { now: NOW });
    expect(result.ok && result.event.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(result.ok && result.event.timestamp_ms).toBe(NOW);
  });

  it('keeps the oppref byte for byte, including percent-encoding', async () => {
    const result = await buildEvent(
      { type: 'lead_created' },
      { ...context, oppref: 'oppref%2Babc+def' },
      { now: NOW },
    );
    expect(result.ok && result.event.oppref).toBe('oppref%2Babc+def');
  });

  it('caps each list at the first three unique values and mixes raw and pre-hashed', async () => {
    const result = await buildEvent(
      {
        type: 'lead_created',
        user: {
          email: ['a@x.io', 'b@x.io', 'A@x.io', 'c@x.io', 'd@x.io'],
          emailSha256: EMAIL_HASH,
          country: ['US', 'us', 'CA', 'MX', 'FR'],
        },
      },
      context,
      { now: NOW },
    );
    if (!result.ok) throw new Error('refused');
    expect(result.event.user?.emails_sha256).toHaveLength(3);
    expect(result.event.user?.countries).toEqual(['US', 'CA', 'MX']);
  });

  it('leaves refused identifiers out with a warning and still accepts the conversion', async () => {
    const result = await buildEvent(
      {
        type: 'lead_created',
        user: {
          phone: '020 7946 0958',
          email: 'alex@example.com',
          emailSha256: 'NOT-A-HASH',
          ipAddress: 'nope',
        },
      },
      context,
      { now: NOW },
    );
    if (!result.ok) throw new Error('refused');
    expect(result.event.user?.phone_numbers_sha256).toBeUndefined();
    expect(result.event.user?.emails_sha256).toEqual([EMAIL_HASH]);
    expect(result.warnings.map((w) => w.code).sort()).toEqual([
      'hash_invalid',
      'ip_address_invalid',
      'phone_ambiguous',
    ]);
    expect(JSON.stringify(result.warnings)).not.toContain('7946');
  });

  it('uses defaultCountry for national phone numbers', async () => {
    const result = await buildEvent({ type: 'lead_created', user: { phone: '(415) 555-2671' } }, context, {
      now: NOW,
      defaultCountry: 'US',
    });
    expect(result.ok && result.event.user?.phone_numbers_sha256).toEqual([PHONE_HASH]);
  });

  it('lowercases custom event names and forces mobile_app on app events', async () => {
    const custom = await buildEvent(
      { type: 'custom', customEventName: 'Quote_Requested', data: { tier: 'gold' } },
      context,
      { now: NOW },
    );
    expect(custom.ok && custom.event).toMatchObject({
      custom_event_name: 'quote_requested',
      data: { type: 'custom', tier: 'gold' },
    });
    const app = await buildEvent(
      { type: 'app_installed', user: { androidAdvertisingId: '38400000-8cf0-11bd-b23e-10b96e40000d' } },
      {},
      { now: NOW },
    );
    expect(app.ok && app.event.action_source).toBe('mobile_app');
  });

  it('drops an all-zero Android advertising id', async () => {
    const result = await buildEvent(
      { type: 'app_opened', user: { androidAdvertisingId: '00000000-0000-0000-0000-000000000000' } },
      {},
      { now: NOW },
    );
    expect(result.ok && result.event.user).toBeUndefined();
  });

  it('refuses a conversion with no way to know its action source', async () => {
    const result = await buildEvent({ type: 'lead_created' }, {}, { now: NOW });
    expect(result).toMatchObject({ ok: false, issues: [{ code: 'action_source_required' }] });
    const offline = await buildEvent(
      { type: 'lead_created' },
      {},
      { now: NOW, defaultActionSource: 'offline' },
    );
    expect(offline.ok).toBe(true);
  });

  it('refuses invalid inputs with wire paths', async () => {
    const result = await buildEvent(
      { type: 'order_created', timestampMs: NOW + 3_600_000, data: { amount: 10.5 } },
      context,
      { now: NOW },
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => [i.path, i.code])).toEqual([
      ['timestamp_ms', 'timestamp_in_future'],
      ['data.amount', 'not_integer'],
      ['data.currency', 'currency_required'],
    ]);
  });

  it('refuses an unknown type and a non-object input without throwing', async () => {
    expect(await buildEvent({ type: 'purchase' } as never)).toMatchObject({
      ok: false,
      issues: [{ code: 'type_invalid' }],
    });
    expect(await buildEvent(null as never)).toMatchObject({ ok: false, issues: [{ code: 'not_object' }] });
  });

  it('leaves an unsafe oppref out with a warning', async () => {
    const result = await buildEvent({ type: 'lead_created' }, { ...context, oppref: 'a"b' }, { now: NOW });
    expect(result.ok && result.event.oppref).toBeUndefined();
    expect(result.ok && result.warnings[0]?.code).toBe('oppref_invalid');
  });

  it('produces events that validateEvent accepts', async () => {
    const result = await buildEvent(
      { type: 'subscription_created', data: { planId: 'pro', amount: 900, currency: 'EUR' } },
      context,
      { now: NOW },
    );
    if (!result.ok) throw new Error('refused');
    expect(validateEvent(result.event, { now: NOW })).toEqual([]);
  });

  it('keeps the query string only when asked', async () => {
    const result = await buildEvent({ type: 'lead_created' }, context, {
      now: NOW,
      keepSourceUrlQuery: true,
    });
    expect(result.ok && result.event.source_url).toBe(context.sourceUrl);
  });
});

describe('buildEvent with an injected hash', () => {
  it('uses it for every identifier (e.g. node:crypto on Node)', async () => {
    const seen: string[] = [];
    const hash = async (value: string) => {
      seen.push(value);
      return '0'.repeat(64);
    };
    const result = await buildEvent(
      { type: 'lead_created', user: { email: 'A@x.io', lastName: "O'Neil" } },
      context,
      { now: NOW, hash },
    );
    expect(seen.sort()).toEqual(['a@x.io', 'oneil']);
    expect(result.ok && result.event.user?.emails_sha256).toEqual(['0'.repeat(64)]);
  });
});

describe('source_url', () => {
  it.each([
    ['https://shop.example/checkout/done?order=1#x', 'https://shop.example/checkout/done'],
    ['https://shop.example?x=1', 'https://shop.example/'],
    ['https://shop.example', 'https://shop.example/'],
    ['http://127.0.0.1:3000/lead', 'http://127.0.0.1:3000/lead'],
    ['HTTPS://Shop.Example:443/A?b', 'https://shop.example/A'],
    ['https://user:pw@shop.example/p?q', 'https://shop.example/p'],
    ['http://shop.example:80/a/./b/../c?x', 'http://shop.example/a/c'],
    ['http://shop.example:03000/x', 'http://shop.example:3000/x'],
    ['https://shop.example/caf%C3%A9/ä b', 'https://shop.example/caf%C3%A9/%C3%A4%20b'],
    ['https://shop.example./p', 'https://shop.example./p'],
  ])('%s → %s (origin + path, as the URL parser gives it)', async (raw, expected) => {
    const result = await buildEvent({ type: 'lead_created' }, { sourceUrl: raw }, { now: NOW });
    const viaParser = `${new URL(raw).origin}${new URL(raw).pathname}`;
    expect(viaParser).toBe(expected);
    expect(result.ok && result.event.source_url).toBe(expected);
  });
});
