// Next's request pipeline in miniature, for the conformance suite: the proxy runs on every request
// and its cookies join the route handler's response, as `next start` does. Requests and responses are
// real Web `Request`/`Response` objects; the handlers are the package's own.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConformanceHarness, ConformanceSuite } from '@tooling/conformance';
import { expect, it, vi } from 'vitest';
import { createNextConversions } from '../src/index.js';
import { createOpprefProxy } from '../src/proxy.js';

// This server hands the proxy the request URL as received, which is what withChatgptAds() makes
// `next start` do; the marker tells the proxy so.
process.env.CHATGPT_ADS_RAW_PROXY_URL = 'raw';

export function nextHarness(name: string): ConformanceHarness {
  return {
    name,
    async start(options) {
      const ads = createNextConversions(options);
      const proxy = createOpprefProxy({ ...(options.consent ? { consent: options.consent } : {}) });
      const views: unknown[] = [];
      const routes: Record<string, (request: Request) => Promise<Response> | Response> = {
        'GET /landing': () => new Response('landing'),
        'GET /redirect': (request) => Response.redirect(new URL('/landing', request.url), 302),
        'POST /lead': ads.withConversions(async (_request, { ads: visit }) => {
          const result = await visit.track({ type: 'lead_created' });
          views.push(visit);
          return Response.json({
            status: result.status,
            id: result.status === 'queued' ? result.id : undefined,
            eventId: visit.eventId,
            pixel: visit.pixel({ type: 'lead_created' }),
          });
        }),
      };
      const server = createServer(async (req, res) => {
        const url = `http://${req.headers.host}${req.url}`;
        const headers = new Headers();
        for (const [key, value] of Object.entries(req.headers))
          if (typeof value === 'string') headers.set(key, value);
        headers.set('x-forwarded-for', req.socket.remoteAddress ?? '');
        const request = new Request(url, { method: req.method, headers });
        const fromProxy = proxy(request).headers.getSetCookie();
        const route = routes[`${req.method} ${new URL(url).pathname}`];
        const response = route ? await route(request) : new Response('not found', { status: 404 });
        const cookies = [...fromProxy, ...response.headers.getSetCookie()];
        res.statusCode = response.status;
        response.headers.forEach((value, key) => {
          if (key !== 'set-cookie') res.setHeader(key, value);
        });
        if (cookies.length > 0) res.setHeader('set-cookie', [...new Set(cookies)]);
        res.end(Buffer.from(await response.arrayBuffer()));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          await ads.conversions.shutdown();
        },
        exposed: () => [ads, ads.conversions, proxy, ...views],
      };
    },
  };
}

const GRANTED = { cookie: '__oaiq_consent=true' };

// Next's own cases: the pixel is the client's (its options reach it), and a route handler outside
// `next start` (no after()) sends right after answering instead of waiting for shutdown.
export function nextExtraTests(suite: ConformanceSuite): void {
  it("a route handler's pixel is the client's own snippet: pixel.debug reaches it", async () => {
    await suite.start('opt-in', undefined, { pixel: { debug: true } });
    const answer = await suite.request('/lead', { method: 'POST', headers: GRANTED });
    expect(JSON.parse(answer.text).pixel).toContain('"debug":true');
  });

  it('without after() (outside next start) the conversion is sent once the response is out, before any shutdown', async () => {
    await suite.start();
    const answer = await suite.request('/lead', { method: 'POST', headers: GRANTED });
    expect(JSON.parse(answer.text).status).toBe('queued');
    await vi.waitFor(() => expect(suite.sandbox().events()).toHaveLength(1), {
      timeout: 30_000,
      interval: 20,
    });
  });
}
