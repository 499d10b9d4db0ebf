import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ConformanceHarness, runConformance } from '@tooling/conformance';
import express5 from 'express';
import express4 from 'express4';
import { chatgptAds, flushOnShutdown } from '../src/index.js';

function harness(name: string, express: typeof express5): ConformanceHarness {
  return {
    name,
    async start(options) {
      const app = express();
      const ads = chatgptAds(options);
      const views: unknown[] = [];
      app.use(ads);
      app.get('/landing', (_req, res) => {
        res.send('landing');
      });
      app.get('/redirect', (_req, res) => res.redirect(302, '/landing'));
      app.post('/lead', async (req, res) => {
        const result = await req.chatgptAds.track({ type: 'lead_created' });
        views.push(req.chatgptAds, res.locals);
        res.json({
          status: result.status,
          id: result.status === 'queued' ? result.id : undefined,
          eventId: req.chatgptAds.eventId,
          pixel: req.chatgptAds.pixel({ type: 'lead_created' }),
        });
      });
      const server: Server = await new Promise((resolve) => {
        const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
      });
      const stopListening = flushOnShutdown(server, ads, { signals: [] });
      return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
          await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          });
          await ads.conversions.shutdown();
          stopListening();
        },
        exposed: () => [ads, ads.conversions, app, ...views],
      };
    },
  };
}

runConformance(harness('Express 5', express5));
runConformance(harness('Express 4', express4 as unknown as typeof express5));
