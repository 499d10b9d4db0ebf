import { afterEach, expect, it, vi } from 'vitest';
import { createNextConversions } from '../src/index.js';

afterEach(() => vi.unstubAllEnvs());

it('builds without secrets and names the missing variable at first use', () => {
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', '');
  vi.stubEnv('CHATGPT_ADS_API_KEY', '');
  const ads = createNextConversions({}); // what `next build` does when it collects page data
  expect(() => ads.conversions).toThrow(/CHATGPT_ADS_PIXEL_ID/);
});

it('reads the documented environment variables', () => {
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_env');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_env_SECRET');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', 'http://127.0.0.1:8787/v1/events');
  const ads = createNextConversions({});
  expect(ads.conversions.pixelId).toBe('px_env');
  expect(JSON.stringify(ads.conversions)).toContain('"endpoint":"http://127.0.0.1:8787/v1/events"');
});

it('still refuses a wrong option at once', () => {
  expect(() => createNextConversions({ consent: { mode: 'optin' as never } })).toThrow(/consent\.mode/);
});
