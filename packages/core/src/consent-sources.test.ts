import { cookiebotCookie, oneTrustCookie, tcString } from '@tooling/consent-fixtures';
import { describe, expect, it } from 'vitest';
import { fakeEndpoint } from '../test/fake-endpoint.js';
import { createConversions } from './client.js';
import {
  appConsent,
  type ConsentSignals,
  cookiebotConsent,
  defaultConsentResolvers,
  globalPrivacyControl,
  googleConsentMode,
  oneTrustConsent,
  pixelConsentCookie,
  resolveConsent,
} from './consent.js';
import { fromWebRequest } from './request.js';
import { tcfConsent } from './tcf.js';

function signals(cookies: Record<string, string> = {}, headers: Record<string, string> = {}): ConsentSignals {
  return { cookie: (name) => cookies[name], header: (name) => headers[name] };
}

describe('IAB TCF v2.2 (TC strings from the IAB encoder)', () => {
  it('grants when purposes 1 and 7 have consent', () => {
    expect(
      resolveConsent(signals({ 'euconsent-v2': tcString({ purposes: [1, 2, 7] }) }), [tcfConsent()]),
    ).toEqual({ state: 'granted', source: 'tcf' });
  });
  it('denies when purpose 7 is missing, naming it', () => {
    expect(
      resolveConsent(signals({ 'euconsent-v2': tcString({ purposes: [1, 2] }) }), [tcfConsent()]),
    ).toEqual({
      state: 'denied',
      source: 'tcf:purpose-7',
    });
  });
  it('checks a configured vendor and configurable purposes and cookie name', () => {
    const withVendor = tcString({ purposes: [1, 7], vendors: [1234] });
    const withoutVendor = tcString({ purposes: [1, 7], vendors: [99] });
    expect(
      resolveConsent(signals({ 'euconsent-v2': withVendor }), [tcfConsent({ vendorId: 1234 })]).state,
    ).toBe('granted');
    expect(
      resolveConsent(signals({ 'euconsent-v2': withoutVendor }), [tcfConsent({ vendorId: 1234 })]),
    ).toEqual({
      state: 'denied',
      source: 'tcf:vendor-1234',
    });
    expect(
      resolveConsent(signals({ tc: tcString({ purposes: [1] }) }), [
        tcfConsent({ cookie: 'tc', purposes: [1] }),
      ]).state,
    ).toBe('granted');
  });
  it('reads garbage as no signal, never a crash', () => {
    for (const value of ['garbage!!', 'CQuSqEAQuSqEAAK', '%E0%A4%A', '']) {
      expect(resolveConsent(signals({ 'euconsent-v2': value }), [tcfConsent()])).toEqual({
        state: 'unknown',
        source: 'none',
      });
    }
  });
});

describe('OneTrust OptanonConsent', () => {
  it('reads the targeting group (C0004 by default) from the real cookie format', () => {
    expect(
      resolveConsent(signals({ OptanonConsent: oneTrustCookie({ C0001: 1, C0002: 1, C0004: 1 }) }), [
        oneTrustConsent(),
      ]),
    ).toEqual({
      state: 'granted',
      source: 'onetrust:C0004',
    });
    expect(
      resolveConsent(signals({ OptanonConsent: oneTrustCookie({ C0001: 1, C0004: 0 }) }), [
        oneTrustConsent(),
      ]),
    ).toEqual({
      state: 'denied',
      source: 'onetrust:C0004',
    });
  });
  it('uses a configured group and tolerates a doubly encoded cookie', () => {
    const cookie = encodeURIComponent(oneTrustCookie({ C0001: 1, C0007: 1 }));
    expect(
      resolveConsent(signals({ OptanonConsent: cookie }), [oneTrustConsent({ group: 'C0007' })]).state,
    ).toBe('granted');
    expect(resolveConsent(signals({ OptanonConsent: cookie }), [oneTrustConsent()]).state).toBe('unknown');
  });
});

describe('Cookiebot CookieConsent', () => {
  it('reads the marketing category from the URL-encoded object literal', () => {
    expect(
      resolveConsent(signals({ CookieConsent: cookiebotCookie({ marketing: true }) }), [cookiebotConsent()]),
    ).toEqual({
      state: 'granted',
      source: 'cookiebot:marketing',
    });
    expect(
      resolveConsent(signals({ CookieConsent: cookiebotCookie({ marketing: false, statistics: true }) }), [
        cookiebotConsent(),
      ]).state,
    ).toBe('denied');
  });
  it('reads -1 (no consent needed in the region) and nonsense as no signal', () => {
    expect(resolveConsent(signals({ CookieConsent: '-1' }), [cookiebotConsent()]).state).toBe('unknown');
    expect(resolveConsent(signals({ CookieConsent: '%7Bbroken' }), [cookiebotConsent()]).state).toBe(
      'unknown',
    );
  });
});

describe('Google Consent Mode mirror, GPC and ordering', () => {
  it('reads the mirror cookie', () => {
    expect(resolveConsent(signals({ __gcm_ads: 'granted' }), [googleConsentMode()])).toEqual({
      state: 'granted',
      source: 'google-consent-mode',
    });
    expect(resolveConsent(signals({ __gcm_ads: 'denied' }), [googleConsentMode()]).state).toBe('denied');
    expect(resolveConsent(signals({ __gcm_ads: 'maybe' }), [googleConsentMode()]).state).toBe('unknown');
  });

  it('asks sources in order: the app, TCF, CMP cookies, the pixel cookie, then GPC; the first answer decides', () => {
    const resolvers = [
      appConsent((s) => (s.cookie('site') === 'yes' ? 'granted' : undefined)),
      tcfConsent(),
      oneTrustConsent(),
      cookiebotConsent(),
      pixelConsentCookie(),
      globalPrivacyControl(),
    ];
    const everything = {
      'euconsent-v2': tcString({ purposes: [1] }),
      OptanonConsent: oneTrustCookie({ C0004: 1 }),
      CookieConsent: cookiebotCookie({ marketing: true }),
      __oaiq_consent: 'true',
    };
    expect(
      resolveConsent(signals({ ...everything, site: 'yes' }, { 'sec-gpc': '1' }), resolvers).source,
    ).toBe('app');
    expect(resolveConsent(signals(everything, { 'sec-gpc': '1' }), resolvers)).toEqual({
      state: 'denied',
      source: 'tcf:purpose-7',
    });
    const { 'euconsent-v2': _tcf, ...noTcf } = everything;
    expect(resolveConsent(signals(noTcf, { 'sec-gpc': '1' }), resolvers).source).toBe('onetrust:C0004');
    expect(resolveConsent(signals({}, { 'sec-gpc': '1' }), resolvers)).toEqual({
      state: 'denied',
      source: 'gpc',
    });
    expect(resolveConsent(signals(), defaultConsentResolvers()).source).toBe('none');
  });

  it('counts skipped conversions by the source that decided', async () => {
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      fetch: fakeEndpoint().fetch,
      consent: { resolvers: [oneTrustConsent(), globalPrivacyControl()] },
    });
    const denied = new Request('https://shop.example/', {
      headers: { cookie: `OptanonConsent=${oneTrustCookie({ C0004: 0 })}` },
    });
    for (let i = 0; i < 3; i++)
      await conversions.forRequest(fromWebRequest(denied)).track({ type: 'lead_created' });
    await conversions
      .forRequest(fromWebRequest(new Request('https://shop.example/', { headers: { 'sec-gpc': '1' } })))
      .track({ type: 'lead_created' });
    expect(conversions.stats()).toMatchObject({
      skipped: 4,
      skippedBySource: { 'onetrust:C0004': 3, gpc: 1 },
    });
    await conversions.shutdown();
  });
});
