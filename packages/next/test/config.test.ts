import { describe, expect, it } from 'vitest';
import { RAW_URL_MARKER, withChatgptAds } from '../src/config.js';

describe('withChatgptAds', () => {
  it('turns off query re-encoding with the switch of the installed Next major', () => {
    expect(withChatgptAds({ reactStrictMode: true }, { nextVersion: '16.4.6' })).toEqual({
      reactStrictMode: true,
      skipProxyUrlNormalize: true,
      env: { [RAW_URL_MARKER]: '1' },
    });
    expect(withChatgptAds({}, { nextVersion: '15.5.29' })).toMatchObject({
      skipMiddlewareUrlNormalize: true,
    });
  });

  it('keeps the env values already there', () => {
    expect(withChatgptAds({ env: { A: 'b' } }, { nextVersion: '16.0.0' }).env).toEqual({
      A: 'b',
      [RAW_URL_MARKER]: '1',
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
