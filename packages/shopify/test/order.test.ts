import { buildEvent, ConversionsConfigError, sha256Hex } from '@chatgpt-ads/core';
import { describe, expect, it } from 'vitest';
import { orderEventId, orderToConversion } from '../src/index.js';
import { order } from './fixtures.js';

const shop = { shopDomain: 'northwind.myshopify.com', shopCountry: 'US' };

describe('orderToConversion', () => {
  it.each([
    ['USD', '129.99', '64.99', 12999, 6499],
    ['JPY', '8900', '4450', 8900, 4450],
    ['KWD', '39.995', '19.997', 39995, 19997],
  ])('%s totals go out in the minor unit', (currency, total, unit, minor, unitMinor) => {
    const mapped = orderToConversion(order({ currency, total, unit }), shop);
    if (!mapped.send) throw new Error(mapped.reason);
    expect(mapped.input.data).toMatchObject({ amount: minor, currency });
    expect(mapped.input.data?.contents).toEqual([
      {
        id: '808950810',
        groupId: '632910392',
        name: 'Hand grinder - Steel',
        contentType: 'product',
        quantity: 2,
        amount: unitMinor,
      },
    ]);
  });

  it('maps id, time, identifiers, geo, IP, user agent and source URL', async () => {
    const mapped = orderToConversion(order(), shop);
    if (!mapped.send) throw new Error(mapped.reason);
    expect(mapped.input).toMatchObject({
      type: 'order_created',
      id: orderEventId(450789469),
      actionSource: 'web',
    });
    expect(mapped.context).toMatchObject({
      consent: 'granted',
      ip: '203.0.113.7',
      sourceUrl: 'https://northwind.myshopify.com/',
    });
    const built = await buildEvent(mapped.input, mapped.context);
    if (!built.ok) throw new Error(JSON.stringify(built.issues));
    expect(built.event.user).toMatchObject({
      emails_sha256: [await sha256Hex('alex.rivera@example.com')],
      phone_numbers_sha256: [await sha256Hex('14155552671')],
      cities: ['San Francisco'],
      regions: ['CA'],
      postal_codes: ['94107'],
      countries: ['US'],
      user_agent: 'Mozilla/5.0 (Macintosh)',
      ip_address: '203.0.113.7',
    });
    // The two spellings of one email and one phone collapse into one hash each.
    expect(built.event.user?.emails_sha256).toHaveLength(1);
    expect(built.event.user?.phone_numbers_sha256).toHaveLength(1);
    expect(JSON.stringify(built.event)).not.toMatch(/rivera@|555/i);
  });

  it('takes oppref from the note attributes first, then from landing_site raw, else none', () => {
    const fromAttribute = orderToConversion(
      order({ note_attributes: [{ name: '_oppref', value: 'gAAAAB-from-cart' }] }),
      shop,
    );
    const fromLanding = orderToConversion(order(), shop);
    const absent = orderToConversion(order({ landing_site: '/products/grinder' }), shop);
    expect(fromAttribute.send && fromAttribute.context.oppref).toBe('gAAAAB-from-cart');
    expect(fromLanding.send && fromLanding.context.oppref).toBe('gAAAAB-land+ing%2Bclick');
    expect(absent.send && absent.context.oppref).toBeUndefined();
  });

  describe('consent', () => {
    const withConsent = (value?: string) =>
      order({ note_attributes: value ? [{ name: '_chatgpt_ads_consent', value }] : [] });
    it.each([
      ['granted', 'US', 'skip-in-eea-uk-ch', true],
      ['granted', 'DE', 'skip-in-eea-uk-ch', true],
      ['denied', 'US', 'skip-in-eea-uk-ch', false],
      ['denied', 'US', 'send', false],
      [undefined, 'US', 'skip-in-eea-uk-ch', true],
      [undefined, 'DE', 'skip-in-eea-uk-ch', false],
      [undefined, 'GB', 'skip-in-eea-uk-ch', false],
      [undefined, 'CH', 'skip-in-eea-uk-ch', false],
      [undefined, 'DE', 'send', true],
      [undefined, 'US', 'skip', false],
    ] as const)('attribute %s, shop in %s, policy %s → send %s', (value, country, policy, send) => {
      const mapped = orderToConversion(withConsent(value), {
        ...shop,
        shopCountry: country,
        withoutConsentSignal: policy,
      });
      expect(mapped.send).toBe(send);
      if (!mapped.send)
        expect(mapped.reason).toBe(value === 'denied' ? 'consent_denied' : 'no_consent_signal');
    });
  });

  it('skips test orders and orders not from the online store', () => {
    expect(orderToConversion(order({ test: true }), shop)).toEqual({ send: false, reason: 'test_order' });
    expect(orderToConversion(order({ source_name: 'pos' }), shop)).toEqual({
      send: false,
      reason: 'not_online_store',
    });
    expect(orderToConversion(order({ test: true }), { ...shop, includeTestOrders: true }).send).toBe(true);
  });

  it('can report the presentment currency', () => {
    const eurOrder = order();
    eurOrder.total_price_set = {
      shop_money: { amount: '129.99', currency_code: 'USD' },
      presentment_money: { amount: '119.50', currency_code: 'EUR' },
    };
    const mapped = orderToConversion(eurOrder, { ...shop, currency: 'presentment' });
    expect(mapped.send && mapped.input.data).toMatchObject({ amount: 11950, currency: 'EUR' });
  });
});

describe('phones without a calling code', () => {
  const phoneHashes = async (overrides: Parameters<typeof order>[0]) => {
    const mapped = orderToConversion(order({ phone: null, ...overrides }), shop);
    if (!mapped.send) throw new Error(mapped.reason);
    const built = await buildEvent(mapped.input, mapped.context);
    if (!built.ok) throw new Error(JSON.stringify(built.issues));
    return built.event.user?.phone_numbers_sha256 ?? [];
  };
  const address = (country: string | null, phone: string | null) => ({
    ...order().billing_address,
    country_code: country,
    phone,
  });

  it('reads a national number with the billing address country', async () => {
    expect(await phoneHashes({ billing_address: address('US', '(502) 459-2181') })).toEqual([
      await sha256Hex('15024592181'),
    ]);
  });

  it('reads the order and customer phones with the billing country, else the shipping country', async () => {
    expect(
      await phoneHashes({
        phone: '020 7946 0958',
        billing_address: address(null, null),
        shipping_address: address('GB', null),
      }),
    ).toEqual([await sha256Hex('442079460958')]);
    expect(
      await phoneHashes({
        customer: { ...order().customer, phone: '0151 234 5678' },
        billing_address: address('GB', null),
        shipping_address: address('US', null),
      }),
    ).toEqual([await sha256Hex('441512345678')]);
  });

  it('reads the shipping phone with the shipping country first', async () => {
    expect(
      await phoneHashes({
        billing_address: address('US', null),
        shipping_address: address('DE', '030 901820'),
      }),
    ).toEqual([await sha256Hex('4930901820')]);
  });

  it('leaves international numbers alone and drops a national number when no address has a country', async () => {
    expect(await phoneHashes({ phone: '+44 20 7946 0958', billing_address: address('US', null) })).toEqual([
      await sha256Hex('442079460958'),
    ]);
    expect(
      await phoneHashes({ billing_address: address(null, '(502) 459-2181'), shipping_address: null }),
    ).toEqual([]);
  });
});

describe('order options are checked', () => {
  it.each([
    ['withoutConsentSignal', { withoutConsentSignal: 'Send' }],
    ['withoutConsentSignal', { withoutConsentSignal: 'skip_in_eea' }],
    ['currency', { currency: 'presntment' }],
    ['shopCountry', { shopCountry: 'Germany' }],
    ['includeTestOrders', { includeTestOrders: 'false' }],
    ['withoutConsent', { withoutConsent: 'send' }],
  ])('a wrong %s throws instead of changing what is sent', (name, wrong) => {
    const options = { shopDomain: 'northwind.myshopify.com', ...wrong } as never;
    expect(() => orderToConversion(order(), options)).toThrow(ConversionsConfigError);
    expect(() => orderToConversion(order(), options)).toThrow(name);
  });
});
