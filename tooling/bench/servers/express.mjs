// Express 5: node express.mjs <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>
import { chatgptAds } from '@chatgpt-ads/express';
import express from 'express';
import { empty, HAND_COOKIE, integrated, lands, listening, nextOrder, options, product } from './shared.mjs';

const app = express();
if (integrated) app.use(chatgptAds(options));
if (empty)
  app.use((req, res, next) => {
    if (lands(req.url)) res.setHeader('set-cookie', HAND_COOKIE);
    next();
  });
app.get('/product', (_req, res) => {
  res.json(product);
});
app.post('/orders', async (req, res) => {
  const order = nextOrder();
  if (integrated) await req.chatgptAds.track(order.event);
  res.json({ id: order.id });
});
const server = app.listen(0, '127.0.0.1', () => listening(server.address().port));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
