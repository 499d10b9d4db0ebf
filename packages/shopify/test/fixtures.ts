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
