import { afterEach, expect, it, vi } from 'vitest';
import { chatgptAds } from '../src/index.js';

afterEach(() => vi.unstubAllEnvs());

it('runs from the environment alone, and keeps the key out of what it prints', () => {
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_env');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_env_SECRET');
  const ads = chatgptAds();
  expect(ads.conversions.pixelId).toBe('px_env');
  expect(JSON.stringify(ads.conversions)).not.toContain('SECRET');
});

it('takes an API key another package made non-enumerable', () => {
  vi.stubEnv('CHATGPT_ADS_API_KEY', '');
  const options = Object.defineProperty({ pixelId: 'px' }, 'apiKey', {
    value: 'sk_hidden',
    enumerable: false,
  });
  expect(() => chatgptAds(options)).not.toThrow();
});
