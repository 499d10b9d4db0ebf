// Generated hostile input through every public entry point that takes user data: track() must
// return a status for all of it, the other functions may only refuse in their documented way, and
// no raw identifier may reach the wire. Seeded, so a failure replays.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '../src/build.js';
import { createConversions } from '../src/client.js';
import { PixelEventError, renderPixel } from '../src/pixel.js';
import { readRequest } from '../src/request.js';
import { validateEvent } from '../src/validate.js';
import { fakeEndpoint } from './fake-endpoint.js';

const SEED = 20261202;
const nodeHash = (value: string) => createHash('sha256').update(value, 'utf8').digest('hex');

// Values seen from database drivers, ORMs and hand-written code, beside fast-check's own.
function hostileValues(): fc.Arbitrary<unknown> {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const throwingGetter = Object.defineProperty({}, 'email', {
    enumerable: true,
    get() {
      throw new Error('getter');
    },
  });
  const throwingJson = {
    toJSON: () => {
      throw new Error('toJSON');
    },
  };
  const sparse: string[] = [];
  sparse[1] = 'x@example.com';
  sparse[3] = 'y@example.com';
  return fc.oneof(
    fc.anything({
      maxDepth: 2,
      withBigInt: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withSparseArray: true,
    }),
    fc.constantFrom(
      cyclic,
      throwingGetter,
      throwingJson,
      sparse,
      Symbol('s'),
      10n,
      Object.create(null),
      // Large enough to show per-character work; the 4 MB case runs once in edges.test.ts.
      'x'.repeat(1 << 16),
      Number.NaN,
      -0,
      () => 'fn',
      new Date(Number.NaN),
    ),
  );
}

// A raw identifier carries a marker, so its presence on the wire is easy to find. Every marker
// generated is remembered here (a superset of those that reached track()).
const generatedMarkers = new Set<string>();
const marker = fc.integer({ min: 0, max: 1e9 }).map((n) => {
  const value = `zqraw${n}`;
  generatedMarkers.add(value);
  return value;
});
const email = marker.map((m) => `${m}@Example.com`);
const phone = fc.integer({ min: 2_000_000, max: 9_999_999 }).map((n) => `+1 415 ${n}`);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(fc.oneof(arb, hostileValues()), { nil: undefined });
// Mostly absent, sometimes valid, now and then hostile: for fields that refuse the whole event.
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(undefined) },
    { weight: 2, arbitrary: arb },
    { weight: 1, arbitrary: hostileValues() },
  );

const userInput = fc.record(
  {
    email: maybe(fc.oneof(email, fc.array(email, { maxLength: 4 }))),
    phone: maybe(phone),
    externalId: maybe(marker),
    firstName: maybe(marker),
    lastName: maybe(marker),
    city: maybe(fc.string()),
    country: maybe(fc.string({ maxLength: 3 })),
    androidAdvertisingId: maybe(fc.uuid()),
    ipAddress: maybe(fc.ipV4()),
    userAgent: maybe(fc.string()),
  },
  { requiredKeys: [] },
);
const conversionInput = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        type: fc.oneof(
          {
            weight: 12,
            arbitrary: fc.constantFrom(
              'order_created',
              'lead_created',
              'custom',
              'subscription_created',
              'app_opened',
            ),
          },
          { weight: 1, arbitrary: hostileValues() },
        ),
        id: rarely(fc.string({ maxLength: 40 })),
        timestampMs: rarely(fc.integer()),
        customEventName: fc.oneof(
          { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/) },
          { weight: 2, arbitrary: rarely(fc.string()) },
        ),
        actionSource: rarely(fc.constantFrom('web', 'offline', 'mobile_app')),
        sourceUrl: rarely(fc.webUrl()),
        oppref: maybe(fc.string()),
        optOut: rarely(fc.boolean()),
        data: maybe(
          fc.record(
            {
              amount: rarely(fc.integer()),
              currency: fc.constantFrom('USD', 'eur', 'JPY'),
              contents: maybe(
                fc.array(
                  fc.record(
                    { id: maybe(fc.string()), quantity: maybe(fc.integer()), groupId: maybe(fc.string()) },
                    { requiredKeys: [] },
                  ),
                  { maxLength: 3 },
                ),
              ),
              planId: maybe(fc.string()),
              extra: maybe(hostileValues()),
            },
            { requiredKeys: [] },
          ),
        ),
        user: maybe(userInput),
      },
      { requiredKeys: ['type'] },
    ),
  },
  { weight: 1, arbitrary: hostileValues() },
);
const context = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record(
      {
        consent: fc.oneof(
          { weight: 8, arbitrary: fc.constant('granted') },
          { weight: 1, arbitrary: fc.constantFrom('denied', 'unknown', 'GRANTED') },
          { weight: 1, arbitrary: hostileValues() },
        ),
        oppref: maybe(fc.string()),
        obref: maybe(fc.string()),
        ip: maybe(fc.oneof(fc.ipV4(), fc.ipV6())),
        userAgent: maybe(fc.string()),
        sourceUrl: maybe(fc.webUrl()),
      },
      { requiredKeys: ['consent'] },
    ),
  },
  { weight: 1, arbitrary: hostileValues() },
);

function withinTime<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle: a hang`)), 10_000);
  });
  return Promise.race([work, hang]).finally(() => clearTimeout(timer));
}

describe('fuzz (seeded)', () => {
  it('track(): 20,000 inputs, a status for every one, no raw identifier on the wire', async () => {
    const endpoint = fakeEndpoint();
    const conversions = createConversions({
      pixelId: 'px_fuzz',
      apiKey: 'sk_fuzz',
      endpoint: 'http://127.0.0.1:9/v1/events',
      fetch: endpoint.fetch,
      hash: nodeHash,
      logger: { warn() {}, error() {} },
    });
    let queued = 0;
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(conversionInput, context, async (input, ctx) => {
        const result = await withinTime(conversions.track(input as never, ctx as never), 'track');
        expect(['queued', 'refused', 'skipped']).toContain(result.status);
        if (result.status === 'queued') queued++;
        const key = result.status === 'refused' ? result.issues.map((i) => i.code).join('+') : result.status;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }),
      { seed: SEED, numRuns: 20_000 },
    );
    await withinTime(conversions.flush(), 'flush');
    const wire = endpoint.requests.map((r) => r.body.toLowerCase()).join('\n');
    expect(generatedMarkers.size).toBeGreaterThan(1_000);
    // Hashing removes every marker; one seen on the wire is a raw identifier that got out.
    expect(wire.match(/zqraw\d+/g) ?? []).toEqual([]);
    // The generator must reach the queue, not only refusals.
    expect(queued, JSON.stringify([...outcomes].sort((a, b) => b[1] - a[1]).slice(0, 8))).toBeGreaterThan(
      1_000,
    );
    await conversions.shutdown();
  }, 120_000);

  it('the wire check finds a marker that reaches the wire (control: a city, which is sent raw)', async () => {
    const endpoint = fakeEndpoint();
    const leaky = createConversions({
      pixelId: 'px_fuzz',
      apiKey: 'sk_fuzz',
      endpoint: 'http://127.0.0.1:9/v1/events',
      fetch: endpoint.fetch,
      logger: { warn() {}, error() {} },
    });
    await leaky.track(
      { type: 'lead_created', user: { city: 'zqraw42' } },
      { consent: 'granted', sourceUrl: 'https://s.example/' },
    );
    await leaky.shutdown();
    const wire = endpoint.requests.map((r) => r.body.toLowerCase()).join('\n');
    expect(wire.match(/zqraw\d+/g)).toEqual(['zqraw42']);
  });

  it('buildEvent(): 10,000 inputs, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(conversionInput, context, async (input, ctx) => {
        const result = await withinTime(
          buildEvent(input as never, ctx as never, { hash: nodeHash }),
          'buildEvent',
        );
        expect(typeof result.ok).toBe('boolean');
      }),
      { seed: SEED + 1, numRuns: 10_000 },
    );
  }, 120_000);

  it('validateEvent(): 10,000 inputs, issues and never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(hostileValues(), conversionInput), (event) => {
        expect(Array.isArray(validateEvent(event))).toBe(true);
      }),
      { seed: SEED + 2, numRuns: 10_000 },
    );
  });

  it('readRequest(): 6,000 requests, a reading for every one', () => {
    const incoming = fc.record({
      url: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string(), hostileValues()),
      header: fc.oneof(
        fc.func(fc.oneof(fc.string(), hostileValues())),
        fc.constant(() => {
          throw new Error('header');
        }),
      ),
      ip: maybe(fc.oneof(fc.ipV4(), fc.string())),
    });
    fc.assert(
      fc.property(incoming, fc.constantFrom('opt-in', 'opt-out'), (request, mode) => {
        const reading = readRequest(request as never, { consent: { mode } });
        expect(Array.isArray(reading.setCookies)).toBe(true);
      }),
      { seed: SEED + 3, numRuns: 6_000 },
    );
  });

  it('renderPixel(): 6,000 events, a snippet or a PixelEventError', () => {
    const event = fc.record(
      {
        type: fc.oneof(
          fc.constantFrom('order_created', 'custom', 'lead_created', 'app_opened'),
          hostileValues(),
        ),
        id: fc.oneof(fc.string(), hostileValues()),
        customEventName: maybe(fc.string()),
        data: maybe(
          fc.oneof(
            hostileValues(),
            fc.record({ amount: maybe(fc.integer()), note: maybe(fc.string()) }, { requiredKeys: [] }),
          ),
        ),
      },
      { requiredKeys: ['type', 'id'] },
    );
    fc.assert(
      fc.property(event, fc.constantFrom('granted', 'unknown'), maybe(fc.string()), (e, consent, nonce) => {
        try {
          const html = renderPixel({
            pixelId: 'px',
            consent: consent as 'granted',
            event: e as never,
            nonce: nonce as never,
          });
          expect(html.startsWith('<script')).toBe(true);
          expect(html.indexOf('</script>')).toBe(html.length - '</script>'.length);
        } catch (error) {
          expect(error).toBeInstanceOf(PixelEventError);
        }
      }),
      { seed: SEED + 4, numRuns: 6_000 },
    );
  });
});
