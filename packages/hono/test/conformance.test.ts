import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type ConformanceHarness, runConformance } from '@tooling/conformance';
import { Hono } from 'hono';
import { chatgptAds } from '../src/index.js';

const harness: ConformanceHarness = {
  name: 'Hono on @hono/node-server',
  async start(options) {
    const app = new Hono();
    const ads = chatgptAds(options);
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
    const server = await new Promise<Server>((resolve) => {
      const listening = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(listening as Server),
      );
    });
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      // The README's shutdown: close the server, then shut the client down (delivering the queue).
      close: async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await ads.conversions.shutdown();
      },
      exposed: () => [ads, ads.conversions, app, ...views],
    };
  },
};

runConformance(harness);
