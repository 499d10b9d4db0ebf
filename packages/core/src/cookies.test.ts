import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  captureOppref,
  parseCookieHeader,
  readCookie,
  readOpprefFromUrl,
  serializeCookie,
} from './cookies.js';

describe('parseCookieHeader', () => {
  it('keeps raw values (no URL-decoding) and the first of repeated names', () => {
    const cookies = parseCookieHeader('__oppref=oppref%2Babc; theme=dark;__oppref=second; empty=');
    expect(cookies.get('__oppref')).toBe('oppref%2Babc');
    expect(cookies.get('empty')).toBe('');
    expect(cookies.get('theme')).toBe('dark');
  });
  it('tolerates missing and malformed headers', () => {
    expect(parseCookieHeader(undefined).size).toBe(0);
    expect(parseCookieHeader('garbage; ;=x').size).toBe(0);
  });
});

describe('readOpprefFromUrl', () => {
  it('returns the first non-empty raw value', () => {
    expect(readOpprefFromUrl('https://s.example/?a=1&oppref=first&oppref=second')).toBe('first');
    expect(readOpprefFromUrl('https://s.example/?oppref=&oppref=x')).toBe('x');
    expect(readOpprefFromUrl('https://s.example/?oppref=a%2Bb+c#oppref=frag')).toBe('a%2Bb+c');
    expect(readOpprefFromUrl('https://s.example/?xoppref=1')).toBeUndefined();
    expect(readOpprefFromUrl(new URL('https://s.example/landing'))).toBeUndefined();
  });
});

describe('captureOppref', () => {
  const landing = 'https://shop.example/landing?utm_source=chatgpt&oppref=gAAAAB-click_1';

  it('sets __oppref from the landing URL with the pixel cookie attributes', () => {
    const capture = captureOppref({ url: landing, cookieHeader: null }, { consent: 'granted' });
    expect(capture).toMatchObject({ oppref: 'gAAAAB-click_1', source: 'url' });
    expect(capture.setCookies).toEqual([
      '__oppref=gAAAAB-click_1; Path=/; Max-Age=2592000; SameSite=Lax; Secure',
    ]);
    expect(capture.setCookies[0]).not.toMatch(/HttpOnly/i);
  });

  it('omits Secure on http and adds a configured domain', () => {
    const capture = captureOppref(
      { url: 'http://localhost:3000/?oppref=x1', cookieHeader: '' },
      { consent: 'granted', domain: 'example.com' },
    );
    expect(capture.setCookies).toEqual([
      '__oppref=x1; Path=/; Max-Age=2592000; SameSite=Lax; Domain=example.com',
    ]);
  });

  it('reads the cookie on later requests and does not rewrite an unchanged value', () => {
    const later = captureOppref(
      { url: 'https://shop.example/checkout', cookieHeader: '__oppref=oppref%2Babc; __obref=ob-1' },
      { consent: 'granted' },
    );
    expect(later).toMatchObject({ oppref: 'oppref%2Babc', obref: 'ob-1', source: 'cookie', setCookies: [] });
    const same = captureOppref(
      { url: `${landing}`, cookieHeader: '__oppref=gAAAAB-click_1' },
      { consent: 'granted' },
    );
    expect(same.setCookies).toEqual([]);
  });

  it('replaces an older value with a newer one from the URL', () => {
    const capture = captureOppref({ url: landing, cookieHeader: '__oppref=old' }, { consent: 'granted' });
    expect(capture.oppref).toBe('gAAAAB-click_1');
    expect(capture.setCookies[0]).toMatch(/^__oppref=gAAAAB-click_1;/);
  });

  it('under a denial writes nothing and expires existing attribution cookies', () => {
    const capture = captureOppref(
      { url: landing, cookieHeader: '__oppref=old; __obref=ob' },
      { consent: 'denied' },
    );
    expect(capture.oppref).toBeUndefined();
    expect(capture.obref).toBeUndefined();
    expect(capture.setCookies).toEqual([
      '__oppref=; Path=/; Max-Age=0; SameSite=Lax; Secure',
      '__obref=; Path=/; Max-Age=0; SameSite=Lax; Secure',
    ]);
  });

  it('without consent in opt-in mode neither writes nor clears', () => {
    const capture = captureOppref({ url: landing, cookieHeader: '__oppref=old' }, { consent: 'unknown' });
    expect(capture).toMatchObject({ source: 'none', setCookies: [] });
    expect(capture.oppref).toBeUndefined();
    const optOut = captureOppref(
      { url: landing, cookieHeader: null },
      { consent: 'unknown', mode: 'opt-out' },
    );
    expect(optOut.oppref).toBe('gAAAAB-click_1');
  });

  it.each([
    ['whitespace', 'a b'],
    ['tab', 'a\tb'],
    ['semicolon', 'a;b'],
    ['comma', 'a,b'],
    ['quote', 'a"b'],
    ['control', 'a\u0001b'],
    ['too long', 'x'.repeat(2049)],
  ])('refuses an unsafe value (%s) and keeps the existing cookie', (_label, value) => {
    const capture = captureOppref(
      { url: `https://shop.example/?oppref=${value}`, cookieHeader: '__oppref=good' },
      { consent: 'granted' },
    );
    expect(capture.oppref).toBe('good');
    expect(capture.setCookies).toEqual([]);
    expect(capture.refused).toEqual([expect.objectContaining({ code: 'oppref_invalid' })]);
  });

  it('accepts a value of exactly 2,048 characters', () => {
    const value = 'x'.repeat(2048);
    expect(captureOppref({ url: `https://s.example/?oppref=${value}` }, { consent: 'granted' }).oppref).toBe(
      value,
    );
  });

  it('reads a Web Request', () => {
    const request = new Request(landing, { headers: { cookie: '__obref=ob-7' } });
    expect(captureOppref(request, { consent: 'granted' })).toMatchObject({
      oppref: 'gAAAAB-click_1',
      obref: 'ob-7',
    });
  });
});

describe('serializeCookie', () => {
  it('writes the given max age', () => {
    expect(serializeCookie('__oppref', 'v', { maxAgeSeconds: 60, secure: true })).toBe(
      '__oppref=v; Path=/; Max-Age=60; SameSite=Lax; Secure',
    );
  });
});

describe('readCookie', () => {
  it('gives exactly what parseCookieHeader gives, for any header and name', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '__oppref',
        '__obref',
        '__oaiq_consent',
        'a',
        '',
        ' ',
        '=',
        ';',
        '\t',
        '\u00a0',
        '\ufeff',
        '%2B',
        'Zw==',
      ),
      fc.string({ maxLength: 6 }),
    );
    const header = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
    const name = fc.oneof(
      fc.constantFrom('__oppref', '__obref', '__oaiq_consent', 'a'),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(header, name, (text, wanted) => {
        const expected = wanted ? parseCookieHeader(text).get(wanted) : undefined;
        expect(readCookie(text, wanted)).toBe(expected);
      }),
      { numRuns: 20_000 },
    );
  });
});
