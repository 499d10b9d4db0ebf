import {
  type ConsentState,
  type ContentInput,
  type ConversionInput,
  ConversionsConfigError,
  checkKeys,
  currencyExponent,
  normalizePhone,
  oneOf,
  optionChecks,
  type RequestContext,
  readOpprefFromUrl,
  toMinorUnits,
  type UserInput,
} from '@chatgpt-ads/core';

/**
 * An amount in Shopify's payload: a decimal string and its ISO 4217 currency.
 *
 * @example
 * const money: ShopifyMoney = { amount: '129.99', currency_code: 'USD' };
 */
export interface ShopifyMoney {
  amount: string;
  currency_code: string;
}
/**
 * A billing or shipping address of the order (the fields read here).
 *
 * @example
 * const address: ShopifyAddress = { city: 'Louisville', province_code: 'KY', zip: '40202', country_code: 'US', phone: '(502) 459-2181' };
 */
export interface ShopifyAddress {
  first_name?: string | null;
  last_name?: string | null;
  city?: string | null;
  province?: string | null;
  province_code?: string | null;
  zip?: string | null;
  country_code?: string | null;
  phone?: string | null;
}
/**
 * One line of the order (the fields read here).
 *
 * @example
 * const item: ShopifyLineItem = { id: 1, product_id: 2, variant_id: 3, title: 'Beans', quantity: 1, price: '12.50' };
 */
export interface ShopifyLineItem {
  id: number;
  product_id?: number | null;
  variant_id?: number | null;
  title?: string;
  name?: string;
  quantity: number;
  price?: string;
  price_set?: { shop_money: ShopifyMoney; presentment_money: ShopifyMoney };
}
/**
 * A Shopify order as the `orders/create` webhook delivers it (the fields used here).
 *
 * @example
 * const order = JSON.parse(rawBody) as ShopifyOrder;
 */
export interface ShopifyOrder {
  id: number;
  created_at: string;
  currency: string;
  presentment_currency?: string;
  total_price?: string;
  total_price_set?: { shop_money: ShopifyMoney; presentment_money: ShopifyMoney };
  test?: boolean;
  source_name?: string | null;
  email?: string | null;
  phone?: string | null;
  landing_site?: string | null;
  note_attributes?: Array<{ name: string; value: string }>;
  client_details?: { browser_ip?: string | null; user_agent?: string | null } | null;
  customer?: {
    id?: number;
    email?: string | null;
    phone?: string | null;
    first_name?: string | null;
    last_name?: string | null;
  } | null;
  billing_address?: ShopifyAddress | null;
  shipping_address?: ShopifyAddress | null;
  line_items?: ShopifyLineItem[];
}

/**
 * How orders become conversions.
 *
 * @example
 * const options: OrderOptions = { shopDomain: 'northwind.myshopify.com', shopCountry: 'DE' };
 */
export interface OrderOptions {
  /** The shop's domain; `source_url` is its origin. */
  shopDomain: string;
  /** The shop's country (ISO 3166-1 alpha-2), for the consent policy. */
  shopCountry?: string;
  /** Report the shop's currency (default) or the currency the buyer paid in. */
  currency?: 'shop' | 'presentment';
  /**
   * Without an explicit consent attribute on the order: `skip-in-eea-uk-ch` (default) skips orders of
   * shops in the EEA, the UK and Switzerland and sends the others; `skip` never sends; `send` always sends.
   */
  withoutConsentSignal?: 'skip-in-eea-uk-ch' | 'skip' | 'send';
  /** Send test orders too. Default false. */
  includeTestOrders?: boolean;
  /** `source_name`s that count as online-store orders. Default `['web']` (POS, drafts and apps are skipped). */
  sources?: readonly string[];
  /** Cart/note attribute names the theme embed writes. */
  attributes?: { oppref?: string; consent?: string };
}

/**
 * The result of {@link orderToConversion}: what to track, or why not.
 *
 * @example
 * const mapped = orderToConversion(order, options);
 * if (mapped.send) await conversions.track(mapped.input, mapped.context);
 */
export type MappedOrder =
  | { send: true; input: ConversionInput; context: RequestContext }
  | {
      send: false;
      reason: 'test_order' | 'not_online_store' | 'consent_denied' | 'no_consent_signal' | 'unreadable';
    };

const EEA_UK_CH = new Set(
  'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO GB CH'.split(
    ' ',
  ),
);

/** The event id of a Shopify order: give the storefront pixel the same one. @example orderEventId(450789469); // 'shopify_order_450789469' */
export function orderEventId(orderId: number | string): string {
  return `shopify_order_${orderId}`;
}

/**
 * Maps an `orders/create` payload to an `order_created` conversion: money in the currency's minor
 * unit (JPY 0 decimals, KWD 3), line items at their unit price, identifiers from the order, customer
 * and addresses (hashed by core; geo raw), the click id from the cart attributes or the landing URL,
 * and consent from the storefront's attribute or the merchant's policy.
 *
 * @example
 * const mapped = orderToConversion(order, { shopDomain: 'northwind.myshopify.com', shopCountry: 'US' });
 */
export function orderToConversion(order: ShopifyOrder, options: OrderOptions): MappedOrder {
  checkOrderOptions(options);
  if (!order || typeof order.id !== 'number') return { send: false, reason: 'unreadable' };
  if (order.test && !options.includeTestOrders) return { send: false, reason: 'test_order' };
  if (!(options.sources ?? ['web']).includes(order.source_name ?? ''))
    return { send: false, reason: 'not_online_store' };

  const attribute = (name: string) => order.note_attributes?.find((a) => a.name === name)?.value?.trim();
  const consent = consentOf(attribute(options.attributes?.consent ?? '_chatgpt_ads_consent'), options);
  if (consent === 'denied') return { send: false, reason: 'consent_denied' };
  if (consent === 'unknown') return { send: false, reason: 'no_consent_signal' };

  const money =
    options.currency === 'presentment'
      ? order.total_price_set?.presentment_money
      : order.total_price_set?.shop_money;
  const currency =
    money?.currency_code ??
    (options.currency === 'presentment' ? order.presentment_currency : order.currency) ??
    order.currency;
  const total = money?.amount ?? order.total_price;
  const known = currencyExponent(currency) !== undefined;

  const contents: ContentInput[] = (order.line_items ?? []).map((item) => {
    const unit =
      options.currency === 'presentment' ? item.price_set?.presentment_money : item.price_set?.shop_money;
    const price = unit?.amount ?? item.price;
    return {
      id: String(item.variant_id ?? item.product_id ?? item.id),
      ...(item.product_id ? { groupId: String(item.product_id) } : {}),
      name: item.name ?? item.title ?? '',
      contentType: 'product',
      quantity: item.quantity,
      ...(price !== undefined && known ? { amount: toMinorUnits(price, currency) } : {}),
    };
  });

  const addresses = [order.billing_address, order.shipping_address].filter((a): a is ShopifyAddress =>
    Boolean(a),
  );
  const billingCountry = order.billing_address?.country_code?.trim() || undefined;
  const shippingCountry = order.shipping_address?.country_code?.trim() || undefined;
  const list = (...values: Array<string | null | undefined>) => [
    ...new Set(values.filter((v): v is string => Boolean(v?.trim()))),
  ];
  const user: UserInput = {
    email: list(order.email, order.customer?.email),
    phone: list(
      withCountry(order.phone, billingCountry, shippingCountry),
      withCountry(order.billing_address?.phone, billingCountry, shippingCountry),
      withCountry(order.customer?.phone, billingCountry, shippingCountry),
      withCountry(order.shipping_address?.phone, shippingCountry, billingCountry),
    ),
    firstName: list(order.customer?.first_name, ...addresses.map((a) => a.first_name)),
    lastName: list(order.customer?.last_name, ...addresses.map((a) => a.last_name)),
    city: list(...addresses.map((a) => a.city)),
    region: list(...addresses.map((a) => a.province_code ?? a.province)),
    postalCode: list(...addresses.map((a) => a.zip)),
    country: list(...addresses.map((a) => a.country_code)),
    ...(order.customer?.id ? { externalId: `shopify_customer_${order.customer.id}` } : {}),
    ...(order.client_details?.user_agent ? { userAgent: order.client_details.user_agent } : {}),
  };

  // The theme embed copies the click id into the cart; otherwise it may still be in the landing URL,
  // read raw (never "+"-to-space decoded: the value is opaque).
  const oppref =
    attribute(options.attributes?.oppref ?? '_oppref') ||
    (order.landing_site ? readOpprefFromUrl(order.landing_site) : undefined);

  return {
    send: true,
    input: {
      type: 'order_created',
      id: orderEventId(order.id),
      timestampMs: Date.parse(order.created_at),
      actionSource: 'web',
      data: {
        ...(total !== undefined && known ? { amount: toMinorUnits(total, currency) } : {}),
        currency,
        contents,
      },
      user,
    },
    context: {
      consent: 'granted',
      sourceUrl: `https://${options.shopDomain}/`,
      ...(oppref ? { oppref } : {}),
      ...(order.client_details?.browser_ip ? { ip: order.client_details.browser_ip } : {}),
    },
  };
}

/**
 * Shopify keeps phones as the buyer typed them, often without a calling code (`(502) 459-2181`).
 * Core reads those only with a default country, which is a client-wide option; an order carries its
 * own, so the number is rewritten here to international form with the address's country and core
 * then treats it like any `+` number. A number that still does not parse is passed on unchanged, so
 * core drops it with its usual warning and counter rather than this mapping hiding it.
 */
function withCountry(
  raw: string | null | undefined,
  ...countries: Array<string | undefined>
): string | null | undefined {
  const text = raw?.trim();
  if (!text || text.startsWith('+') || text.startsWith('00')) return raw;
  for (const country of countries) {
    if (!country || !/^[A-Za-z]{2}$/.test(country)) continue;
    const parsed = normalizePhone(text, { defaultCountry: country });
    if (parsed.ok) return `+${parsed.value}`;
  }
  return raw;
}

/**
 * Checks {@link OrderOptions}; a misspelt name or a value outside the allowed ones throws
 * `ConversionsConfigError` (in a webhook: answered 503, so Shopify keeps the order until it is fixed).
 *
 * @example
 * checkOrderOptions({ shopDomain: 'northwind.myshopify.com', withoutConsentSignal: 'send' });
 */
export function checkOrderOptions(options: OrderOptions): void {
  checkKeys(options, 'order options', {
    shopDomain: optionChecks.string,
    shopCountry: (value, path) => {
      if (typeof value !== 'string' || !/^[A-Za-z]{2}$/.test(value))
        throw new ConversionsConfigError(`${path} must be an ISO 3166-1 alpha-2 country code such as 'DE'`);
    },
    currency: (value, path) => void oneOf(['shop', 'presentment'] as const, value, path),
    withoutConsentSignal: (value, path) =>
      void oneOf(['skip-in-eea-uk-ch', 'skip', 'send'] as const, value, path),
    includeTestOrders: optionChecks.boolean,
    sources: (value, path) => {
      if (!Array.isArray(value) || value.some((source) => typeof source !== 'string'))
        throw new ConversionsConfigError(`${path} must be an array of source names such as ['web']`);
    },
    attributes: (value, path) =>
      checkKeys(value, path, { oppref: optionChecks.string, consent: optionChecks.string }),
  });
}

function consentOf(value: string | undefined, options: OrderOptions): ConsentState {
  const said = value?.toLowerCase();
  if (said === 'granted' || said === 'true' || said === 'yes') return 'granted';
  if (said === 'denied' || said === 'false' || said === 'no') return 'denied';
  const policy = options.withoutConsentSignal ?? 'skip-in-eea-uk-ch';
  if (policy === 'send') return 'granted';
  if (policy === 'skip') return 'unknown';
  if (!options.shopCountry) return 'unknown'; // where the shop is is unknown: the strict reading
  return EEA_UK_CH.has(options.shopCountry.toUpperCase()) ? 'unknown' : 'granted';
}
