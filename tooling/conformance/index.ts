// The adapter conformance suite. An adapter's test file calls `runConformance(harness)`; the harness
// starts the real framework with the adapter and three routes:
//   GET  /landing   200, any body
//   GET  /redirect  302 to /landing (the query string is dropped, as many landing redirects do)
//   POST /lead      track({ type: 'lead_created' }) with the request's context and event id, and answer
//                   JSON { status, id, eventId, pixel } where pixel is the adapter's snippet for lead_created
// `close()` must stop the app the framework's way, which must flush the client.
import { request as httpRequest } from 'node:http';
import { inspect } from 'node:util';
import {
  appConsent,
  type ConsentMode,
  type ConsentResolver,
  type ConversionsOptions,
  consentAllows,
  cookiebotConsent,
  globalPrivacyControl,
  googleConsentMode,
  oneTrustConsent,
  pixelConsentCookie,
} from '@chatgpt-ads/core';
import { tcfConsent } from '@chatgpt-ads/core/tcf';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { cookiebotCookie, oneTrustCookie, tcString } from '@tooling/consent-fixtures';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

// fetch() would normalise the request line; a raw GET sends the bytes exactly as given.
function rawGet(url: string, cookie: string): Promise<string[]> {
  const { hostname, port, pathname } = new URL(url);
  const path = url.slice(url.indexOf(pathname));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, headers: { cookie } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['set-cookie'] ?? []));
    });
    req.on('error', reject);
    req.end();
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface ConformanceApp {
  url: string;
  close(): Promise<void>;
  /** Every object the adapter created or attached for the app (middleware, services, request views). */
  exposed(): unknown[];
}

/**
 * What an adapter's own conformance cases get (`runConformance(harness, { extraTests })`): the
 * sandbox the app sends to (reset before each case), and the app under test started with the
 * suite's options.
 */
export interface ConformanceSuite {
  sandbox(): Sandbox;
  /** Starts the app (opt-in unless `mode` says otherwise, `extra` options on top); the suite closes it after the case. */
  start(
    mode?: ConsentMode,
    resolvers?: ConsentResolver[],
    extra?: Partial<ConversionsOptions>,
  ): Promise<ConformanceApp>;
  /** Closes the app the framework's way (which must flush the client). */
  stop(): Promise<void>;
  request(
    path: string,
    init?: { method?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; setCookies: string[]; text: string }>;
}

export interface ConformanceOptions {
  /** The adapter's own cases, run inside the suite with its sandbox and app. */
  extraTests?: (suite: ConformanceSuite) => void;
}

export interface ConformanceHarness {
  name: string;
  start(options: ConversionsOptions): Promise<ConformanceApp>;
}

const PIXEL = { pixelId: 'px_conformance', apiKey: 'sk_conformance_SECRET_canary' };

// JSON that survives the cycles frameworks' objects have, to look for the key in what it would print.
function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) => {
        if (typeof v === 'object' && v !== null) {
          if (seen.has(v)) return '[cycle]';
          seen.add(v);
        }
        return typeof v === 'bigint' ? String(v) : v;
      }) ?? ''
    );
  } catch (error) {
    return `unserializable: ${String(error)}`;
  }
}
const GRANTED = { cookie: '__oaiq_consent=true' };

export function runConformance(harness: ConformanceHarness, options: ConformanceOptions = {}): void {
  describe(`adapter conformance: ${harness.name}`, () => {
    let sandbox: Sandbox;
    let app: ConformanceApp | undefined;

    beforeAll(async () => {
      sandbox = await startSandbox({ port: 0, pixels: [PIXEL] });
    });
    afterAll(async () => {
      await app?.close();
      await sandbox.close();
    });
    beforeEach(async () => {
      await app?.close();
      app = undefined;
      sandbox.reset();
    });

    async function start(
      mode: ConsentMode = 'opt-in',
      resolvers?: ConsentResolver[],
      extra: Partial<ConversionsOptions> = {},
    ) {
      app = await harness.start({
        ...PIXEL,
        endpoint: sandbox.endpoint,
        consent: { mode, ...(resolvers ? { resolvers } : {}) },
        batch: { flushIntervalMs: 3_600_000 },
        logger: { warn() {}, error() {} },
        ...extra,
      });
      return app;
    }
    async function stop() {
      await app?.close();
      app = undefined;
    }
    async function request(path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
      const response = await fetch(`${app!.url}${path}`, { redirect: 'manual', ...init });
      const text = await response.text();
      return { status: response.status, setCookies: response.headers.getSetCookie(), text };
    }
    const opprefCookie = (setCookies: string[]) => setCookies.find((c) => c.startsWith('__oppref='));
    const lead = async (headers: Record<string, string>) => {
      const answer = await request('/lead?step=2', {
        method: 'POST',
        headers: { 'user-agent': 'ConformanceAgent/1.0', ...headers },
      });
      expect(answer.status).toBe(200);
      return JSON.parse(answer.text) as { status: string; id?: string; eventId: string; pixel: string };
    };

    // A value a config file or environment variable could hold for each enumerated option.
    it.each([
      ['consent.mode', { consent: { mode: 'optin' } }],
      ['consent.mode', { consent: { mode: 'OPT-IN' } }],
      ['consent.mode', { consent: { mode: 'opt_in' } }],
      ['defaultActionSource', { defaultActionSource: 'website' }],
      ['cookie.secure', { cookie: { secure: 'true' } }],
      ['batch.maxEvents', { batch: { maxEvents: 1001 } }],
      ['consentMode', { consentMode: 'opt-out' }],
    ])('refuses to start with a wrong %s', async (name, wrong) => {
      const started = harness.start({
        ...PIXEL,
        endpoint: sandbox.endpoint,
        ...(wrong as object),
      } as ConversionsOptions);
      await expect(started).rejects.toThrow(name);
      await started.then((running) => running.close()).catch(() => undefined);
    });

    it('the API key is in no inspect or JSON output of anything the adapter made, nor in any response', async () => {
      const running = await start();
      const landing = await request('/landing?oppref=gAAAAB-secret', { headers: GRANTED });
      const answer = await request('/lead', { method: 'POST', headers: GRANTED });
      for (const object of running.exposed()) {
        expect(inspect(object, { depth: 6, showHidden: false })).not.toContain('SECRET');
        expect(serialize(object)).not.toContain('SECRET');
      }
      expect(running.exposed().length).toBeGreaterThan(0);
      for (const response of [landing, answer]) {
        expect(response.text).not.toContain('SECRET');
        expect(response.setCookies.join('\n')).not.toContain('SECRET');
      }
    });

    it('a landing oppref is stored byte for byte: padding, ~, +, %2B and a browser-encoded apostrophe', async () => {
      await start();
      for (const value of ['gAAAAB-Zm9vYmFy_x-1Zw==', 'a~b~', 'a+b', 'a%2Bb', 'a%27b']) {
        const setCookies = await rawGet(`${app!.url}/landing?oppref=${value}`, GRANTED.cookie);
        expect(opprefCookie(setCookies), value).toMatch(new RegExp(`^__oppref=${escapeRegExp(value)};`));
      }
    });

    it('landing with oppref sets __oppref with the pixel cookie attributes', async () => {
      await start();
      const { status, setCookies } = await request('/landing?utm_source=chatgpt&oppref=gAAAAB-landing_1', {
        headers: GRANTED,
      });
      expect(status).toBe(200);
      const cookie = opprefCookie(setCookies);
      expect(cookie).toBeDefined();
      const parts = cookie!.split(';').map((p) => p.trim().toLowerCase());
      expect(parts[0]).toBe('__oppref=gaaaab-landing_1');
      expect(parts).toContain('path=/');
      expect(parts).toContain('max-age=2592000');
      expect(parts).toContain('samesite=lax');
      expect(parts).not.toContain('httponly');
      expect(parts.some((p) => p.startsWith('domain='))).toBe(false);
    });

    it('a repeated ?oppref= uses the first value', async () => {
      await start();
      const { setCookies } = await request('/landing?oppref=first-1&oppref=second-2', { headers: GRANTED });
      expect(opprefCookie(setCookies)).toMatch(/^__oppref=first-1;/);
    });

    it('a redirect that drops the query string still sets the cookie', async () => {
      await start();
      const { status, setCookies } = await request('/redirect?oppref=gAAAAB-redirect', { headers: GRANTED });
      expect(status).toBe(302);
      expect(opprefCookie(setCookies)).toMatch(/^__oppref=gAAAAB-redirect;/);
    });

    it('a later conversion carries the cookie value byte for byte, percent-encoding included', async () => {
      await start();
      const answer = await lead({ cookie: '__oaiq_consent=true; __oppref=gAAAAB%2Babc-1; __obref=ob-1' });
      expect(answer.status).toBe('queued');
      await stop();
      expect(sandbox.events()).toHaveLength(1);
      expect(sandbox.events()[0]?.event).toMatchObject({ oppref: 'gAAAAB%2Babc-1', user: { obref: 'ob-1' } });
    });

    for (const mode of ['opt-in', 'opt-out'] as const) {
      for (const [state, headers] of [
        ['granted', GRANTED],
        ['denied', { 'sec-gpc': '1' }],
        ['unknown', {}],
      ] as const) {
        const allowed = consentAllows(mode, state);
        it(`${mode}, consent ${state}: ${allowed ? 'cookie written and conversion sent' : 'no cookie, nothing sent'}`, async () => {
          await start(mode);
          const landing = await request('/landing?oppref=gAAAAB-consent', { headers });
          expect(Boolean(opprefCookie(landing.setCookies))).toBe(allowed);
          const answer = await lead({
            ...headers,
            cookie: ['cookie' in headers ? headers.cookie : '', '__oppref=gAAAAB-consent']
              .filter(Boolean)
              .join('; '),
          });
          expect(answer.status).toBe(allowed ? 'queued' : 'skipped');
          await stop();
          expect(sandbox.events()).toHaveLength(allowed ? 1 : 0);
          expect(sandbox.requests()).toHaveLength(allowed ? 1 : 0);
        });
      }
    }

    it('a denial clears existing attribution cookies', async () => {
      await start();
      const { setCookies } = await request('/landing?oppref=new', {
        headers: { cookie: '__oaiq_consent=false; __oppref=old; __obref=ob' },
      });
      expect(setCookies.find((c) => c.startsWith('__oppref='))).toMatch(/^__oppref=;.*Max-Age=0/i);
      expect(setCookies.find((c) => c.startsWith('__obref='))).toMatch(/^__obref=;.*Max-Age=0/i);
    });

    it.each([
      ['a semicolon', 'a;b'],
      ['a comma', 'a,b'],
      ['over 2,048 characters', 'x'.repeat(2049)],
    ])('an unsafe oppref (%s) is refused', async (_label, value) => {
      await start();
      const landing = await request(`/landing?oppref=${value}`, { headers: GRANTED });
      expect(opprefCookie(landing.setCookies)).toBeUndefined();
    });

    it('IP, user agent and source URL (without query) reach the event, and its id is the pixel event_id', async () => {
      const base = (await start()).url;
      const answer = await lead({ cookie: '__oaiq_consent=true' });
      expect(answer.id).toBe(answer.eventId);
      expect(answer.pixel).toContain(`"event_id":"${answer.eventId}"`);
      expect(answer.pixel).toContain('oaiq("measure","lead_created"');
      await stop();
      const event = sandbox.events()[0]?.event as unknown as Record<string, unknown> & {
        user: Record<string, string>;
      };
      expect(event.id).toBe(answer.eventId);
      expect(event.user.ip_address).toMatch(/^(127\.0\.0\.1|::1)$/);
      expect(event.user.user_agent).toBe('ConformanceAgent/1.0');
      expect(event.source_url).toBe(`${base}/lead`);
    });

    // Each consent source, configured through options only: the adapter adds nothing for any of them.
    const sources: Array<
      [string, () => ConsentResolver, Record<string, string> | undefined, Record<string, string>]
    > = [
      [
        'IAB TCF',
        () => tcfConsent(),
        { cookie: `euconsent-v2=${tcString({ purposes: [1, 7] })}` },
        { cookie: `euconsent-v2=${tcString({ purposes: [1] })}` },
      ],
      [
        'OneTrust',
        () => oneTrustConsent(),
        { cookie: `OptanonConsent=${oneTrustCookie({ C0001: 1, C0004: 1 })}` },
        { cookie: `OptanonConsent=${oneTrustCookie({ C0001: 1, C0004: 0 })}` },
      ],
      [
        'Cookiebot',
        () => cookiebotConsent(),
        { cookie: `CookieConsent=${cookiebotCookie({ marketing: true })}` },
        { cookie: `CookieConsent=${cookiebotCookie({ marketing: false })}` },
      ],
      [
        'the pixel cookie',
        () => pixelConsentCookie(),
        { cookie: '__oaiq_consent=true' },
        { cookie: '__oaiq_consent=false' },
      ],
      [
        'Google Consent Mode mirror',
        () => googleConsentMode(),
        { cookie: '__gcm_ads=granted' },
        { cookie: '__gcm_ads=denied' },
      ],
      [
        'an app resolver',
        () =>
          appConsent((s) =>
            s.cookie('site_consent') === 'yes'
              ? 'granted'
              : s.cookie('site_consent') === 'no'
                ? 'denied'
                : undefined,
          ),
        { cookie: 'site_consent=yes' },
        { cookie: 'site_consent=no' },
      ],
      ['Global Privacy Control', () => globalPrivacyControl(), undefined, { 'sec-gpc': '1' }],
    ];
    for (const [label, resolver, granted, denied] of sources) {
      for (const [state, headers] of [
        ['granted', granted],
        ['denied', denied],
      ] as const) {
        if (!headers) continue;
        it(`consent from ${label}: ${state}`, async () => {
          await start('opt-in', [resolver()]);
          const landing = await request('/landing?oppref=gAAAAB-source', { headers });
          expect(Boolean(opprefCookie(landing.setCookies))).toBe(state === 'granted');
          const answer = await lead(headers);
          expect(answer.status).toBe(state === 'granted' ? 'queued' : 'skipped');
          await stop();
          expect(sandbox.events()).toHaveLength(state === 'granted' ? 1 : 0);
        });
      }
    }

    it('shutdown delivers what is queued', async () => {
      await start();
      for (let i = 0; i < 3; i++) expect((await lead(GRANTED)).status).toBe('queued');
      // Long-lived servers batch until shutdown; serverless adapters send after each response.
      await stop();
      expect(sandbox.events()).toHaveLength(3);
    });

    options.extraTests?.({ sandbox: () => sandbox, start, stop, request });
  });
}
