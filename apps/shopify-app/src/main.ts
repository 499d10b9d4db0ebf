// Runs the app: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, HOST (public host name), PORT, DB_PATH,
// CHATGPT_ADS_ENCRYPTION_KEYS (see the README: encryption keys and rotation).
import { createShopifyApp } from './app.js';
import { AppConfigError } from './keys.js';

let created: ReturnType<typeof createShopifyApp>;
try {
  created = createShopifyApp({
    apiKey: process.env.SHOPIFY_API_KEY ?? '',
    apiSecret: process.env.SHOPIFY_API_SECRET ?? '',
    hostName: process.env.HOST ?? 'localhost',
    dbPath: process.env.DB_PATH ?? './chatgpt-ads-app.db',
    encryptionKeys: process.env.CHATGPT_ADS_ENCRYPTION_KEYS,
    ...(process.env.CHATGPT_ADS_ENDPOINT ? { conversionsEndpoint: process.env.CHATGPT_ADS_ENDPOINT } : {}),
  });
} catch (error) {
  if (!(error instanceof AppConfigError)) throw error;
  console.error(`chatgpt-ads: ${error.message}`);
  process.exit(1);
}
const port = Number(process.env.PORT ?? 3100);
created.app.listen(port, () => console.log(`ChatGPT Ads Shopify app on port ${port}`));
