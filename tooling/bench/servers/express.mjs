// One product route, with or without the integration: node express.mjs <baseline|integrated> <endpoint>
import { chatgptAds } from '@chatgpt-ads/express';
import express from 'express';

const [mode, endpoint] = process.argv.slice(2);
const app = express();
if (mode === 'integrated')
  app.use(
    chatgptAds({ pixelId: 'px_bench', apiKey: 'sk_bench', endpoint, logger: { warn() {}, error() {} } }),
  );
app.get('/product', async (req, res) => {
  if (mode === 'integrated')
    await req.chatgptAds.track({ type: 'contents_viewed', data: { contents: [{ id: 'sku_1' }] } });
  res.json({ id: 'sku_1', name: 'Hand grinder', price: 8900 });
});
const server = app.listen(0, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.once('SIGTERM', () => server.close(() => process.exit(0)));
