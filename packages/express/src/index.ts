import type { Server } from 'node:http';
import {
  type AdapterOptions,
  adapterClient,
  type ConsentState,
  type Conversions,
  optionChecks,
  type RequestConversions,
} from '@chatgpt-ads/core';
import { appendSetCookies, fromNodeRequest } from '@chatgpt-ads/core/node';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** ChatGPT Ads for this request: context, consent, event id, `track` and `pixel`. */
      chatgptAds: RequestConversions;
    }
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
 *   pixelId: process.env.CHATGPT_ADS_PIXEL_ID!, apiKey: process.env.CHATGPT_ADS_API_KEY!,
 *   consentFromRequest: (req) => (req.session?.adsConsent ? 'granted' : undefined),
 * };
 */
export type ChatgptAdsOptions = AdapterOptions<{
  /** The app's own consent answer for this request; asked before cookies and headers. */
  consentFromRequest?: (req: Request) => ConsentState | undefined;
  /** The CSP nonce for the pixel's script tag. Default: `res.locals.cspNonce ?? res.locals.nonce`. */
  nonce?: (req: Request, res: Response) => string | undefined;
}>;

/**
 * The middleware, with the client it uses.
 *
 * @example
 * const ads = chatgptAds(options);
 * app.use(ads);
 * await ads.conversions.flush();
 */
export interface ChatgptAdsMiddleware extends RequestHandler {
  readonly conversions: Conversions;
}

/**
 * Express 4/5 middleware. On every request it reads consent, captures `oppref` into the
 * `__oppref` cookie (or clears attribution cookies under a denial), and sets `req.chatgptAds`.
 *
 * @example
 * import express from 'express';
 * import { chatgptAds } from '@chatgpt-ads/express';
 *
 * const app = express();
 * app.use(chatgptAds({ pixelId: process.env.CHATGPT_ADS_PIXEL_ID!, apiKey: process.env.CHATGPT_ADS_API_KEY! }));
 * app.post('/checkout', async (req, res) => {
 *   await req.chatgptAds.track({ type: 'order_created', data: { amount: 12999, currency: 'USD' } });
 *   res.send(`<html><head>${req.chatgptAds.pixel({ type: 'order_created' })}</head>…</html>`);
 * });
 */
export function chatgptAds(options: ChatgptAdsOptions = {}): ChatgptAdsMiddleware {
  const conversions = clientOf(options);
  const nonceOf = options?.nonce ?? defaultNonce;
  const middleware = (req: Request, res: Response, next: NextFunction) => {
    const ads = conversions.forRequest(fromNodeRequest(req, { trustProxy: trustsProxy(req) }), {
      nonce: () => nonceOf(req, res),
      ...withConsent(options?.consentFromRequest?.(req)),
    });
    // Straight to Node's header list: Express's res.append copies arrays through res.set on every call.
    appendSetCookies(res, ads.setCookies);
    req.chatgptAds = ads;
    next();
  };
  return Object.assign(middleware, { conversions });
}

/**
 * Flushes queued conversions when the server closes or the process is asked to stop. Other
 * SIGTERM/SIGINT handlers still run; when there are none, the process then stops as it would have.
 * Returns a function that removes the listeners.
 *
 * @example
 * const server = app.listen(3000);
 * flushOnShutdown(server, ads);
 */
export function flushOnShutdown(
  server: Server,
  target: ChatgptAdsMiddleware | Conversions,
  options: { signals?: NodeJS.Signals[]; timeoutMs?: number } = {},
): () => void {
  const conversions = 'track' in target ? target : target.conversions;
  const shutdown = () => conversions.shutdown({ timeoutMs: options.timeoutMs ?? 10_000 });
  const onClose = () => void shutdown();
  server.on('close', onClose);
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const onSignal = (signal: NodeJS.Signals) => {
    server.close();
    void shutdown().finally(() => {
      // With no other listener, do what the signal would have done without us.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  for (const signal of signals) process.once(signal, onSignal);
  return () => {
    server.off('close', onClose);
    for (const signal of signals) process.off(signal, onSignal);
  };
}

const ADAPTER_RULES = { consentFromRequest: optionChecks.function, nonce: optionChecks.function };

// The adapter's own options are checked with the client's (a typo anywhere throws at startup); what
// is not given in code comes from CHATGPT_ADS_PIXEL_ID, CHATGPT_ADS_API_KEY, CHATGPT_ADS_ENDPOINT and
// CHATGPT_ADS_DEBUG, and nothing falls back to a default key or endpoint.
function clientOf(options: ChatgptAdsOptions): Conversions {
  return adapterClient(options, ADAPTER_RULES, process.env).conversions;
}

function withConsent(state: ConsentState | undefined): { consent?: ConsentState } {
  return state ? { consent: state } : {};
}

function defaultNonce(_req: Request, res: Response): string | undefined {
  const nonce = res.locals.cspNonce ?? res.locals.nonce;
  return typeof nonce === 'string' ? nonce : undefined;
}

// Express's own `trust proxy` setting decides whether the connection's forwarded headers count
// (req.protocol and req.ip already follow it; the forwarded host is read under the same rule).
function trustsProxy(req: Request): boolean {
  // Forwarded headers are all trust decides about: without them, no need to ask Express.
  const { headers } = req;
  if (!headers['x-forwarded-host'] && !headers['x-forwarded-proto'] && !headers['x-forwarded-for'])
    return false;
  const trust = req.app.get('trust proxy fn') as
    | ((address: string | undefined, hop: number) => boolean)
    | undefined;
  return trust?.(req.socket.remoteAddress, 0) === true;
}
