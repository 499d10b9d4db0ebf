// Hand-written orders/create payloads in Shopify's documented REST shape.
import type { ShopifyOrder } from '../src/index.js';

const money = (amount: string, currency: string) => ({ amount, currency_code: currency });

export function order(
  overrides: Partial<ShopifyOrder> & { currency?: string; total?: string; unit?: string } = {},
): ShopifyOrder {
  const currency = overrides.currency ?? 'USD';
  const total = overrides.total ?? '129.99';
  const unit = overrides.unit ?? '64.99';
  const { total: _t, unit: _u, ...rest } = overrides;
  return {
    id: 450789469,
    admin_graphql_api_id: 'gid://shopify/Order/450789469',
    name: '#1001',
    created_at: new Date(Date.now() - 60_000).toISOString(),
    currency,
    presentment_currency: currency,
    total_price: total,
    total_price_set: { shop_money: money(total, currency), presentment_money: money(total, currency) },
    test: false,
    source_name: 'web',
    email: 'Alex.Rivera@Example.com',
    phone: '+14155552671',
    landing_site: '/products/grinder?utm_source=chatgpt&oppref=gAAAAB-land+ing%2Bclick',
    referring_site: 'https://chatgpt.com/',
    note_attributes: [],
    client_details: {
      browser_ip: '203.0.113.7',
      user_agent: 'Mozilla/5.0 (Macintosh)',
      accept_language: 'en-US',
    },
    customer: {
      id: 207119551,
      email: 'alex.rivera@example.com',
      phone: null,
      first_name: 'Alex',
      last_name: 'Rivera',
    },
    billing_address: {
      first_name: 'Alex',
      last_name: 'Rivera',
      city: 'San Francisco',
      province: 'California',
      province_code: 'CA',
      zip: '94107',
      country_code: 'US',
      phone: '(415) 555-2671',
    },
    shipping_address: {
      first_name: 'Alex',
      last_name: 'Rivera',
      city: 'San Francisco',
      province: 'California',
      province_code: 'CA',
      zip: '94107',
      country_code: 'US',
      phone: null,
    },
    line_items: [
      {
        id: 1071823172,
        product_id: 632910392,
        variant_id: 808950810,
        title: 'Hand grinder',
        name: 'Hand grinder - Steel',
        quantity: 2,
        price: unit,
        price_set: { shop_money: money(unit, currency), presentment_money: money(unit, currency) },
      },
    ],
    ...rest,
  } as ShopifyOrder;
}

/**
 * An order with `count` line items, each as heavy as Shopify's REST payload makes them (tax lines,
 * discount allocations, duties, properties): 90 of them are about 145 KB, past express.raw()'s
 * 100 KB default.
 */
export function largeOrder(count = 90): ShopifyOrder {
  const base = order();
  const usd = (amount: string) => ({
    shop_money: money(amount, 'USD'),
    presentment_money: money(amount, 'USD'),
  });
  const line_items = Array.from({ length: count }, (_, i) => ({
    id: 1071823172 + i,
    admin_graphql_api_id: `gid://shopify/LineItem/${1071823172 + i}`,
    product_id: 632910392 + i,
    variant_id: 808950810 + i,
    title: `Single-origin beans no. ${i + 1}`,
    name: `Single-origin beans no. ${i + 1} - 1 kg / Whole bean`,
    variant_title: '1 kg / Whole bean',
    vendor: 'Northwind Roasters',
    sku: `NW-BEANS-${String(i + 1).padStart(4, '0')}-1KG-WB`,
    quantity: 1 + (i % 3),
    price: '12.50',
    price_set: usd('12.50'),
    total_discount: '1.25',
    total_discount_set: usd('1.25'),
    grams: 1000,
    fulfillment_service: 'manual',
    fulfillment_status: null,
    fulfillable_quantity: 1 + (i % 3),
    gift_card: false,
    requires_shipping: true,
    taxable: true,
    product_exists: true,
    current_quantity: 1 + (i % 3),
    properties: [
      { name: 'Grind', value: 'Whole bean' },
      { name: 'Roast date', value: '2026-03-01' },
      { name: '_bundle_id', value: `bundle-${i}` },
    ],
    tax_lines: [
      { title: 'CA State Tax', price: '0.91', rate: 0.0725, channel_liable: false, price_set: usd('0.91') },
      {
        title: 'San Francisco County Tax',
        price: '0.13',
        rate: 0.01,
        channel_liable: false,
        price_set: usd('0.13'),
      },
    ],
    discount_allocations: [{ amount: '1.25', amount_set: usd('1.25'), discount_application_index: 0 }],
    duties: [],
    origin_location: {
      id: 4426208,
      country_code: 'US',
      province_code: 'CA',
      name: 'Northwind Roasters',
      address1: '1 Market St',
      address2: '',
      city: 'San Francisco',
      zip: '94105',
    },
  }));
  return { ...base, line_items } as ShopifyOrder;
}
