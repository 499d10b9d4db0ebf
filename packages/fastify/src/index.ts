import {
  type AdapterOptions,
  adapterClient,
  type ConsentState,
  type Conversions,
  optionChecks,
  type RequestConversions,
} from '@chatgpt-ads/core';
import { fromNodeRequest } from '@chatgpt-ads/core/node';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** ChatGPT Ads for this request: context, consent, event id, `track` and `pixel`. */
    chatgptAds: RequestConversions;
  }
  interface FastifyInstance {
    /** The ChatGPT Ads client the plugin uses (`flush()`, `stats()`, `track()` without a request). */
    chatgptAds: Conversions;
  }
}

/**
 * Options of {@link chatgptAds}: the core client's options (or `conversions`, a client you made),
 * plus how to read the app's own consent and the response's CSP nonce. `pixelId`, `apiKey` and
 * `endpoint` not given here are read from `CHATGPT_ADS_PIXEL_ID`, `CHATGPT_ADS_API_KEY` and
 * `CHATGPT_ADS_ENDPOINT`.
 *
 * @example
 * const options: ChatgptAdsOptions = {
 *   consent: { mode: 'opt-in' },
 *   consentFromRequest: (request) => (request.headers.cookie?.includes('site_consent=yes') ? 'granted' : undefined),
 * };
 */
export type ChatgptAdsOptions = AdapterOptions<{
  /** The app's own consent answer for this request; asked before cookies and headers. */
  consentFromRequest?: (request: FastifyRequest) => ConsentState | undefined;
  /** The CSP nonce for the pixel's script tag. Default: `reply.cspNonce.script` (`@fastify/helmet`). */
  nonce?: (request: FastifyRequest, reply: FastifyReply) => string | undefined;
}>;

const ADAPTER_RULES = { consentFromRequest: optionChecks.function, nonce: optionChecks.function };

// Async, so that a refused option rejects `register()` (and `ready()`) instead of being thrown out of it.
const plugin: FastifyPluginAsync<ChatgptAdsOptions> = async (fastify, options) => {
  // Options not given in code come from CHATGPT_ADS_PIXEL_ID, CHATGPT_ADS_API_KEY and CHATGPT_ADS_ENDPOINT.
  const { conversions, given } = adapterClient(options, ADAPTER_RULES, process.env);
  const nonceOf = options?.nonce ?? defaultNonce;
  fastify.decorate('chatgptAds', { getter: () => conversions });
  fastify.decorateRequest('chatgptAds', null as unknown as RequestConversions);
  fastify.addHook('onRequest', (request, reply, next) => {
    // Forwarded headers count only when Fastify's `trustProxy` trusted the hop they came through:
    // request.ips goes past the socket's address only then (and only when X-Forwarded-For is set).
    // Both are asked only if the request is read: a page view with no click id never is.
    const incoming = fromNodeRequest(request.raw, {
      trustProxy: () => (request.ips?.length ?? 0) > 1,
      ip: () => request.ip,
    });
    const ads = conversions.forRequest(incoming, {
      nonce: () => nonceOf(request, reply),
      ...withConsent(options?.consentFromRequest?.(request)),
    });
    // reply.header appends Set-Cookie to the values already set (by the app or @fastify/cookie).
    for (const cookie of ads.setCookies) reply.header('set-cookie', cookie);
    request.chatgptAds = ads;
    next();
  });
  // A client the plugin made is its to stop; a client you passed is flushed and stays yours.
  fastify.addHook('onClose', async () => {
    await (given ? conversions.flush() : conversions.shutdown());
  });
};

/**
 * Fastify 5 plugin. On every request it reads consent, captures `oppref` into the `__oppref`
 * cookie (or clears attribution cookies under a denial), and sets `request.chatgptAds`. Queued
 * conversions are delivered when the app closes (`app.close()`).
 *
 * @example
 * import Fastify from 'fastify';
 * import { chatgptAds } from '@chatgpt-ads/fastify';
 *
 * const app = Fastify();
 * await app.register(chatgptAds, { consent: { mode: 'opt-in' } });
 * app.post('/checkout', async (request, reply) => {
 *   await request.chatgptAds.track({ type: 'order_created', data: { amount: 12999, currency: 'USD' } });
 *   return reply.type('text/html').send(`<head>${request.chatgptAds.pixel({ type: 'order_created' })}</head>`);
 * });
 */
export const chatgptAds = fp(plugin, { name: '@chatgpt-ads/fastify', fastify: '5.x' });

export default chatgptAds;

function withConsent(state: ConsentState | undefined): { consent?: ConsentState } {
  return state ? { consent: state } : {};
}

function defaultNonce(_request: FastifyRequest, reply: FastifyReply): string | undefined {
  const nonce = (reply as { cspNonce?: { script?: unknown } }).cspNonce?.script;
  return typeof nonce === 'string' ? nonce : undefined;
}
