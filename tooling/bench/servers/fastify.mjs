// Fastify 5: node fastify.mjs <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>
import { chatgptAds } from '@chatgpt-ads/fastify';
import Fastify from 'fastify';
import { empty, HAND_COOKIE, integrated, lands, listening, nextOrder, options, product } from './shared.mjs';

const app = Fastify();
if (integrated) await app.register(chatgptAds, options);
if (empty)
  app.addHook('onRequest', (request, reply, done) => {
    if (lands(request.url)) reply.header('set-cookie', HAND_COOKIE);
    done();
  });
app.get('/product', async () => product);
app.post('/orders', async (request) => {
  const order = nextOrder();
  if (integrated) await request.chatgptAds.track(order.event);
  return { id: order.id };
});
await app.listen({ port: 0, host: '127.0.0.1' });
listening(app.server.address().port);
process.once('SIGTERM', () => app.close().then(() => process.exit(0)));
