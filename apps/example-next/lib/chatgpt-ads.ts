// The one place the API key is read: a server-only module, so no client bundle can import it.
import 'server-only';
import { createNextConversions } from '@chatgpt-ads/next';

// Pixel id, key and endpoint come from CHATGPT_ADS_PIXEL_ID, CHATGPT_ADS_API_KEY and
// CHATGPT_ADS_ENDPOINT, read at the first request (never at `next build`), with no fallback: a
// deploy that misses one fails loudly instead of sending somewhere else. Off OpenAI's endpoint,
// pages load the sandbox's stand-in pixel from the endpoint's origin.
export const ads = createNextConversions({
  // The store's consent banner decides (the proxy uses the same rule).
  consentFromRequest: (headers) => {
    const choice = /(?:^|;\s*)demo_consent=(granted|denied)(?:;|$)/.exec(headers.get('cookie') ?? '')?.[1];
    return choice as 'granted' | 'denied' | undefined;
  },
});
