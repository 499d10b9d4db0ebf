// The conformance app as an edge deployment ships it: this file, `@chatgpt-ads/hono` and
// `@chatgpt-ads/core` bundled into one script (see ./runtime.ts) and evaluated inside an Edge
// runtime VM. Web APIs only: no `process`, no `require`, no Node built-ins.
import type { ConversionsOptions } from '@chatgpt-ads/core';
import { type ExecutionContext, Hono } from 'hono';
import { chatgptAds } from '../../src/index.js';

/** What the host reads back from the VM after evaluating this script. */
export interface EdgeAppHandle {
  /** The client's shutdown, run inside the VM: delivers what is still queued. */
  shutdown(): Promise<unknown>;
  /** Every object the adapter made or attached, for the key-leak check. */
  exposed(): unknown[];
}

interface FetchEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
  waitUntil(promise: Promise<unknown>): void;
}

const scope = globalThis as typeof globalThis & {
  __conformanceOptions?: ConversionsOptions;
  __conformanceApp?: EdgeAppHandle;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
};

// The suite's options (consent resolvers, logger, the sandbox endpoint) are put on the VM's global
// by the host before this script runs; they are read once and removed.
const options = scope.__conformanceOptions;
delete scope.__conformanceOptions;

const app = new Hono();
// As on Cloudflare, the visitor's IP is the platform's header; the host's server sets it from the socket.
const ads = chatgptAds({ ...options, clientIp: (c) => c.req.header('cf-connecting-ip') });
const views: unknown[] = [];
app.use(ads);
app.get('/landing', (c) => c.text('landing'));
app.get('/redirect', (c) => c.redirect('/landing', 302));
app.post('/lead', async (c) => {
  const view = c.get('chatgptAds');
  const result = await view.track({ type: 'lead_created' });
  views.push(view, c);
  return c.json({
    status: result.status,
    id: result.status === 'queued' ? result.id : undefined,
    eventId: view.eventId,
    pixel: view.pixel({ type: 'lead_created' }),
  });
});

// The service-worker entry of an edge function. The FetchEvent is Hono's execution context (as in
// Hono's own service-worker adapter), so the middleware hands each response's send to the runtime's
// own FetchEvent.waitUntil: waitUntil is all it uses of the context.
scope.addEventListener('fetch', (event) =>
  event.respondWith(app.fetch(event.request, {}, event as unknown as ExecutionContext)),
);

scope.__conformanceApp = {
  shutdown: () => ads.conversions.shutdown(),
  exposed: () => [ads, ads.conversions, app, ...views],
};
