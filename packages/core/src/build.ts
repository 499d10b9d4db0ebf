import { USER_LIST_FIELDS, type UserListField } from './fields.js';
import { defaultSha256, type HashFunction } from './hash.js';
import type { PhoneOptions } from './normalize.js';
import type { RequestContext } from './request.js';
import {
  type ActionSource,
  APP_EVENT_TYPES,
  DATA_SHAPE_BY_EVENT,
  EVENT_TYPES,
  type EventType,
  type Issue,
  MAX_LIST_VALUES,
  type WireContent,
  type WireData,
  type WireEvent,
  type WireUser,
} from './schema.js';
import {
  checkCustomEventName,
  isIpAddress,
  isPlainObject,
  isSafeOpaqueRef,
  isSha256Hex,
  validateBuiltEvent,
} from './validate.js';

type OneOrMany = string | readonly string[];

const ADVERTISING_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * Identifiers of the person who converted. Raw fields are normalized and hashed here; `*Sha256`
 * fields carry values you already hashed (64 lowercase hex). Geo values are sent raw.
 *
 * @example
 * const user: UserInput = { email: ' Alex@Example.com ', phone: '+1 (415) 555-2671', country: 'US' };
 */
export interface UserInput {
  email?: OneOrMany;
  phone?: OneOrMany;
  externalId?: OneOrMany;
  firstName?: OneOrMany;
  lastName?: OneOrMany;
  city?: OneOrMany;
  region?: OneOrMany;
  postalCode?: OneOrMany;
  country?: OneOrMany;
  emailSha256?: OneOrMany;
  phoneSha256?: OneOrMany;
  externalIdSha256?: OneOrMany;
  firstNameSha256?: OneOrMany;
  lastNameSha256?: OneOrMany;
  androidAdvertisingId?: string;
  /** Overrides the request context's IP (e.g. for offline imports). */
  ipAddress?: string;
  /** Overrides the request context's user agent. */
  userAgent?: string;
}

/**
 * One item of `data.contents`, camelCase.
 *
 * @example
 * const item: ContentInput = { id: 'sku_1', name: 'Mug', quantity: 2, amount: 1299, contentType: 'product' };
 */
export interface ContentInput {
  id?: string;
  groupId?: string;
  name?: string;
  contentType?: string;
  quantity?: number;
  /** Unit price in minor units. */
  amount?: number;
  currency?: string;
  variantDict?: Record<string, string>;
}

/**
 * The event's data. `type` is derived from the event type. On `custom` events any other key is
 * passed through as a free-form property.
 *
 * @example
 * const data: DataInput = { amount: 12999, currency: 'USD', contents: [{ id: 'sku_1', quantity: 1 }] };
 */
export interface DataInput {
  /** Total in the currency's minor unit (see `toMinorUnits`). */
  amount?: number;
  currency?: string;
  contents?: readonly ContentInput[];
  planId?: string;
  [customField: string]: unknown;
}

/**
 * A conversion as your code describes it. Names are the camelCase of the wire names.
 *
 * @example
 * const input: ConversionInput = { type: 'order_created', id: 'order_1001',
 *   data: { amount: 12999, currency: 'USD' }, user: { email: 'alex@example.com' } };
 */
export interface ConversionInput {
  type: EventType;
  /** Dedup id; reuse it as the pixel's `event_id`. Generated (UUID) when absent. */
  id?: string;
  /** When the conversion happened, epoch ms. Default: now. */
  timestampMs?: number;
  customEventName?: string;
  actionSource?: ActionSource;
  sourceUrl?: string;
  optOut?: boolean;
  /** Click id; overrides the request context's. */
  oppref?: string;
  data?: DataInput;
  user?: UserInput;
}

/**
 * Options of {@link buildEvent}.
 *
 * @example
 * await buildEvent(input, context, { defaultCountry: 'US' });
 */
export interface BuildOptions {
  /** ISO 3166-1 alpha-2 country for phone numbers written without a country code. */
  defaultCountry?: string;
  /** Epoch ms for the default timestamp and the freshness window. Default `Date.now()`. */
  now?: number;
  /** `action_source` when neither the input nor a request context decides. */
  defaultActionSource?: ActionSource;
  /** Keep the query string and fragment of `source_url`. Default false (origin + path only). */
  keepSourceUrlQuery?: boolean;
  /**
   * SHA-256 as lowercase hex. Default {@link defaultSha256}: the runtime's synchronous digest where
   * it has one (Node, Bun, Deno), Web Crypto elsewhere.
   */
  hash?: HashFunction;
}

/**
 * The outcome of {@link buildEvent}: the frozen wire event with any warnings (identifiers left out),
 * or the issues that refuse it.
 *
 * @example
 * const result = await buildEvent(input);
 * if (result.ok) send(result.event); else console.warn(result.issues);
 */
export type BuildResult = { ok: true; event: WireEvent; warnings: Issue[] } | { ok: false; issues: Issue[] };

/**
 * A fresh event id (UUID v4). Give it to both the server event and the pixel's `event_id`.
 *
 * @example
 * const id = createEventId(); // '3b241101-e2bb-4255-8caf-4136c566a962'
 */
export function createEventId(): string {
  return crypto.randomUUID();
}

/**
 * Builds the wire event from a friendly input and a request context: id and timestamp fixed,
 * identifiers normalized and SHA-256 hashed, lists deduplicated and capped at 3, context merged in,
 * then validated. Never throws on bad input.
 *
 * @example
 * const result = await buildEvent(
 *   { type: 'order_created', id: 'order_1001', data: { amount: 12999, currency: 'USD' },
 *     user: { email: ' Alex@Example.com ' } },
 *   { oppref: 'gAAAA123', sourceUrl: 'https://shop.example/checkout?step=3', consent: 'granted' },
 * );
 * result.ok && result.event.user?.emails_sha256; // ['6db61e6d…']
 */
export function buildEvent(
  input: ConversionInput,
  rawContext?: RequestContext,
  options: BuildOptions = {},
): Promise<BuildResult> {
  // Synchronous all the way when the hash is (node:crypto): no await between the steps.
  try {
    const result = build(input, rawContext, options);
    return result instanceof Promise ? result.catch(unreadable) : Promise.resolve(result);
  } catch (error) {
    return Promise.resolve(unreadable(error));
  }
}

// Only an input whose own code throws (a getter, a proxy) gets here: refused, never thrown.
function unreadable(error: unknown): BuildResult {
  return {
    ok: false,
    issues: [
      {
        path: '',
        code: 'not_object',
        message: `the input could not be read (${error instanceof Error ? error.name : typeof error})`,
      },
    ],
  };
}

function build(
  input: ConversionInput,
  rawContext: unknown,
  options: BuildOptions,
): BuildResult | Promise<BuildResult> {
  if (!isPlainObject(input)) {
    return {
      ok: false,
      issues: [{ path: '', code: 'not_object', message: 'the conversion input must be an object' }],
    };
  }
  const now = options.now ?? Date.now();
  const issues: Issue[] = [];
  const { context, warnings } = readContext(rawContext);
  const type = input.type;

  if (!(EVENT_TYPES as readonly unknown[]).includes(type)) {
    return {
      ok: false,
      issues: [
        { path: 'type', code: 'type_invalid', message: `type must be one of: ${EVENT_TYPES.join(', ')}` },
      ],
    };
  }

  // Read once: the event keeps the very value that was checked (validation does not look again).
  const id = input.id;
  if (id !== undefined && !isSafeEventId(id)) {
    return {
      ok: false,
      issues: [
        {
          path: 'id',
          code: 'id_invalid',
          message: 'id must be a non-empty string of at most 512 characters without control characters',
        },
      ],
    };
  }
  const event: WireEvent = {
    id: id ?? createEventId(),
    type,
    timestamp_ms: input.timestampMs ?? now,
    data: { type: DATA_SHAPE_BY_EVENT[type] },
  };

  if (type === 'custom') {
    const checked = checkCustomEventName(input.customEventName);
    if (checked.ok) event.custom_event_name = checked.value;
    else issues.push({ path: 'custom_event_name', code: checked.code, message: checked.message });
  } else if (input.customEventName !== undefined) {
    event.custom_event_name = input.customEventName;
  }

  const oppref = input.oppref ?? context.oppref;
  if (oppref !== undefined && oppref !== '') {
    if (isSafeOpaqueRef(oppref)) event.oppref = oppref;
    else
      warnings.push({
        path: 'oppref',
        code: 'oppref_invalid',
        message: 'unsafe oppref left out of the event',
      });
  }

  const actionSource = resolveActionSource(input, context, options);
  if (actionSource) event.action_source = actionSource;
  else {
    issues.push({
      path: 'action_source',
      code: 'action_source_required',
      message: 'action_source is needed when there is no request context (e.g. "offline" for CRM imports)',
    });
  }

  const sourceUrl = input.sourceUrl ?? context.sourceUrl;
  let sourceUrlChecked = false;
  if (typeof sourceUrl === 'string' && options.keepSourceUrlQuery) event.source_url = sourceUrl;
  else if (typeof sourceUrl === 'string') {
    const canonical = canonicalOriginAndPath(sourceUrl);
    sourceUrlChecked = canonical !== undefined;
    event.source_url = canonical ?? parsedOriginAndPath(sourceUrl);
  } else if (sourceUrl !== undefined)
    issues.push({
      path: 'source_url',
      code: 'source_url_invalid',
      message: 'source_url must be a string URL',
    });

  const user = buildUser(input.user ?? {}, context, options, warnings);
  const finish = (built: WireUser | undefined): BuildResult => {
    if (built) event.user = built;
    if (input.optOut !== undefined) event.opt_out = input.optOut;
    event.data = toWireData(type, readData(input.data, warnings), warnings);
    // What the builder made itself (user, from the field table's rules) is not checked again.
    issues.push(
      ...validateBuiltEvent(event, now, sourceUrlChecked).filter(
        (issue) => !issues.some((i) => i.path === issue.path),
      ),
    );
    return issues.length > 0 ? { ok: false, issues } : { ok: true, event, warnings };
  };
  return user instanceof Promise ? user.then(finish) : finish(user);
}

const CONTEXT_STRINGS = ['oppref', 'obref', 'ip', 'userAgent', 'sourceUrl'] as const;

/**
 * @internal Copies a request context field by field: a getter that throws, a field of the wrong type or a
 * context that is not an object drops only that field, with a warning. Consent that cannot be read
 * is unknown, which opt-in treats as no.
 */
export function readContext(raw: unknown): { context: RequestContext; warnings: Issue[] } {
  const context: RequestContext = {};
  const warnings: Issue[] = [];
  if (raw === undefined || raw === null) return { context, warnings };
  if (typeof raw !== 'object') {
    warnings.push({
      path: 'context',
      code: 'not_object',
      message: 'the request context must be an object; ignored',
    });
    return { context, warnings };
  }
  for (const field of CONTEXT_STRINGS) {
    let value: unknown;
    try {
      value = (raw as Record<string, unknown>)[field];
    } catch {
      value = null;
    }
    if (value === undefined) continue;
    if (typeof value === 'string') context[field] = value;
    else
      warnings.push({
        path: `context.${field}`,
        code: 'context_invalid',
        message: `context.${field} must be a string; left out`,
      });
  }
  try {
    const consent = (raw as RequestContext).consent;
    if (consent !== undefined) context.consent = consent;
  } catch {
    // unreadable consent stays unknown
  }
  return { context, warnings };
}

function resolveActionSource(
  input: ConversionInput,
  context: RequestContext,
  options: BuildOptions,
): ActionSource | undefined {
  if (APP_EVENT_TYPES.includes(input.type)) return input.actionSource ?? 'mobile_app';
  if (input.actionSource) return input.actionSource;
  const hasRequest =
    context.sourceUrl !== undefined || context.userAgent !== undefined || context.ip !== undefined;
  if (hasRequest || input.sourceUrl !== undefined) return 'web';
  return options.defaultActionSource;
}

// Adapters hand over URLs that are already in the parser's canonical form (lowercase scheme and
// host, no default port, no dot segments, no characters it would escape); cutting those at "?" or
// "#" spares a URL parse per event. Anything else goes through the parser.
const CANONICAL_URL =
  /^(https?):\/\/([a-z0-9.-]+)(?::(\d{1,5}))?(\/[A-Za-z0-9\-._~!$&'()*+,;=:@%/]*)?(?:[?#]|$)/;

// The origin and path of a URL in that canonical form, or undefined. What it returns is an
// absolute URL by construction (http(s), a host starting with a letter or digit, a port of at most
// 65,535, a path without spaces), so validation need not look at it again.
function canonicalOriginAndPath(url: string): string | undefined {
  const match = CANONICAL_URL.exec(url);
  if (!match) return undefined;
  const [, scheme, host = '', port, path = '/'] = match;
  const defaultPort = (scheme === 'http' && port === '80') || (scheme === 'https' && port === '443');
  const oddPort = port !== undefined && (port.startsWith('0') || Number(port) > 65_535);
  if (defaultPort || oddPort || !/^[a-z0-9]/.test(host) || /(?:^|\/)\.\.?(?:\/|$)/.test(path))
    return undefined;
  return `${scheme}://${host}${port ? `:${port}` : ''}${path}`;
}

// Any other URL: the parser's origin and path.
function parsedOriginAndPath(url: string): string {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? url : `${parsed.origin}${parsed.pathname}`;
  } catch {
    return url; // validation reports it
  }
}

const NAMED_DATA_KEYS = new Set(['amount', 'currency', 'contents', 'planId']);

/**
 * Converts camelCase data input to the wire's `data` object, `type` derived from the event type.
 *
 * @example
 * toWireData('order_created', { amount: 12999, currency: 'usd' }); // { type: 'contents', amount: 12999, currency: 'USD' }
 */
export function toWireData(type: EventType, input: DataInput | undefined, warnings: Issue[] = []): WireData {
  const data: WireData = { type: DATA_SHAPE_BY_EVENT[type] };
  if (!input) return data;
  const { amount, currency, contents, planId } = input;
  if (amount !== undefined) data.amount = amount;
  if (currency !== undefined)
    data.currency = typeof currency === 'string' ? currency.toUpperCase() : currency;
  if (contents !== undefined)
    data.contents = Array.isArray(contents) ? contents.map(toWireContent) : (contents as never);
  if (planId !== undefined) data.plan_id = planId;
  // Free-form keys belong to custom events; on other shapes validation names them. A value that
  // cannot be written as JSON (BigInt, a cycle, a throwing toJSON) is left out rather than
  // failing the whole conversion.
  for (const key in input) {
    if (!Object.hasOwn(input, key) || NAMED_DATA_KEYS.has(key)) continue;
    const value = input[key];
    if (value === undefined) continue;
    if (isJsonSafe(value)) data[key] = value;
    else
      warnings.push({
        path: `data.${key}`,
        code: 'not_serializable',
        message: `data.${key} cannot be written as JSON; left out`,
      });
  }
  return data;
}

// `data` must be an object: a string would otherwise be spread one property per character.
function readData(data: unknown, warnings: Issue[]): DataInput | undefined {
  if (data === undefined || data === null) return undefined;
  if (isPlainObject(data)) return data as DataInput;
  warnings.push({ path: 'data', code: 'data_invalid', message: 'data must be an object; left out' });
  return undefined;
}

function isJsonSafe(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

// Ids become dedup keys, cookie-free log fields and outbox rows: control characters would be
// truncated or mangled on the way (a NUL ends a C string in SQLite's text API).
function isSafeEventId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= 512 && !/[\u0000-\u001f\u007f]/.test(id);
}

/**
 * Converts camelCase content items to the wire's snake_case (currency uppercased).
 *
 * @example
 * toWireContent({ id: 'sku_1', contentType: 'product' }); // { id: 'sku_1', content_type: 'product' }
 */
export function toWireContent(item: ContentInput): WireContent {
  if (!isRecord(item)) return item as WireContent;
  const wire: WireContent = {};
  if (item.id !== undefined) wire.id = item.id;
  if (item.groupId !== undefined) wire.group_id = item.groupId;
  if (item.name !== undefined) wire.name = item.name;
  if (item.contentType !== undefined) wire.content_type = item.contentType;
  if (item.quantity !== undefined) wire.quantity = item.quantity;
  if (item.amount !== undefined) wire.amount = item.amount;
  if (item.currency !== undefined)
    wire.currency = typeof item.currency === 'string' ? item.currency.toUpperCase() : item.currency;
  if (item.variantDict !== undefined) wire.variant_dict = item.variantDict;
  return wire;
}

function buildUser(
  input: UserInput,
  context: RequestContext,
  options: BuildOptions,
  warnings: Issue[],
): WireUser | undefined | Promise<WireUser | undefined> {
  if (!isRecord(input)) {
    warnings.push({ path: 'user', code: 'not_object', message: 'user must be an object; left out' });
    return undefined;
  }
  const hash = options.hash ?? defaultSha256;
  const phoneOptions = options.defaultCountry ? { defaultCountry: options.defaultCountry } : {};
  const user: WireUser = {};
  // Normalize every field and start every hash, then wait once if any digest is a promise: a
  // synchronous hash (node:crypto) costs no await at all, and Web Crypto runs all digests together.
  const pending: Array<{
    field: UserListField;
    digests: Array<string | Promise<string>>;
    preHashed: string[];
  }> = [];
  let waiting = false;
  for (const field of USER_LIST_FIELDS) {
    const raw = input[field.input];
    const preHashedInput = field.preHashed ? input[field.preHashed] : undefined;
    if (raw === undefined && preHashedInput === undefined) continue;
    const values = normalizedValues(field, raw, phoneOptions, warnings);
    if (field.kind === 'raw') {
      if (values.length > 0)
        user[field.wire] = values.length > MAX_LIST_VALUES ? values.slice(0, MAX_LIST_VALUES) : values;
      continue;
    }
    const preHashed = preHashedInput === undefined ? [] : preHashedValues(field, preHashedInput, warnings);
    // Only the first three unique values are sent, so only those are hashed.
    const digests: Array<string | Promise<string>> = [];
    for (let index = 0; index < values.length && index < MAX_LIST_VALUES; index++) {
      const digest = hash(values[index]!);
      if (typeof digest !== 'string') waiting = true;
      digests.push(digest);
    }
    pending.push({ field, digests, preHashed });
  }
  if (waiting)
    return Promise.all(pending.map((p) => Promise.all(p.digests))).then((resolved) => {
      resolved.forEach((digests, index) => {
        pending[index]!.digests = digests;
      });
      return finishUser(user, pending, input, context, options, warnings);
    });
  return finishUser(user, pending, input, context, options, warnings);
}

function preHashedValues(field: UserListField, given: OneOrMany, warnings: Issue[]): string[] {
  const preHashed: string[] = [];
  const list = toList(given, `user.${field.wire}`, warnings);
  for (let index = 0; index < list.length; index++) {
    if (isSha256Hex(list[index])) preHashed.push(list[index]!);
    else
      warnings.push({
        path: `user.${field.wire}[${index}]`,
        code: 'hash_invalid',
        message: 'pre-hashed values must be 64-character lowercase hex SHA-256; left out',
      });
  }
  return preHashed;
}

// The hashed lists once their digests are in, then the single-value fields.
function finishUser(
  user: WireUser,
  pending: ReadonlyArray<{
    field: UserListField;
    digests: ReadonlyArray<string | Promise<string>>;
    preHashed: string[];
  }>,
  input: UserInput,
  context: RequestContext,
  options: BuildOptions,
  warnings: Issue[],
): WireUser | undefined {
  for (const { field, digests, preHashed } of pending) {
    // The default hash gives digests by construction; a hash passed in is held to the API's rule.
    if (options.hash && !(digests as string[]).every(isSha256Hex)) {
      warnings.push({
        path: `user.${field.wire}`,
        code: 'hash_invalid',
        message: 'the hash option returned something other than 64 lowercase hex characters; left out',
      });
      continue;
    }
    const list =
      preHashed.length === 0 && digests.length === 1
        ? (digests as string[])
        : unique([...(digests as string[]), ...preHashed]).slice(0, MAX_LIST_VALUES);
    if (list.length > 0) user[field.wire] = list;
  }

  const rawAaid = input.androidAdvertisingId;
  const aaid = typeof rawAaid === 'string' ? rawAaid.trim() : undefined;
  if (rawAaid !== undefined && aaid === undefined)
    warnings.push({
      path: 'user.android_advertising_id',
      code: 'android_advertising_id_invalid',
      message: 'androidAdvertisingId must be a string; left out',
    });
  if (aaid && !/^[0-]+$/.test(aaid)) {
    if (ADVERTISING_ID.test(aaid)) user.android_advertising_id = aaid;
    else
      warnings.push({
        path: 'user.android_advertising_id',
        code: 'android_advertising_id_invalid',
        message: 'androidAdvertisingId must be a UUID; left out',
      });
  }

  const ip = input.ipAddress ?? context.ip;
  if (ip !== undefined) {
    if (isIpAddress(ip)) user.ip_address = ip;
    else
      warnings.push({
        path: 'user.ip_address',
        code: 'ip_address_invalid',
        message: 'ip_address is not a valid IP; left out',
      });
  }
  const userAgent = input.userAgent ?? context.userAgent;
  if (typeof userAgent === 'string') {
    if (userAgent.trim() !== '') user.user_agent = userAgent;
  } else if (userAgent !== undefined && userAgent !== null)
    warnings.push({
      path: 'user.user_agent',
      code: 'user_agent_invalid',
      message: 'userAgent must be a string; left out',
    });
  if (context.obref !== undefined && context.obref !== '') {
    if (isSafeOpaqueRef(context.obref)) user.obref = context.obref;
    else
      warnings.push({
        path: 'user.obref',
        code: 'obref_invalid',
        message: 'unsafe obref left out of the event',
      });
  }
  return Object.keys(user).length > 0 ? user : undefined;
}

// The normalized values of one list field, each once, in order; a value that breaks the field's
// rule is left out with a warning naming the rule (never the value).
function normalizedValues(
  field: UserListField,
  raw: OneOrMany | undefined,
  phoneOptions: PhoneOptions,
  warnings: Issue[],
): string[] {
  const values: string[] = [];
  const list = toList(raw, `user.${field.wire}`, warnings);
  for (let index = 0; index < list.length; index++) {
    const result = field.normalize(list[index]!, phoneOptions);
    if (!result.ok) {
      if (!result.dropped)
        warnings.push({
          path: `user.${field.wire}[${index}]`,
          code: result.code,
          message: `${result.message}; left out`,
        });
      continue;
    }
    if (field.kind === 'raw' && !field.valid(result.value))
      warnings.push({
        path: `user.${field.wire}[${index}]`,
        code: field.code,
        message: `${field.rule}; left out`,
      });
    else if (!values.includes(result.value)) values.push(result.value);
  }
  return values;
}

const MAX_LIST_SCAN = 100;

// A value that is not a string (a hole in a sparse array included) is left out on its own; the
// list's other values still count.
function toList(value: OneOrMany | undefined, path: string, warnings: Issue[]): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) {
    warnings.push({
      path,
      code: 'list_invalid',
      message: `${path} must be a string or an array of strings; left out`,
    });
    return [];
  }
  const list: string[] = [];
  // Only a few values are ever sent: reading a list stops early, so a huge or sparse array from a
  // driver costs nothing (new Array(2 ** 32 - 1) is a valid, empty, endless list).
  const readable = Math.min(value.length, MAX_LIST_SCAN);
  if (value.length > MAX_LIST_SCAN)
    warnings.push({
      path,
      code: 'list_too_long',
      message: `${path} has ${value.length} values; only the first ${MAX_LIST_SCAN} were read`,
    });
  for (let index = 0; index < readable; index++) {
    const item: unknown = value[index];
    if (typeof item === 'string') list.push(item);
    else
      warnings.push({
        path: `${path}[${index}]`,
        code: 'list_invalid',
        message: `${path}[${index}] must be a string; left out`,
      });
  }
  return list;
}

// A shape check that leaves the declared input type alone (isPlainObject would narrow it away).
function isRecord(value: unknown): boolean {
  return isPlainObject(value);
}

function unique(values: string[]): string[] {
  // Lists are a few values long: a scan beats building a Set.
  const out: string[] = [];
  for (const value of values) if (!out.includes(value)) out.push(value);
  return out;
}
