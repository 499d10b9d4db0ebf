// Runs the app: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, HOST (public host name), PORT, DB_PATH.
import { createShopifyApp } from './app.js';

const { app } = createShopifyApp({
  apiKey: process.env.SHOPIFY_API_KEY ?? '',
  apiSecret: process.env.SHOPIFY_API_SECRET ?? '',
  hostName: process.env.HOST ?? 'localhost',
  dbPath: process.env.DB_PATH ?? './chatgpt-ads-app.db',
  ...(process.env.CHATGPT_ADS_ENDPOINT ? { conversionsEndpoint: process.env.CHATGPT_ADS_ENDPOINT } : {}),
});
const port = Number(process.env.PORT ?? 3100);
app.listen(port, () => console.log(`ChatGPT Ads Shopify app on port ${port}`));
