import { describe, expect, it } from 'vitest';
import { appConsent } from './consent.js';
import { fromWebRequest, readRequest } from './request.js';

describe('readRequest', () => {
  it('builds the context and cookie writes for a landing request', () => {
    const request = new Request('https://shop.example/?oppref=click-9', {
      headers: { cookie: '__oaiq_consent=true; __obref=ob-1', 'user-agent': 'UA/1.0' },
    });
    const reading = readRequest(fromWebRequest(request, '::ffff:198.51.100.4'));
    expect(reading.context).toEqual({
      consent: { state: 'granted', source: '__oaiq_consent' },
      oppref: 'click-9',
      obref: 'ob-1',
      ip: '198.51.100.4',
      userAgent: 'UA/1.0',
      sourceUrl: 'https://shop.example/?oppref=click-9',
    });
    expect(reading.setCookies).toHaveLength(1);
  });

  it('uses configured resolvers and mode', () => {
    const request = new Request('https://shop.example/?oppref=click-9', {
      headers: { 'sec-gpc': '1', cookie: '__oppref=old' },
    });
    const denied = readRequest(fromWebRequest(request));
    expect(denied.consent.state).toBe('denied');
    expect(denied.setCookies).toEqual(['__oppref=; Path=/; Max-Age=0; SameSite=Lax; Secure']);
    const app = readRequest(fromWebRequest(request), { consent: { resolvers: [appConsent('granted')] } });
    expect(app.context.oppref).toBe('click-9');
  });
});
