import { describe, expect, it } from 'vitest';
import { RAW_URL_MARKER, withChatgptAds } from '../src/config.js';

describe('withChatgptAds', () => {
  it('turns off query re-encoding with the switch of the installed Next major', () => {
    expect(withChatgptAds({ reactStrictMode: true }, { nextVersion: '16.4.6' })).toEqual({
      reactStrictMode: true,
      skipProxyUrlNormalize: true,
      env: { [RAW_URL_MARKER]: 'raw' },
    });
    expect(withChatgptAds({}, { nextVersion: '15.5.29' })).toMatchObject({
      skipMiddlewareUrlNormalize: true,
    });
  });

  it('keeps the env values already there', () => {
    expect(withChatgptAds({ env: { A: 'b' } }, { nextVersion: '16.0.0' }).env).toEqual({
      A: 'b',
      [RAW_URL_MARKER]: 'raw',
    });
  });

  it('refuses a config that turns the switch off explicitly', () => {
    expect(() => withChatgptAds({ skipProxyUrlNormalize: false }, { nextVersion: '16.0.0' })).toThrow(
      /raw URL/,
    );
  });

  it('reads the installed Next version when none is given', () => {
    expect(withChatgptAds({})).toHaveProperty('skipProxyUrlNormalize', true);
  });
});

describe('restoreFormEncoded', () => {
  it('gives back what a browser sent, in the oppref value only', async () => {
    const { restoreFormEncoded } = await import('../src/proxy.js');
    expect(restoreFormEncoded('https://s.example/?a=%3D&oppref=gAAAAB-x%3D%3D&b=1')).toBe(
      'https://s.example/?a=%3D&oppref=gAAAAB-x==&b=1',
    );
    expect(restoreFormEncoded('https://s.example/?oppref=a%7Eb%27c%2Bd+e')).toBe(
      'https://s.example/?oppref=a~b%27c%2Bd+e',
    );
  });
});
