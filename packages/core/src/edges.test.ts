// Regression tests for edges that used to fail quietly: a typo that turned consent off, inputs
// that made track() throw, pixel fields the pixel drops, phones and addresses read wrongly.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fakeEndpoint } from '../test/fake-endpoint.js';
import { buildEvent } from './build.js';
import { createConversions } from './client.js';
import type { ConversionsOptions, Logger } from './config.js';
import { consentAllows, toConsentDecision } from './consent.js';
import { normalizePhone } from './normalize.js';
import { ConversionsConfigError, optionsFromEnvironment, withEnvironment } from './options.js';
import { PixelEventError, renderPixel } from './pixel.js';
import { clientAddress, readRequest } from './request.js';

const KEY = 'sk_live_SECRET_edges_0123456789';

// [, value]: a hole where the first value should be, as a sparse array from a driver has.
function withHole(value: string): string[] {
  const list: string[] = [];
  list[1] = value;
  return list;
}
const base = { pixelId: 'px_edges', apiKey: KEY, endpoint: 'http://127.0.0.1:9/v1/events' };

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
  return { logger, lines };
}

describe('options are checked at construction', () => {
  // Every enumerated option, with values a config file or an env var could plausibly hold.
  const badValues: Array<[string, Partial<ConversionsOptions> | Record<string, unknown>]> = [
    ['consent.mode', { consent: { mode: 'optin' } }],
    ['consent.mode', { consent: { mode: 'OPT-IN' } }],
    ['consent.mode', { consent: { mode: 'opt_in' } }],
    ['consent.mode', { consent: { mode: '' } }],
    ['consent.mode', { consent: { mode: true } }],
    ['consent.resolvers', { consent: { resolvers: 'onetrust' } }],
    ['defaultActionSource', { defaultActionSource: 'website' }],
    ['defaultCountry', { defaultCountry: 'USA' }],
    ['batch.maxEvents', { batch: { maxEvents: 5000 } }],
    ['batch.concurrency', { batch: { concurrency: 0 } }],
    ['batch.flushIntervalMs', { batch: { flushIntervalMs: '1000' } }],
    ['retry.timeoutMs', { retry: { timeoutMs: -1 } }],
    ['cookie.secure', { cookie: { secure: 'yes' } }],
    ['cookie.maxAgeSeconds', { cookie: { maxAgeSeconds: 1.5 } }],
    ['pixel.debug', { pixel: { debug: 'true' } }],
    ['keepSourceUrlQuery', { keepSourceUrlQuery: 'false' }],
    ['validateOnly', { validateOnly: 1 }],
    ['endpoint', { endpoint: 'bzr.openai.com/v1/events' }],
    ['logger', { logger: console.log }],
  ];
  it.each(badValues)('rejects a wrong %s, naming it and what it accepts', (name, override) => {
    const make = () => createConversions({ ...base, ...(override as object) } as ConversionsOptions);
    expect(make).toThrow(ConversionsConfigError);
    expect(make).toThrow(name);
  });

  it('names the allowed consent modes', () => {
    expect(() => createConversions({ ...base, consent: { mode: 'optin' as never } })).toThrow(
      "consent.mode must be one of 'opt-in', 'opt-out' (got 'optin')",
    );
  });

  it('rejects unknown option names with the nearest known one', () => {
    expect(() => createConversions({ ...base, consentMode: 'opt-out' } as never)).toThrow(
      /unknown option consentMode \(did you mean consent\?\)/,
    );
    expect(() => createConversions({ ...base, consent: { mod: 'opt-out' } } as never)).toThrow(
      /unknown option consent\.mod \(did you mean consent\.mode\?\)/,
    );
  });

  it('never puts the key in a configuration error', () => {
    try {
      createConversions({ ...base, apiKey: KEY, endpoint: KEY });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('SECRET');
    }
  });

  it('refuses a plain-http endpoint off the loopback unless explicitly allowed', () => {
    expect(() => createConversions({ ...base, endpoint: 'http://capi.internal.example/v1/events' })).toThrow(
      /plain http on a non-loopback host/,
    );
    expect(() =>
      createConversions({
        ...base,
        endpoint: 'http://capi.internal.example/v1/events',
        allowInsecureEndpoint: true,
      }),
    ).not.toThrow();
    for (const endpoint of [
      'http://127.0.0.1:8787/v1/events',
      'http://localhost:8787/v1/events',
      'http://[::1]:8787/v1/events',
    ])
      expect(() => createConversions({ ...base, endpoint })).not.toThrow();
  });
});

describe('consent fails closed', () => {
  it('treats an unknown mode that slipped past the types as opt-in', () => {
    expect(consentAllows('optin' as never, 'unknown')).toBe(false);
    expect(consentAllows(undefined as never, 'unknown')).toBe(false);
    expect(consentAllows('opt-out', 'GRANTED' as never)).toBe(false);
  });

  it('reads a decision object with an unknown state as unknown', () => {
    expect(toConsentDecision({ state: 'DENIED' as never, source: 'app' })).toEqual({
      state: 'unknown',
      source: 'none',
    });
  });

  it('writes no cookie for an unknown mode reaching readRequest', () => {
    const reading = readRequest(
      { url: 'https://shop.example/?oppref=gAAAA1', header: () => undefined },
      { consent: { mode: 'optin' as never } },
    );
    expect(reading.setCookies).toEqual([]);
  });
});

describe('track() never throws and drops only the bad field', () => {
  const endpoint = fakeEndpoint();
  const { logger, lines } = recordingLogger();
  const conversions = createConversions({ ...base, fetch: endpoint.fetch, logger });
  const ok = { consent: 'granted' as const, sourceUrl: 'https://shop.example/thanks' };
  const hostile: Array<[string, () => Promise<unknown>]> = [
    [
      'a BigInt in custom data',
      () =>
        conversions.track(
          { type: 'custom', customEventName: 'quote', id: 'b1', data: { big: 10n } as never },
          ok,
        ),
    ],
    [
      'a cycle in custom data',
      () => {
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        return conversions.track(
          { type: 'custom', customEventName: 'quote', id: 'c1', data: { cyclic } },
          ok,
        );
      },
    ],
    [
      'a throwing toJSON',
      () =>
        conversions.track(
          {
            type: 'custom',
            customEventName: 'quote',
            id: 't1',
            data: {
              x: {
                toJSON: () => {
                  throw new Error('no');
                },
              },
            },
          },
          ok,
        ),
    ],
    [
      'a context getter that throws',
      () =>
        conversions.track(
          { type: 'lead_created', id: 'g1' },
          {
            consent: 'granted',
            sourceUrl: 'https://shop.example/',
            get userAgent(): string {
              throw new Error('boom');
            },
          },
        ),
    ],
    ['a null context', () => conversions.track({ type: 'lead_created', id: 'n1' }, null as never)],
    [
      'a numeric user agent',
      () => conversions.track({ type: 'lead_created', id: 'u1' }, { ...ok, userAgent: 42 as never }),
    ],
    [
      'a null user agent',
      () => conversions.track({ type: 'lead_created', id: 'u2' }, { ...ok, userAgent: null as never }),
    ],
    [
      'a numeric android id',
      () =>
        conversions.track({ type: 'lead_created', id: 'a1', user: { androidAdvertisingId: 7 as never } }, ok),
    ],
    [
      'a Symbol source URL',
      () => conversions.track({ type: 'lead_created', id: 's1', sourceUrl: Symbol('x') as never }, ok),
    ],
    [
      'a null-prototype source URL',
      () =>
        conversions.track({ type: 'lead_created', id: 's2', sourceUrl: Object.create(null) as never }, ok),
    ],
    [
      'a sparse email list',
      () =>
        conversions.track(
          { type: 'lead_created', id: 'e1', user: { email: withHole('a@x.co') as never } },
          ok,
        ),
    ],
    [
      'a string as data',
      () =>
        conversions.track({ type: 'custom', customEventName: 'quote', id: 'd1', data: 'hi' as never }, ok),
    ],
    ['no input at all', () => conversions.track(undefined as never, ok)],
    [
      'an input whose getter throws',
      () =>
        conversions.track(
          Object.defineProperty({ type: 'lead_created' }, 'user', {
            enumerable: true,
            get() {
              throw new Error('boom');
            },
          }) as never,
          ok,
        ),
    ],
  ];
  it.each(hostile)('returns a status for %s', async (_name, call) => {
    const result = (await call()) as { status: string };
    expect(['queued', 'refused', 'skipped']).toContain(result.status);
  });

  it('keeps the conversion and drops the bad optional field', async () => {
    const data = await conversions.track(
      { type: 'custom', customEventName: 'quote', id: 'keep1', data: { big: 10n, plan: 'pro' } as never },
      ok,
    );
    expect(data).toMatchObject({
      status: 'queued',
      warnings: [{ path: 'data.big', code: 'not_serializable' }],
    });
    const sparse = await conversions.track(
      { type: 'lead_created', id: 'keep2', user: { email: withHole('a@x.co') as never } },
      ok,
    );
    expect(sparse).toMatchObject({
      status: 'queued',
      warnings: [{ path: 'user.emails_sha256[0]', code: 'list_invalid' }],
    });
    const stringData = await conversions.track(
      { type: 'custom', customEventName: 'quote', id: 'keep3', data: 'hi' as never },
      ok,
    );
    expect(stringData).toMatchObject({
      status: 'queued',
      warnings: [{ path: 'data', code: 'data_invalid' }],
    });
    await conversions.flush();
    const sent = endpoint.requests.flatMap((r) => r.envelope.events);
    expect(sent.find((e) => e.id === 'keep1')?.data).toEqual({ type: 'custom', plan: 'pro' });
    expect(sent.find((e) => e.id === 'keep3')?.data).toEqual({ type: 'custom' });
    expect(sent.find((e) => e.id === 'keep2')?.user?.emails_sha256).toHaveLength(1);
  });

  it('refuses ids with control characters, which storage would truncate', async () => {
    const result = await conversions.track({ type: 'lead_created', id: 'lead\u0000tail' }, ok);
    expect(result).toMatchObject({ status: 'refused', issues: [{ code: 'id_invalid' }] });
  });

  it('says once per reason what happened and what to change', async () => {
    const { logger: log, lines: seen } = recordingLogger();
    const quiet = createConversions({ ...base, fetch: endpoint.fetch, logger: log });
    for (let i = 0; i < 3; i++)
      await quiet.track({ type: 'lead_created' }, { sourceUrl: 'https://shop.example/' });
    const hints = seen.filter((line) => line.includes('no consent signal under opt-in'));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toMatch(/consent/);
    await quiet.shutdown();
    expect(lines.join('\n')).not.toContain('a@x.co');
  });
});

describe('pixel snippet carries only what the pixel accepts', () => {
  it('leaves group_id, variant_dict and free-form keys to the server event', () => {
    const dropped: string[][] = [];
    const html = renderPixel({
      pixelId: 'px',
      consent: 'granted',
      onDropped: (paths) => dropped.push(paths),
      event: {
        type: 'order_created',
        id: 'o1',
        data: {
          amount: 1000,
          currency: 'USD',
          contents: [
            {
              id: 'sku',
              groupId: 'g',
              variantDict: { size: 'm' },
              name: 'Mug',
              contentType: 'product',
              quantity: 1,
              amount: 1000,
              currency: 'usd',
            },
          ],
        },
      },
    });
    expect(html).toContain(
      '"contents":[{"id":"sku","name":"Mug","content_type":"product","quantity":1,"amount":1000,"currency":"USD"}]',
    );
    expect(html).not.toMatch(/group_id|variant_dict/);
    expect(dropped).toEqual([['data.contents[0].group_id', 'data.contents[0].variant_dict']]);
  });

  it('keeps only plan_id, amount, currency and contents on custom events', () => {
    const html = renderPixel({
      pixelId: 'px',
      consent: 'granted',
      event: {
        type: 'custom',
        id: 'c1',
        customEventName: 'Quote_Requested',
        data: { planId: 'pro', amount: 5, currency: 'EUR', colour: 'red' },
      },
    });
    expect(html).toContain('{"type":"custom","amount":5,"currency":"EUR","plan_id":"pro"}');
    expect(html).toContain('"custom_event_name":"quote_requested"');
    expect(html).not.toContain('colour');
  });

  it('refuses a custom event without a valid name with a typed error', () => {
    const render = (customEventName?: string) => () =>
      renderPixel({
        pixelId: 'px',
        consent: 'granted',
        event: { type: 'custom', id: 'c1', ...(customEventName !== undefined ? { customEventName } : {}) },
      });
    expect(render()).toThrow(PixelEventError);
    expect(render('order_created')).toThrow(PixelEventError);
    expect(render('has space')).toThrow(PixelEventError);
    try {
      render()();
    } catch (error) {
      expect((error as PixelEventError).code).toBe('custom_event_name_required');
    }
  });
});

describe('phones', () => {
  it.each(['+00 44 20 7946 0958', '+0044 20 7946 0958', '+00442079460958', '0044 20 7946 0958'])(
    'reads %s as the international prefix',
    (raw) => {
      expect(normalizePhone(raw)).toEqual({ ok: true, value: '442079460958' });
    },
  );
});

describe('client addresses with a port', () => {
  it.each([
    ['203.0.113.7:51234', '203.0.113.7'],
    ['[2001:db8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8::1', '2001:db8::1'],
    ['203.0.113.7', '203.0.113.7'],
  ])('%s → %s', (raw, expected) => {
    expect(clientAddress(raw)).toBe(expected);
    const reading = readRequest({ url: 'https://shop.example/', header: () => undefined, ip: raw });
    expect(reading.context.ip).toBe(expected);
  });

  it('keeps the IP of a forwarded address with a port on the event', async () => {
    const reading = readRequest({
      url: 'https://shop.example/',
      header: () => undefined,
      ip: '203.0.113.7:51234',
    });
    const built = await buildEvent({ type: 'lead_created', id: 'l1' }, reading.context);
    expect(built.ok && built.event.user?.ip_address).toBe('203.0.113.7');
  });
});

describe('the key stays secret', () => {
  it('is in no inspect or JSON output of the client', () => {
    const conversions = createConversions(base);
    expect(inspect(conversions, { depth: 10, showHidden: true })).not.toContain('SECRET');
    expect(JSON.stringify(conversions)).not.toContain('SECRET');
  });
});

describe('configuration from the environment', () => {
  it('reads the documented names and nothing else, with no fallback values', () => {
    expect(
      optionsFromEnvironment({
        CHATGPT_ADS_PIXEL_ID: 'px_env',
        CHATGPT_ADS_API_KEY: 'sk_env',
        CHATGPT_ADS_ENDPOINT: ' ',
        CHATGPT_ADS_DEBUG: '1',
        OPENAI_ADS_PIXEL_ID: 'px_other',
      }),
    ).toEqual({ pixelId: 'px_env', apiKey: 'sk_env', debug: true });
    expect(optionsFromEnvironment({})).toEqual({});
  });

  it('lets code win, and an undefined option not erase the environment', () => {
    const env = { CHATGPT_ADS_ENDPOINT: 'http://127.0.0.1:8787/v1/events', CHATGPT_ADS_PIXEL_ID: 'px_env' };
    expect(withEnvironment({ pixelId: 'px_code', endpoint: undefined }, env)).toEqual({
      pixelId: 'px_code',
      endpoint: 'http://127.0.0.1:8787/v1/events',
    });
  });

  it('names the variable when the key is missing', () => {
    expect(() => createConversions({ pixelId: 'px' } as never)).toThrow(/CHATGPT_ADS_API_KEY/);
  });
});

describe('development never reaches OpenAI', () => {
  it("loads the stand-in pixel from the endpoint's origin when the endpoint is not OpenAI's", () => {
    const local = createConversions({ ...base, endpoint: 'http://127.0.0.1:8787/v1/events' });
    expect(local.pixel({ consent: 'granted' })).toContain('"http://127.0.0.1:8787/sdk/oaiq.min.js"');
    const real = createConversions({ pixelId: 'px', apiKey: KEY });
    expect(real.pixel({ consent: 'granted' })).toContain('"https://bzrcdn.openai.com/sdk/oaiq.min.js"');
    const chosen = createConversions({ ...base, pixel: { scriptUrl: 'https://cdn.example/oaiq.js' } });
    expect(chosen.pixel({ consent: 'granted' })).toContain('"https://cdn.example/oaiq.js"');
  });
});

describe('the capture step says why a click id was not stored', () => {
  it('once, naming the consent rule', () => {
    const { logger, lines } = recordingLogger();
    const conversions = createConversions({ ...base, logger });
    for (let i = 0; i < 3; i++)
      conversions.forRequest({ url: `https://shop.example/?oppref=gAAAA${i}`, header: () => undefined });
    conversions.forRequest({
      url: 'https://shop.example/?oppref=a%20b;c',
      header: (n) => (n === 'cookie' ? '__oaiq_consent=true' : undefined),
    });
    expect(lines.filter((l) => l.includes('oppref not stored: no consent signal under opt-in'))).toHaveLength(
      1,
    );
    expect(lines.some((l) => l.includes('oppref not stored: unsafe'))).toBe(true);
    expect(lines.join('\n')).not.toContain('gAAAA');
  });
});

describe('debug: true logs every decision', () => {
  it('every skip, every queued event and every delivery, even with a logger that has no debug level', async () => {
    const lines: string[] = [];
    const endpoint = fakeEndpoint();
    const conversions = createConversions({
      ...base,
      fetch: endpoint.fetch,
      debug: true,
      logger: { warn: (m) => lines.push(m), error: (m) => lines.push(m) },
    });
    for (let i = 0; i < 2; i++)
      await conversions.track({ type: 'lead_created' }, { sourceUrl: 'https://s.example/' });
    await conversions.track(
      { type: 'lead_created', id: 'l1' },
      { consent: 'granted', sourceUrl: 'https://s.example/' },
    );
    await conversions.flush();
    expect(lines.filter((l) => l.startsWith('skipped: no consent signal'))).toHaveLength(2);
    expect(lines.some((l) => /^queued lead_created l1 \(\d+ bytes\)$/.test(l))).toBe(true);
    expect(lines.some((l) => /^delivered 1 event\(s\) \(HTTP 200\)$/.test(l))).toBe(true);
  });
});

describe('found in review', () => {
  const ok = { consent: 'granted' as const, sourceUrl: 'https://shop.example/' };

  it('a huge or endless sparse identifier list is read only as far as it can matter', async () => {
    const conversions = createConversions({ ...base, logger: recordingLogger().logger });
    const result = await conversions.track(
      {
        type: 'lead_created',
        user: { email: new Array(2 ** 32 - 1) as never, city: new Array(1e6) as never },
      },
      ok,
    );
    expect(result).toMatchObject({ status: 'queued' });
    if (result.status === 'queued') {
      expect(result.warnings.filter((w) => w.code === 'list_too_long').map((w) => w.path)).toEqual([
        'user.emails_sha256',
        'user.cities',
      ]);
      expect(result.warnings.length).toBeLessThan(250);
    }
  });

  it("a request view's track() gives a status for null and undefined input", async () => {
    const conversions = createConversions({ ...base, logger: recordingLogger().logger });
    const visit = conversions.forRequest({
      url: 'https://shop.example/',
      header: () => '__oaiq_consent=true',
    });
    expect(await visit.track(null as never)).toMatchObject({ status: 'refused' });
    expect(await visit.track(undefined as never)).toMatchObject({ status: 'refused' });
  });

  it.each(['DENIED', false, 'no', { state: 'Denied' }])(
    'under opt-out, an app consent answer that is not a state (%j) is a denial, never a send',
    async (answer) => {
      const { logger, lines } = recordingLogger();
      const conversions = createConversions({ ...base, consent: { mode: 'opt-out' }, logger });
      const result = await conversions.track({ type: 'lead_created' }, { ...ok, consent: answer as never });
      expect(result).toMatchObject({ status: 'skipped', source: 'app:invalid' });
      expect(lines.join('\n')).toContain("the app's consent answer is not 'granted', 'denied' or 'unknown'");
      const visit = conversions.forRequest(
        { url: 'https://shop.example/?oppref=gAAAA1', header: () => undefined },
        {
          consent: answer as never,
        },
      );
      expect(visit.setCookies).toEqual([]);
      expect(visit.consent).toMatchObject({ state: 'denied', source: 'app:invalid' });
    },
  );

  it('withEnvironment keeps a hidden key hidden, and a key from the environment is never enumerable', () => {
    const hidden = Object.defineProperty({ pixelId: 'px' }, 'apiKey', {
      value: 'sk_SECRET_hidden',
      enumerable: false,
    });
    const merged = withEnvironment(hidden as { pixelId: string; apiKey?: string }, {});
    expect(merged.apiKey).toBe('sk_SECRET_hidden');
    expect(JSON.stringify(merged)).not.toContain('SECRET');
    const fromEnv = withEnvironment({}, { CHATGPT_ADS_API_KEY: 'sk_SECRET_env' }) as { apiKey?: string };
    expect(fromEnv.apiKey).toBe('sk_SECRET_env');
    expect(JSON.stringify(fromEnv)).not.toContain('SECRET');
  });

  it('scriptUrl: undefined (an unset variable) keeps the stand-in pixel off OpenAI', () => {
    const conversions = createConversions({
      ...base,
      endpoint: 'http://127.0.0.1:8787/v1/events',
      pixel: { scriptUrl: undefined },
    });
    expect(conversions.pixel({ consent: 'granted' })).toContain('"http://127.0.0.1:8787/sdk/oaiq.min.js"');
  });

  it('refuses durations a timer cannot hold', () => {
    expect(() => createConversions({ ...base, retry: { maxDelayMs: 2 ** 31 } })).toThrow(/retry\.maxDelayMs/);
  });
});
