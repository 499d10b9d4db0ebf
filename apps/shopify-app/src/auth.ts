// Who is asking: every request from the app's pages carries a Shopify session token (a JWT App
// Bridge gets from the admin, signed with the app secret, valid for a minute). The offline access
// token the app uses for the Admin API comes from exchanging such a token (Shopify-managed
// installation: no OAuth redirect, no cookie).
import { RequestedTokenType, type Session, type shopifyApi } from '@shopify/shopify-api';

type Shopify = ReturnType<typeof shopifyApi>;

/**
 * A session token that did not pass. `reason` is for the log; the browser gets a fixed message.
 *
 * @example
 * if (error instanceof SessionTokenError) logger.warn(error.reason);
 */
export class SessionTokenError extends Error {
  override name = 'SessionTokenError';
  constructor(readonly reason: string) {
    super('the Shopify session token is missing, expired or not for this app and shop');
  }
}

/**
 * Checks a session token through `@shopify/shopify-api` (HS256 signature with the app secret,
 * `exp` and `nbf`, `aud` = the app's client id), then that it names a shop: `dest` must be a
 * `*.myshopify.com` origin, `iss` its admin, and, when the request also names a shop, the same one.
 * Resolves with the shop; throws {@link SessionTokenError}.
 *
 * @example
 * const { shop } = await verifySessionToken(shopify, bearerToken);
 */
export async function verifySessionToken(
  shopify: Shopify,
  token: string | undefined,
  expectedShop?: string,
): Promise<{ shop: string; token: string }> {
  if (!token) throw new SessionTokenError('no session token');
  let payload: Awaited<ReturnType<Shopify['session']['decodeSessionToken']>>;
  try {
    payload = await shopify.session.decodeSessionToken(token);
  } catch (error) {
    // shopify-api's message quotes the whole token: name the cause only.
    const cause = /: ([^:]*)$/.exec((error as Error)?.message ?? '')?.[1] ?? 'invalid';
    throw new SessionTokenError(`session token refused: ${cause}`);
  }
  let destHost: string | undefined;
  try {
    const dest = new URL(String(payload.dest));
    if (dest.protocol === 'https:' && dest.pathname === '/' && !dest.search) destHost = dest.hostname;
  } catch {
    destHost = undefined;
  }
  const shop = destHost ? (shopify.utils.sanitizeShop(destHost) ?? undefined) : undefined;
  if (!shop || shop !== destHost) throw new SessionTokenError('session token names no valid shop (dest)');
  if (payload.iss !== `https://${shop}/admin`) {
    throw new SessionTokenError(`session token for ${shop} was not issued by its admin (iss)`);
  }
  if (expectedShop !== undefined && expectedShop !== shop) {
    throw new SessionTokenError(`session token is for ${shop}, the request names ${expectedShop}`);
  }
  return { shop, token };
}

/**
 * Exchanges a verified session token for the shop's offline access token.
 *
 * @example
 * const session = await exchangeForOfflineToken(shopify, shop, sessionToken);
 */
export async function exchangeForOfflineToken(
  shopify: Shopify,
  shop: string,
  sessionToken: string,
): Promise<Session> {
  const { session } = await shopify.auth.tokenExchange({
    shop,
    sessionToken,
    requestedTokenType: RequestedTokenType.OfflineAccessToken,
  });
  return session;
}

/**
 * The shop's billing country from the GraphQL Admin API (ISO 3166-1 alpha-2), or undefined when
 * Shopify has none.
 *
 * @example
 * const country = await readShopCountry(shopify, session); // 'DE'
 */
export async function readShopCountry(shopify: Shopify, session: Session): Promise<string | undefined> {
  const client = new shopify.clients.Graphql({ session });
  const response = await client.request<{ shop?: { billingAddress?: { countryCodeV2?: string | null } } }>(
    'query ShopCountry { shop { billingAddress { countryCodeV2 } } }',
  );
  const country = response.data?.shop?.billingAddress?.countryCodeV2 ?? undefined;
  return country && /^[A-Z]{2}$/.test(country) ? country : undefined;
}
