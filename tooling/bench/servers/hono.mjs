// Hono on @hono/node-server: node hono.mjs <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>
import { chatgptAds } from '@chatgpt-ads/hono';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { empty, HAND_COOKIE, integrated, lands, listening, nextOrder, options, product } from './shared.mjs';

const app = new Hono();
const ads = integrated ? chatgptAds(options) : undefined;
if (ads) app.use(ads);
if (empty)
  app.use(async (c, next) => {
    if (lands(c.req.url)) c.header('set-cookie', HAND_COOKIE, { append: true });
    await next();
  });
app.get('/product', (c) => c.json(product));
app.post('/orders', async (c) => {
  const order = nextOrder();
  if (ads) await c.var.chatgptAds.track(order.event);
  return c.json({ id: order.id });
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => listening(info.port));
process.once('SIGTERM', () =>
  server.close(() => (ads ? ads.conversions.shutdown() : Promise.resolve()).then(() => process.exit(0))),
);
