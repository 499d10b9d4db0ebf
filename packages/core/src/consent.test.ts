import { describe, expect, it } from 'vitest';
import {
  appConsent,
  type ConsentSignals,
  consentAllows,
  defaultConsentResolvers,
  globalPrivacyControl,
  pixelConsentCookie,
  resolveConsent,
} from './consent.js';

function signals(cookies: Record<string, string> = {}, headers: Record<string, string> = {}): ConsentSignals {
  return { cookie: (name) => cookies[name], header: (name) => headers[name] };
}

describe('consentAllows', () => {
  it.each([
    ['opt-in', 'granted', true],
    ['opt-in', 'unknown', false],
    ['opt-in', 'denied', false],
    ['opt-out', 'granted', true],
    ['opt-out', 'unknown', true],
    ['opt-out', 'denied', false],
  ] as const)('%s + %s → %s', (mode, state, allowed) => {
    expect(consentAllows(mode, state)).toBe(allowed);
  });
});

describe('resolveConsent', () => {
  it('reads the pixel cookie and GPC by default, and says who decided', () => {
    expect(resolveConsent(signals({ __oaiq_consent: 'true' }), defaultConsentResolvers())).toEqual({
      state: 'granted',
      source: '__oaiq_consent',
    });
    expect(resolveConsent(signals({}, { 'sec-gpc': '1' }), defaultConsentResolvers())).toEqual({
      state: 'denied',
      source: 'gpc',
    });
    expect(resolveConsent(signals(), defaultConsentResolvers())).toEqual({
      state: 'unknown',
      source: 'none',
    });
  });

  it('asks resolvers in order; the first answer wins', () => {
    const resolvers = [appConsent(() => undefined), pixelConsentCookie(), globalPrivacyControl()];
    expect(resolveConsent(signals({ __oaiq_consent: 'true' }, { 'sec-gpc': '1' }), resolvers).source).toBe(
      '__oaiq_consent',
    );
    expect(
      resolveConsent(signals({ __oaiq_consent: 'false' }), [appConsent('granted'), ...resolvers]),
    ).toEqual({ state: 'granted', source: 'app' });
  });

  it('treats a throwing resolver as having no signal', () => {
    const broken = () => {
      throw new Error('bad cookie');
    };
    expect(resolveConsent(signals({}, { 'sec-gpc': '1' }), [broken, globalPrivacyControl()]).state).toBe(
      'denied',
    );
  });

  it('ignores values the pixel never writes', () => {
    expect(resolveConsent(signals({ __oaiq_consent: 'yes' }), [pixelConsentCookie()]).state).toBe('unknown');
  });
});
