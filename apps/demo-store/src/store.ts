// The demo storefront: an ordinary Express app with @chatgpt-ads/express added in two lines.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ContentInput, TrackResult } from '@chatgpt-ads/core';
import { type ChatgptAdsMiddleware, chatgptAds } from '@chatgpt-ads/express';
import express, { type Request, type Response } from 'express';
import { localPath, sameOrigin } from './consent-guard.js';
import {
  bookBody,
  CURRENCY,
  cartBody,
  layout,
  leadBody,
  PRODUCTS,
  type Product,
  type Reported,
  shopBody,
  thanksBody,
} from './views.js';

export interface StoreOptions {
  /** The Conversions API endpoint: the sandbox's in the demo. */
  endpoint: string;
  /** Where pages load the pixel from: the sandbox's stand-in pixel in the demo. */
  pixelScriptUrl: string;
  pixelId?: string;
  apiKey?: string;
  flushIntervalMs?: number;
}

const CONSENT_COOKIE = 'demo_consent';
const CART_COOKIE = 'demo_cart';
const PIXEL_COOKIE = 'demo_pixel';

export function createStore(options: StoreOptions): { app: express.Express; ads: ChatgptAdsMiddleware } {
  const app = express();
  const sandboxOrigin = new URL(options.pixelScriptUrl).origin;

  // A per-response CSP nonce: the pixel snippet carries it, proving the integration works under a strict CSP.
  app.use((_req, res, next) => {
    const nonce = randomBytes(16).toString('base64');
    res.locals.cspNonce = nonce;
    res.setHeader(
      'content-security-policy',
      `default-src 'self'; script-src 'nonce-${nonce}' ${sandboxOrigin}; connect-src 'self' ${sandboxOrigin}; ` +
        `img-src 'self' data: ${sandboxOrigin}; style-src 'self' 'unsafe-inline'; form-action 'self'`,
    );
    next();
  });

  const ads = chatgptAds({
    pixelId: options.pixelId ?? 'px_demo_store',
    apiKey: options.apiKey ?? 'sk_demo_store',
    endpoint: options.endpoint,
    pixel: { scriptUrl: options.pixelScriptUrl },
    batch: { flushIntervalMs: options.flushIntervalMs ?? 1000 },
    // The store's own banner decides; without an answer nothing is stored or sent (opt-in).
    consentFromRequest: (req) => {
      const choice = readCookie(req, CONSENT_COOKIE);
      return choice === 'granted' || choice === 'denied' ? choice : undefined;
    },
  });
  app.use(ads);
  app.use(express.urlencoded({ extended: false }));

  type PixelEvent = Parameters<Request['chatgptAds']['pixel']>[0];
  // The "block the pixel" switch plays an ad blocker: the page then carries no pixel at all.
  const pixelBlocked = (req: Request) => readCookie(req, PIXEL_COOKIE) === 'blocked';
  const render = (
    req: Request,
    res: Response,
    title: string,
    body: string,
    event?: PixelEvent,
    cartCount?: number,
  ) => {
    const blocked = pixelBlocked(req);
    res.type('html').send(
      layout({
        title,
        body,
        pixel: blocked ? '' : req.chatgptAds.pixel(event),
        pixelBlocked: blocked,
        nonce: res.locals.cspNonce,
        consent: req.chatgptAds.consent.state,
        cartCount: cartCount ?? cartLines(req).reduce((n, l) => n + l.quantity, 0),
      }),
    );
  };
  // What the thanks page may truthfully say about who reported the conversion.
  const reported = (req: Request, result: TrackResult): Reported => {
    if (result.status === 'skipped')
      return { sent: false, why: req.chatgptAds.consent.state === 'denied' ? 'rejected' : 'unanswered' };
    if (result.status === 'refused')
      return { sent: false, why: 'refused', detail: result.issues.map((i) => i.message).join('; ') };
    return { sent: true, pixel: !pixelBlocked(req) };
  };

  app.get('/', (req, res) => render(req, res, 'Shop', shopBody()));
  app.post('/consent', (req, res) => {
    // Another site must not be able to grant consent on the visitor's behalf.
    if (
      !sameOrigin({
        origin: req.get('origin'),
        host: req.get('host'),
        secFetchSite: req.get('sec-fetch-site'),
      })
    )
      return res.status(403).type('text').send('The consent form must be sent from this site.');
    const choice = req.body?.choice === 'accept' ? 'granted' : 'denied';
    res.cookie(CONSENT_COOKIE, choice, { path: '/', maxAge: 365 * 86_400_000, sameSite: 'lax' });
    if (choice === 'denied') {
      // Forget any click id the moment the visitor says no.
      for (const name of ['__oppref', '__obref']) res.clearCookie(name, { path: '/' });
    }
    res.redirect(303, localPath(req.body?.back));
  });

  app.post('/pixel', (req, res) => {
    if (
      !sameOrigin({
        origin: req.get('origin'),
        host: req.get('host'),
        secFetchSite: req.get('sec-fetch-site'),
      })
    )
      return res.status(403).type('text').send('The pixel switch must be used from this site.');
    const blocked = req.body?.pixel === 'blocked';
    res.cookie(PIXEL_COOKIE, blocked ? 'blocked' : 'allowed', {
      path: '/',
      maxAge: 365 * 86_400_000,
      sameSite: 'lax',
    });
    res.redirect(303, localPath(req.body?.back));
  });

  app.get('/lead', (req, res) => render(req, res, 'Wholesale', leadBody()));
  app.post('/lead', async (req, res) => {
    const id = `lead_${randomUUID().slice(0, 8)}`;
    const { name = '', email, phone } = req.body;
    const [firstName, ...rest] = String(name).trim().split(/\s+/);
    const result = await req.chatgptAds.track({
      type: 'lead_created',
      id,
      user: { email, phone, firstName, lastName: rest.join(' ') },
    });
    render(
      req,
      res,
      'Thanks',
      thanksBody(
        'Thanks, we will be in touch',
        'A roaster will call you within a day.',
        id,
        reported(req, result),
      ),
      {
        type: 'lead_created',
        id,
      },
    );
  });

  app.get('/book', (req, res) => render(req, res, 'Tasting', bookBody()));
  app.post('/book', async (req, res) => {
    const id = `booking_${randomUUID().slice(0, 8)}`;
    const result = await req.chatgptAds.track({
      type: 'appointment_scheduled',
      id,
      user: { email: req.body.email },
    });
    render(
      req,
      res,
      'Booked',
      thanksBody(
        'Your tasting is booked',
        `See you on ${req.body.day ?? 'Saturday'}.`,
        id,
        reported(req, result),
      ),
      {
        type: 'appointment_scheduled',
        id,
      },
    );
  });

  app.get('/cart', (req, res) => render(req, res, 'Cart', cartBody(cartLines(req))));
  // The thanks page's forms (pixel switch, consent) come back to its URL: the cart is that page's GET.
  app.get('/checkout', (_req, res) => res.redirect(303, '/cart'));
  app.post('/cart/add', (req, res) => {
    const cart = readCart(req);
    if (PRODUCTS.some((p) => p.sku === req.body.sku)) cart[req.body.sku] = (cart[req.body.sku] ?? 0) + 1;
    res.cookie(CART_COOKIE, JSON.stringify(cart), { path: '/', sameSite: 'lax' });
    res.redirect(303, '/cart');
  });
  app.post('/checkout', async (req, res) => {
    const lines = cartLines(req);
    if (lines.length === 0) return res.redirect(303, '/cart');
    const id = `order_${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
    const contents: ContentInput[] = lines.map((l) => ({
      id: l.product.sku,
      name: l.product.name,
      contentType: 'product',
      quantity: l.quantity,
      amount: l.product.price,
    }));
    const data = {
      amount: lines.reduce((sum, l) => sum + l.product.price * l.quantity, 0),
      currency: CURRENCY,
      contents,
    };
    const result = await req.chatgptAds.track({
      type: 'order_created',
      id,
      data,
      user: {
        email: req.body.email,
        firstName: req.body.firstName,
        lastName: req.body.lastName,
        country: req.body.country,
      },
    });
    res.clearCookie(CART_COOKIE, { path: '/' });
    const thanks = thanksBody('Order placed', 'Your coffee ships tomorrow.', id, reported(req, result));
    render(req, res, 'Order placed', thanks, { type: 'order_created', id, data }, 0);
  });

  return { app, ads };
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key !== name) continue;
    try {
      return decodeURIComponent(value.join('='));
    } catch {
      return undefined; // a malformed value is no answer, not a server error
    }
  }
  return undefined;
}

function readCart(req: Request): Record<string, number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readCookie(req, CART_COOKIE) ?? '{}');
  } catch {
    return {};
  }
  // The cookie is the visitor's to edit: keep known products with whole, positive quantities only.
  const cart: Record<string, number> = {};
  if (!parsed || typeof parsed !== 'object') return cart;
  for (const product of PRODUCTS) {
    const quantity = (parsed as Record<string, unknown>)[product.sku];
    if (Number.isSafeInteger(quantity) && (quantity as number) > 0 && (quantity as number) <= 99)
      cart[product.sku] = quantity as number;
  }
  return cart;
}

function cartLines(req: Request): Array<{ product: Product; quantity: number }> {
  const cart = readCart(req);
  return PRODUCTS.filter((p) => (cart[p.sku] ?? 0) > 0).map((product) => ({
    product,
    quantity: cart[product.sku]!,
  }));
}
