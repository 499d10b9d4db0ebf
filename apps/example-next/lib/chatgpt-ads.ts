// The one place the API key is read: a server-only module, so no client bundle can import it.
import 'server-only';
import { createNextConversions } from '@chatgpt-ads/next';

export const ads = createNextConversions({
  pixelId: process.env.OPENAI_ADS_PIXEL_ID ?? 'px_example_next',
  apiKey: process.env.OPENAI_CONVERSIONS_API_KEY ?? 'sk_example_next',
  endpoint: process.env.CHATGPT_ADS_ENDPOINT ?? 'http://127.0.0.1:8787/v1/events',
  pixel: { scriptUrl: process.env.CHATGPT_ADS_PIXEL_SCRIPT ?? 'http://127.0.0.1:8787/sdk/oaiq.min.js' },
  // The store's consent banner decides (the proxy uses the same rule).
  consentFromHeaders: (headers) => {
    const choice = /(?:^|;\s*)demo_consent=(granted|denied)(?:;|$)/.exec(headers.get('cookie') ?? '')?.[1];
    return choice as 'granted' | 'denied' | undefined;
  },
});
