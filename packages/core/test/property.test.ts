import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEvent, type ConversionInput } from '../src/build.js';
import { createConversions } from '../src/client.js';
import { runtimeSha256, sha256Hex } from '../src/hash.js';
import type { RequestContext } from '../src/request.js';
import { EVENT_TYPES } from '../src/schema.js';
import { validateEnvelope, validateEvent } from '../src/validate.js';
import { fakeEndpoint } from './fake-endpoint.js';

const RUNS = { numRuns: 1000 };
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const context = {
  consent: 'granted' as const,
  ip: '203.0.113.7',
  userAgent: 'UA',
  sourceUrl: 'https://shop.example/p?q=1',
};

const stringish = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.emailAddress(),
  fc.constant(''),
  fc.constant('  '),
);
const oneOrMany = fc.oneof(stringish, fc.array(stringish, { maxLength: 6 }));
const userInput = fc.record(
  {
    email: oneOrMany,
    phone: fc.oneof(oneOrMany, fc.stringMatching(/^\+?[0-9 ()-]{4,20}$/)),
    externalId: oneOrMany,
    firstName: oneOrMany,
    lastName: oneOrMany,
    city: oneOrMany,
    region: oneOrMany,
    postalCode: oneOrMany,
    country: oneOrMany,
    emailSha256: fc.oneof(oneOrMany, fc.stringMatching(/^[0-9a-f]{64}$/)),
    androidAdvertisingId: fc.oneof(fc.uuid(), fc.string()),
    ipAddress: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()),
  },
  { requiredKeys: [] },
);
const contentInput = fc.record(
  {
    id: fc.string(),
    name: fc.string(),
    quantity: fc.oneof(fc.integer(), fc.double()),
    amount: fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.double()),
    contentType: fc.string(),
  },
  { requiredKeys: [] },
);
const conversionInput: fc.Arbitrary<ConversionInput> = fc.record(
  {
    type: fc.constantFrom(...EVENT_TYPES),
    id: fc.string(),
    timestampMs: fc.oneof(fc.integer({ min: NOW - 8 * 86_400_000, max: NOW + 3_600_000 }), fc.double()),
    customEventName: fc.oneof(fc.string(), fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,10}[a-z0-9]$/)),
    oppref: fc.string(),
    optOut: fc.boolean(),
    data: fc.record(
      {
        amount: fc.oneof(fc.integer({ min: 0, max: 1e9 }), fc.double()),
        currency: fc.oneof(fc.constantFrom('USD', 'eur', 'JPY'), fc.string()),
        contents: fc.array(contentInput, { maxLength: 3 }),
        planId: fc.string(),
      },
      { requiredKeys: [] },
    ),
    user: userInput,
  },
  { requiredKeys: ['type'] },
) as fc.Arbitrary<ConversionInput>;

describe('properties (1,000 cases each)', () => {
  it('buildEvent never throws, and every event it builds passes validateEvent', async () => {
    await fc.assert(
      fc.asyncProperty(conversionInput, async (input) => {
        const result = await buildEvent(input, context, { now: NOW });
        if (result.ok) expect(validateEvent(result.event, { now: NOW })).toEqual([]);
        else expect(result.issues.length).toBeGreaterThan(0);
      }),
      RUNS,
    );
  });

  it('an input whose fields change between reads (getters) still builds only what the full check accepts', async () => {
    await fc.assert(
      fc.asyncProperty(
        conversionInput,
        fc.array(fc.oneof(fc.string(), fc.constant(''), fc.integer(), fc.constant(undefined)), {
          minLength: 1,
          maxLength: 4,
        }),
        async (input, ids) => {
          let reads = 0;
          const shifting = Object.defineProperty({ ...input }, 'id', {
            enumerable: true,
            get: () => ids[Math.min(reads++, ids.length - 1)],
          }) as ConversionInput;
          const result = await buildEvent(shifting, context, { now: NOW });
          if (result.ok) expect(validateEvent(result.event, { now: NOW })).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  // The builder checks only what passed through from its input and context (validateBuiltEvent):
  // whatever those are, what it builds must pass the full check.
  it('with any context, source URL and action source, what buildEvent builds passes the full validateEvent', async () => {
    const url = fc.oneof(
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.string(),
      fc.stringMatching(/^https?:\/\/[-a-z0-9.]{0,6}(:\d{0,6})?(\/[a-z.]{0,4}){0,3}([?#].{0,4})?$/),
      fc.constantFrom(
        'https://-shop/',
        'https://./a',
        'http://a:0/',
        'https://a:443/x',
        'https://a/../b',
        '/relative',
      ),
    );
    const rawContext = fc.record(
      {
        consent: fc.constantFrom('granted', 'denied', undefined),
        oppref: fc.oneof(fc.string(), fc.constant('gAAAAB-click')),
        ip: fc.oneof(fc.ipV4(), fc.string()),
        userAgent: fc.string(),
        sourceUrl: url,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(
        conversionInput,
        rawContext,
        fc.option(url, { nil: undefined }),
        fc.option(fc.oneof(fc.constantFrom('web', 'mobile_app', 'offline'), fc.string()), { nil: undefined }),
        fc.boolean(),
        async (input, ctx, sourceUrl, actionSource, keepSourceUrlQuery) => {
          const withExtras = { ...input, sourceUrl, actionSource } as ConversionInput;
          const result = await buildEvent(withExtras, ctx as RequestContext, {
            now: NOW,
            keepSourceUrlQuery,
          });
          if (result.ok) expect(validateEvent(result.event, { now: NOW })).toEqual([]);
          else expect(result.issues.length).toBeGreaterThan(0);
        },
      ),
      RUNS,
    );
  });

  it('validateEvent and validateEnvelope never throw on arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(Array.isArray(validateEvent(value))).toBe(true);
        expect(Array.isArray(validateEnvelope(value))).toBe(true);
        expect(Array.isArray(validateEnvelope({ events: [value] }))).toBe(true);
      }),
      RUNS,
    );
  });

  it('track never throws, whatever it is given', async () => {
    const conversions = createConversions({
      pixelId: 'p',
      apiKey: 'k',
      fetch: fakeEndpoint().fetch,
      batch: { flushIntervalMs: 3_600_000 },
    });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(conversionInput, fc.anything() as fc.Arbitrary<ConversionInput>),
        async (input) => {
          const result = await conversions.track(input, context);
          expect(['queued', 'refused']).toContain(result.status);
        },
      ),
      RUNS,
    );
    await conversions.shutdown({ timeoutMs: 5_000 });
  });

  it('source_url is always origin + path exactly as the URL parser gives it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.webUrl({ withQueryParameters: true, withFragments: true, validSchemes: ['http', 'https'] }),
        async (url) => {
          const result = await buildEvent({ type: 'lead_created' }, { sourceUrl: url }, { now: NOW });
          const parsed = new URL(url);
          expect(result.ok && result.event.source_url).toBe(`${parsed.origin}${parsed.pathname}`);
        },
      ),
      RUNS,
    );
  });

  it('sha256Hex equals node:crypto for any string', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme' }), async (value) => {
        const digest = await sha256Hex(value);
        expect(digest).toMatch(/^[0-9a-f]{64}$/);
        expect(digest).toBe(createHash('sha256').update(value, 'utf8').digest('hex'));
      }),
      RUNS,
    );
  });

  it("the runtime's one-shot hash equals a node:crypto Hash for any string, lone surrogates included", () => {
    const hash = runtimeSha256();
    expect(hash).toBeTypeOf('function');
    const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: anyUnit })), (value) => {
        expect(hash!(value)).toBe(createHash('sha256').update(value, 'utf8').digest('hex'));
      }),
      RUNS,
    );
  });

  it('no raw email or phone ever appears in a serialized batch', async () => {
    const endpoint = fakeEndpoint();
    const conversions = createConversions({
      pixelId: 'p',
      apiKey: 'k',
      fetch: endpoint.fetch,
      defaultCountry: 'US',
      batch: { flushIntervalMs: 3_600_000 },
    });
    const samples: Array<{ email: string; phone: string }> = [];
    await fc.assert(
      fc.asyncProperty(
        fc.emailAddress(),
        fc.stringMatching(/^[2-9][0-9]{2}[2-9][0-9]{6}$/),
        async (email, digits) => {
          const phone = `+1 (${digits.slice(0, 3)}) ${digits.slice(3, 6)}-${digits.slice(6)}`;
          samples.push({ email, phone: digits });
          await conversions.track(
            { type: 'lead_created', user: { email: ` ${email.toUpperCase()} `, phone } },
            context,
          );
        },
      ),
      RUNS,
    );
    await conversions.flush();
    const bodies = endpoint.requests.map((r) => r.body.toLowerCase()).join('\n');
    expect(endpoint.acceptedIds().length).toBe(samples.length);
    // Every identifier made it into the batch, hashed.
    const users = endpoint.requests.flatMap((r) => r.envelope.events.map((e) => e.user));
    expect(users.every((u) => u?.emails_sha256?.length === 1 && u.phone_numbers_sha256?.length === 1)).toBe(
      true,
    );
    for (const { email, phone } of samples) {
      expect(bodies.includes(email.toLowerCase())).toBe(false);
      expect(bodies.includes(phone)).toBe(false);
    }
  });
});
