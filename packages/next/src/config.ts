// next.config helper. Next rewrites the query string before the proxy (middleware) sees it:
// `?oppref=gAAAAB…Zw==` arrives as `…Zw%3D%3D`, `~` as `%7E`, and OpenAI's click ids end in `=`
// padding. Next 16's `skipProxyUrlNormalize` hands the proxy the URL as it was requested. Next 15
// re-encodes the query in its middleware adapter whatever the config says, so there the proxy
// undoes that encoding for the click id (see restoreFormEncoded in proxy.ts).
import { createRequire } from 'node:module';
import { join } from 'node:path';

/**
 * The marker {@link withChatgptAds} sets in `env`, read by `createOpprefProxy`: `raw` when the proxy
 * sees the URL as requested (Next 16), `form-encoded` when Next re-encodes its query (Next 15).
 *
 * @example
 * process.env[RAW_URL_MARKER]; // 'raw' inside a Next 16 app configured with withChatgptAds()
 */
export const RAW_URL_MARKER = 'CHATGPT_ADS_RAW_PROXY_URL';

/**
 * Wraps your Next.js config so the oppref proxy sees the landing URL byte for byte. Keeps every
 * setting you have; sets `skipProxyUrlNormalize` (Next 16) or `skipMiddlewareUrlNormalize`
 * (Next 15), which only stops Next from re-encoding the query string it hands the proxy.
 *
 * @example
 * // next.config.mjs
 * import { withChatgptAds } from '@chatgpt-ads/next/config';
 * export default withChatgptAds({ reactStrictMode: true });
 */
export function withChatgptAds<T extends Record<string, unknown>>(
  config: T = {} as T,
  options: { nextVersion?: string } = {},
): T & { env: Record<string, string> } {
  const major = Number((options.nextVersion ?? installedNextVersion()).split('.')[0]);
  const switchName = major >= 16 ? 'skipProxyUrlNormalize' : 'skipMiddlewareUrlNormalize';
  const otherName = major >= 16 ? 'skipMiddlewareUrlNormalize' : 'skipProxyUrlNormalize';
  if (config[switchName] === false || config[otherName] === false) {
    throw new TypeError(
      `withChatgptAds: ${config[switchName] === false ? switchName : otherName} is false in your config; ` +
        'the oppref proxy needs the raw URL (remove that line)',
    );
  }
  const { [otherName]: _ignored, ...rest } = config;
  return {
    ...(rest as T),
    [switchName]: true,
    env: {
      ...((config.env as Record<string, string> | undefined) ?? {}),
      [RAW_URL_MARKER]: major >= 16 ? 'raw' : 'form-encoded',
    },
  };
}

function installedNextVersion(): string {
  try {
    const require = createRequire(join(process.cwd(), 'package.json'));
    return (require('next/package.json') as { version: string }).version;
  } catch {
    return '16.0.0';
  }
}
