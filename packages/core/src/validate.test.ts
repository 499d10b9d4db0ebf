import { describe, expect, it } from 'vitest';
import type { IssueCode } from './schema.js';
import { isAbsoluteUrl, isIpAddress, validateEnvelope, validateEvent } from './validate.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const HASH = 'a'.repeat(64);

function order(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'order_1001',
    type: 'order_created',
    timestamp_ms: NOW - 60_000,
    action_source: 'web',
    source_url: 'https://shop.example/checkout',
    data: {
      type: 'contents',
      amount: 12999,
      currency: 'USD',
      contents: [{ id: 'sku_1', quantity: 1, amount: 12999 }],
    },
    ...overrides,
  };
}

function codes(event: unknown): IssueCode[] {
  return validateEvent(event, { now: NOW }).map((issue) => issue.code);
}

function issueAt(event: unknown, path: string) {
  return validateEvent(event, { now: NOW }).find((issue) => issue.path === path);
}

describe('validateEvent accepts', () => {
  it('a complete web order', () => {
    expect(validateEvent(order(), { now: NOW })).toEqual([]);
  });

  it('every standard shape with its own fields', () => {
    expect(codes({ ...order(), type: 'lead_created', data: { type: 'customer_action' } })).toEqual([]);
    expect(
      codes({
        ...order(),
        type: 'trial_started',
        data: { type: 'plan_enrollment', plan_id: 'pro', amount: 0, currency: 'usd' },
      }),
    ).toEqual([]);
    expect(
      codes({
        ...order(),
        type: 'custom',
        custom_event_name: 'quote_requested',
        data: { type: 'custom', anything: { nested: true }, plan_id: 'x' },
      }),
    ).toEqual([]);
    expect(
      codes({
        ...order(),
        type: 'app_installed',
        action_source: 'mobile_app',
        source_url: undefined,
        data: { type: 'customer_action' },
      }),
    ).toEqual([]);
  });

  it('a full user object of the current schema', () => {
    const user = {
      emails_sha256: [HASH],
      phone_numbers_sha256: [HASH, 'b'.repeat(64)],
      external_ids_sha256: [HASH],
      first_names_sha256: [HASH],
      last_names_sha256: [HASH],
      cities: ['San Francisco'],
      regions: ['CA'],
      postal_codes: ['94107', 'SW1A 1AA'],
      countries: ['US'],
      android_advertising_id: '38400000-8cf0-11bd-b23e-10b96e40000d',
      obref: '0b7c9a0e-0d7f-4a0c-9f43-1d2b1c3e4f50',
      ip_address: '2001:db8::1',
      user_agent: 'Mozilla/5.0',
    };
    expect(codes(order({ user }))).toEqual([]);
  });

  it('the edges of the time window', () => {
    expect(codes(order({ timestamp_ms: NOW - 7 * 86_400_000 }))).toEqual([]);
    expect(codes(order({ timestamp_ms: NOW + 600_000 }))).toEqual([]);
  });
});

describe('validateEvent reports one code per rule', () => {
  const cases: Array<[IssueCode, unknown, string]> = [
    ['not_object', [], ''],
    ['unknown_field', order({ event_name: 'order_created' }), 'event_name'],
    ['id_required', order({ id: '' }), 'id'],
    ['type_invalid', order({ type: 'purchase' }), 'type'],
    ['timestamp_not_integer', order({ timestamp_ms: String(NOW) }), 'timestamp_ms'],
    ['timestamp_too_old', order({ timestamp_ms: NOW - 7 * 86_400_000 - 1 }), 'timestamp_ms'],
    ['timestamp_in_future', order({ timestamp_ms: NOW + 600_001 }), 'timestamp_ms'],
    ['custom_event_name_required', order({ type: 'custom', data: { type: 'custom' } }), 'custom_event_name'],
    ['custom_event_name_not_allowed', order({ custom_event_name: 'x' }), 'custom_event_name'],
    [
      'custom_event_name_invalid',
      order({ type: 'custom', custom_event_name: '-bad', data: { type: 'custom' } }),
      'custom_event_name',
    ],
    [
      'custom_event_name_reserved',
      order({ type: 'custom', custom_event_name: 'Order_Created', data: { type: 'custom' } }),
      'custom_event_name',
    ],
    ['action_source_invalid', order({ action_source: 'website' }), 'action_source'],
    [
      'action_source_mobile_app_required',
      order({ type: 'app_opened', data: { type: 'customer_action' } }),
      'action_source',
    ],
    ['source_url_required', order({ source_url: undefined }), 'source_url'],
    ['source_url_invalid', order({ source_url: '/checkout' }), 'source_url'],
    ['oppref_invalid', order({ oppref: 'has space' }), 'oppref'],
    ['opt_out_not_boolean', order({ opt_out: 'yes' }), 'opt_out'],
    ['data_required', order({ data: undefined }), 'data'],
    ['data_type_mismatch', order({ data: { type: 'customer_action' } }), 'data.type'],
    [
      'data_field_not_allowed',
      order({ type: 'lead_created', data: { type: 'customer_action', contents: [] } }),
      'data.contents',
    ],
    ['not_integer', order({ data: { type: 'contents', amount: 129.99, currency: 'USD' } }), 'data.amount'],
    ['not_string', order({ data: { type: 'contents', contents: [{ id: 42 }] } }), 'data.contents[0].id'],
    ['currency_required', order({ data: { type: 'contents', amount: 100 } }), 'data.currency'],
    [
      'currency_invalid',
      order({ data: { type: 'contents', amount: 100, currency: 'US$' } }),
      'data.currency',
    ],
    ['contents_not_array', order({ data: { type: 'contents', contents: { id: 'x' } } }), 'data.contents'],
    [
      'variant_dict_invalid',
      order({ data: { type: 'contents', contents: [{ variant_dict: { size: 3 } }] } }),
      'data.contents[0].variant_dict',
    ],
    ['hash_invalid', order({ user: { emails_sha256: ['alex@example.com'] } }), 'user.emails_sha256[0]'],
    ['list_invalid', order({ user: { cities: 'Paris' } }), 'user.cities'],
    ['list_too_long', order({ user: { countries: ['US', 'CA', 'MX', 'FR'] } }), 'user.countries'],
    ['postal_code_invalid', order({ user: { postal_codes: ['941#07'] } }), 'user.postal_codes[0]'],
    ['country_invalid', order({ user: { countries: ['USA'] } }), 'user.countries[0]'],
    ['geo_too_long', order({ user: { cities: ['x'.repeat(129)] } }), 'user.cities[0]'],
    ['ip_address_invalid', order({ user: { ip_address: '256.1.1.1' } }), 'user.ip_address'],
    ['user_agent_invalid', order({ user: { user_agent: ' ' } }), 'user.user_agent'],
    ['obref_invalid', order({ user: { obref: 'a;b' } }), 'user.obref'],
    [
      'android_advertising_id_invalid',
      order({ user: { android_advertising_id: 'IDFA-1234' } }),
      'user.android_advertising_id',
    ],
  ];

  for (const [code, event, path] of cases) {
    it(`${code} at ${path || '(event)'}`, () => {
      const issue = issueAt(event, path);
      expect(issue?.code).toBe(code);
      expect(issue?.message.length).toBeGreaterThan(10);
    });
  }

  it('rejects the legacy singular user fields', () => {
    expect(issueAt(order({ user: { email_sha256: HASH } }), 'user.email_sha256')?.code).toBe('unknown_field');
  });

  it('rejects plan_id outside plan_enrollment and custom, and unknown item fields', () => {
    expect(issueAt(order({ data: { type: 'contents', plan_id: 'p' } }), 'data.plan_id')?.code).toBe(
      'data_field_not_allowed',
    );
    expect(issueAt(order({ data: { type: 'contents', value: 5 } }), 'data.value')?.code).toBe(
      'data_field_not_allowed',
    );
    expect(
      issueAt(order({ data: { type: 'contents', contents: [{ price: 5 }] } }), 'data.contents[0].price')
        ?.code,
    ).toBe('data_field_not_allowed');
  });

  it('requires integer item quantities and amounts', () => {
    expect(
      issueAt(
        order({ data: { type: 'contents', contents: [{ quantity: '2' }] } }),
        'data.contents[0].quantity',
      )?.code,
    ).toBe('not_integer');
    expect(
      issueAt(order({ data: { type: 'contents', contents: [{ amount: 1.5 }] } }), 'data.contents[0].amount')
        ?.code,
    ).toBe('not_integer');
  });
});

describe('validateEnvelope', () => {
  it('accepts 1 to 1,000 events with validate_only and integration_source', () => {
    const events = Array.from({ length: 1000 }, (_, i) => order({ id: `o${i}` }));
    expect(
      validateEnvelope({ events, validate_only: true, integration_source: 'Acme.Measurement' }, { now: NOW }),
    ).toEqual([]);
  });

  it.each([
    ['events_required', { events: [] }, 'events'],
    ['batch_too_large', { events: Array.from({ length: 1001 }, () => order()) }, 'events'],
    ['validate_only_not_boolean', { events: [order()], validate_only: 'true' }, 'validate_only'],
    ['integration_source_invalid', { events: [order()], integration_source: '_acme' }, 'integration_source'],
    ['unknown_field', { events: [order()], pixel_id: 'x' }, 'pixel_id'],
  ] as const)('%s', (code, body, path) => {
    expect(validateEnvelope(body, { now: NOW })).toContainEqual(expect.objectContaining({ code, path }));
  });

  it('prefixes event issues with their index', () => {
    const issues = validateEnvelope(
      { events: [order(), order({ data: { type: 'contents', amount: 1 } })] },
      { now: NOW },
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: 'events[1].data.currency', code: 'currency_required' }),
    ]);
  });
});

describe('isIpAddress', () => {
  it.each(['127.0.0.1', '203.0.113.7', '::1', '2001:db8::1', '::ffff:192.0.2.1'])('accepts %s', (ip) => {
    expect(isIpAddress(ip)).toBe(true);
  });
  it.each(['', '1.2.3', '01.2.3.4', '256.0.0.1', 'localhost', '2001:db8:::1', 'http://x'])(
    'refuses %s',
    (ip) => {
      expect(isIpAddress(ip)).toBe(false);
    },
  );
});

describe('isAbsoluteUrl', () => {
  it.each([
    'https://shop.example/p?q#f',
    'http://127.0.0.1:3000/',
    'https://xn--caf-dma.example',
    'ftp://files.example/a',
  ])('accepts %s', (url) => {
    expect(isAbsoluteUrl(url)).toBe(true);
  });
  it.each(['/checkout', 'shop.example/p', 'https://', 'http://shop.example:99999/', 'mailto:a@b.c'])(
    'refuses %s',
    (url) => {
      expect(isAbsoluteUrl(url)).toBe(false);
    },
  );
});
