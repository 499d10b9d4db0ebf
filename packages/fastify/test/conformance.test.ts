import { type ConformanceHarness, runConformance } from '@tooling/conformance';
import Fastify from 'fastify';
import { chatgptAds } from '../src/index.js';

const harness: ConformanceHarness = {
  name: 'Fastify 5',
  async start(options) {
    const app = Fastify();
    const views: unknown[] = [];
    try {
      await app.register(chatgptAds, options);
    } catch (error) {
      await app.close();
      throw error;
    }
    app.get('/landing', async () => 'landing');
    app.get('/redirect', (_request, reply) => reply.redirect('/landing', 302));
    app.post('/lead', async (request) => {
      const result = await request.chatgptAds.track({ type: 'lead_created' });
      views.push(request.chatgptAds, request);
      return {
        status: result.status,
        id: result.status === 'queued' ? result.id : undefined,
        eventId: request.chatgptAds.eventId,
        pixel: request.chatgptAds.pixel({ type: 'lead_created' }),
      };
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url,
      // app.close() runs the plugin's onClose hook, which delivers what is queued.
      close: () => app.close(),
      exposed: () => [app, app.chatgptAds, ...views],
    };
  },
};

runConformance(harness);
