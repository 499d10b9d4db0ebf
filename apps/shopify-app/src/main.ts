// Runs the app: SHOPIFY_API_KEY, SHOPIFY_API_SECRET, HOST (public host name), PORT, DB_PATH or DATABASE_URL,
// CHATGPT_ADS_ENCRYPTION_KEYS (see the README: encryption keys and rotation), CHATGPT_ADS_ENDPOINT.
import { createShopifyApp } from './app.js';
import { AppConfigError } from './keys.js';
import { openPostgresBackend } from './postgres.js';

const env = process.env;
if (!env.SHOPIFY_API_KEY || !env.SHOPIFY_API_SECRET) {
  console.error(
    'chatgpt-ads: SHOPIFY_API_KEY and SHOPIFY_API_SECRET (the app’s client id and secret) are required',
  );
  process.exit(1);
}
// `shopify app dev` passes the tunnel's URL as SHOPIFY_APP_URL (and HOST); a deployment sets HOST
// to the public host name, with or without https://.
const publicUrl = env.SHOPIFY_APP_URL || env.HOST || 'localhost';
const appUrl = new URL(publicUrl.includes('://') ? publicUrl : `https://${publicUrl}`);
let created: Awaited<ReturnType<typeof createShopifyApp>>;
try {
  created = await createShopifyApp({
    apiKey: env.SHOPIFY_API_KEY ?? '',
    apiSecret: env.SHOPIFY_API_SECRET ?? '',
    hostName: appUrl.host,
    hostScheme: appUrl.protocol === 'http:' ? 'http' : 'https',
    // DATABASE_URL: every instance shares one PostgreSQL database; otherwise one SQLite file.
    ...(env.DATABASE_URL
      ? { storage: openPostgresBackend(env.DATABASE_URL) }
      : { dbPath: env.DB_PATH ?? './chatgpt-ads-app.db' }),
    encryptionKeys: env.CHATGPT_ADS_ENCRYPTION_KEYS,
    ...(env.CHATGPT_ADS_ENDPOINT ? { conversionsEndpoint: env.CHATGPT_ADS_ENDPOINT } : {}),
  });
} catch (error) {
  if (!(error instanceof AppConfigError)) throw error;
  console.error(`chatgpt-ads: ${error.message}`);
  process.exit(1);
}
const port = Number(env.PORT ?? 3100);
const server = created.app.listen(port, () => {
  const address = server.address();
  console.log(
    `ChatGPT Ads Shopify app on port ${typeof address === 'object' && address ? address.port : port}`,
  );
});
// A deploy or `shopify app dev` stopping: finish the sends in flight, then exit.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    void created.close().finally(() => process.exit(0));
  });
}
