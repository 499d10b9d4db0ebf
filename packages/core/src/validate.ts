import { USER_LIST_FIELDS, USER_SCALAR_FIELDS } from './fields.js';
import {
  ACTION_SOURCES,
  APP_EVENT_TYPES,
  DATA_SHAPE_BY_EVENT,
  EVENT_TYPES,
  type EventType,
  type Issue,
  type IssueCode,
  MAX_EVENTS_PER_REQUEST,
  MAX_LIST_VALUES,
  STANDARD_EVENT_TYPES,
  type WireEvent,
} from './schema.js';

export { isSha256Hex } from './fields.js';

const DAY_MS = 86_400_000;
/** Oldest accepted event age: 7 days. @example MAX_EVENT_AGE_MS === 604_800_000 */
export const MAX_EVENT_AGE_MS = 7 * DAY_MS;
/** Furthest accepted future timestamp: 10 minutes. @example MAX_FUTURE_SKEW_MS === 600_000 */
export const MAX_FUTURE_SKEW_MS = 10 * 60_000;

const CUSTOM_EVENT_NAME = /^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$/;
const INTEGRATION_SOURCE = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const CURRENCY = /^[A-Za-z]{3}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
// Visible ASCII without ; , " — a value that passes can never break a Set-Cookie header.
const OPAQUE_REF = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x7e]{1,2048}$/;

const EVENT_FIELDS = new Set([
  'id',
  'type',
  'timestamp_ms',
  'custom_event_name',
  'oppref',
  'source_url',
  'action_source',
  'user',
  'opt_out',
  'data',
]);
const DATA_FIELDS = new Set(['type', 'amount', 'currency', 'contents', 'plan_id']);
const CONTENT_STRINGS = new Set(['id', 'group_id', 'name', 'content_type']);
const CONTENT_FIELDS = new Set([
  'id',
  'group_id',
  'name',
  'content_type',
  'quantity',
  'amount',
  'currency',
  'variant_dict',
]);
const USER_FIELDS = new Set<string>([
  ...USER_LIST_FIELDS.map((field) => field.wire),
  ...USER_SCALAR_FIELDS.map((field) => field.wire),
]);

/**
 * Options of {@link validateEvent}.
 *
 * @example
 * validateEvent(event, { now: Date.now() });
 */
export interface ValidateOptions {
  /** Epoch ms used for the 7-day / +10-minute window. Default `Date.now()`. */
  now?: number;
}

/** @internal */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * True for a value that may be sent as `oppref` or `user.obref` and stored in a cookie:
 * 1–2,048 visible ASCII characters without `;`, `,` or `"`.
 *
 * @example
 * isSafeOpaqueRef('gAAAAB-abc_123'); // true
 * isSafeOpaqueRef('a b');            // false
 */
export function isSafeOpaqueRef(value: unknown): value is string {
  return typeof value === 'string' && OPAQUE_REF.test(value);
}

/**
 * True for a valid IPv4 or IPv6 address.
 *
 * @example
 * isIpAddress('203.0.113.7'); // true
 * isIpAddress('2001:db8::1'); // true
 */
export function isIpAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 45) return false;
  if (IPV4.test(value)) return true;
  if (!value.includes(':') || /[^0-9a-fA-F:.]/.test(value)) return false;
  try {
    // The WHATWG URL parser is a complete IPv6 grammar, available in every runtime.
    new URL(`http://[${value}]/`);
    return true;
  } catch {
    return false;
  }
}

/**
 * True for an absolute URL with a scheme and a host.
 *
 * @example
 * isAbsoluteUrl('https://shop.example/checkout'); // true
 * isAbsoluteUrl('/checkout');                     // false
 */
export function isAbsoluteUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  // The common case needs no parse: http(s), a plain host, an optional valid port.
  const simple = /^https?:\/\/[a-z0-9][a-z0-9.-]*(?::(\d{1,5}))?(?:[/?#][^\s]*)?$/i.exec(value);
  if (simple && Number(simple[1] ?? 0) <= 65_535) return true;
  try {
    return new URL(value).host.length > 0;
  } catch {
    return false;
  }
}

/**
 * Normalizes and checks a `custom_event_name`: lowercased, 1–64 of `[a-z0-9_-]`, starting and
 * ending with a letter or digit, and not a standard event name.
 *
 * @example
 * checkCustomEventName('Quote_Requested'); // { ok: true, value: 'quote_requested' }
 */
export function checkCustomEventName(
  name: unknown,
): { ok: true; value: string } | { ok: false; code: IssueCode; message: string } {
  if (typeof name !== 'string' || name.length === 0) {
    return {
      ok: false,
      code: 'custom_event_name_required',
      message: 'custom_event_name is required for custom events',
    };
  }
  const value = name.toLowerCase();
  if (!CUSTOM_EVENT_NAME.test(value)) {
    return {
      ok: false,
      code: 'custom_event_name_invalid',
      message:
        'custom_event_name must be 1-64 letters, digits, "_" or "-", starting and ending with a letter or digit',
    };
  }
  if ((STANDARD_EVENT_TYPES as readonly string[]).includes(value)) {
    return {
      ok: false,
      code: 'custom_event_name_reserved',
      message: `custom_event_name "${value}" is a standard event name`,
    };
  }
  return { ok: true, value };
}

/**
 * Normalizes and checks an `integration_source`: trimmed, lowercased, 1–64 ASCII characters,
 * a letter or digit first, then letters, digits, `.`, `_`, `-`.
 *
 * @example
 * checkIntegrationSource(' Acme_Measurement '); // { ok: true, value: 'acme_measurement' }
 */
export function checkIntegrationSource(
  source: unknown,
): { ok: true; value: string } | { ok: false; message: string } {
  const value = typeof source === 'string' ? source.trim().toLowerCase() : '';
  if (!INTEGRATION_SOURCE.test(value)) {
    return {
      ok: false,
      message:
        'integration_source must be 1-64 ASCII characters: a letter or digit, then letters, digits, ".", "_" or "-"',
    };
  }
  return { ok: true, value };
}

class IssueList {
  readonly issues: Issue[] = [];
  add(path: string, code: IssueCode, message: string): void {
    this.issues.push({ path, code, message });
  }
}

/**
 * Checks one wire event against every rule of the Conversions API and this project's policy.
 * Returns an empty array when the event may be sent.
 *
 * @example
 * const issues = validateEvent({ id: 'o1', type: 'order_created', timestamp_ms: Date.now(),
 *   action_source: 'web', source_url: 'https://shop.example/', data: { type: 'contents', amount: 500 } });
 * issues[0]?.code; // 'currency_required'
 */
export function validateEvent(event: unknown, options: ValidateOptions = {}): Issue[] {
  const out = new IssueList();
  checkEvent(event, '', options.now ?? Date.now(), out);
  return out.issues;
}

/**
 * Checks a whole request body: 1–1,000 events, `validate_only`, `integration_source`, then every
 * event (issue paths start with `events[i]`).
 *
 * @example
 * validateEnvelope({ events: [] })[0]?.code; // 'events_required'
 */
export function validateEnvelope(body: unknown, options: ValidateOptions = {}): Issue[] {
  const out = new IssueList();
  if (!isPlainObject(body)) {
    out.add('', 'not_object', 'the request body must be a JSON object');
    return out.issues;
  }
  for (const key of Object.keys(body)) {
    if (key !== 'events' && key !== 'validate_only' && key !== 'integration_source') {
      out.add(key, 'unknown_field', `${key} is not a field of the request body`);
    }
  }
  if (body.validate_only !== undefined && typeof body.validate_only !== 'boolean') {
    out.add('validate_only', 'validate_only_not_boolean', 'validate_only must be a boolean');
  }
  if (body.integration_source !== undefined) {
    const checked = checkIntegrationSource(body.integration_source);
    if (!checked.ok) out.add('integration_source', 'integration_source_invalid', checked.message);
  }
  const events = body.events;
  if (!Array.isArray(events) || events.length === 0) {
    out.add('events', 'events_required', 'events must be a non-empty array');
    return out.issues;
  }
  if (events.length > MAX_EVENTS_PER_REQUEST) {
    out.add('events', 'batch_too_large', `a request holds at most ${MAX_EVENTS_PER_REQUEST} events`);
    return out.issues;
  }
  const now = options.now ?? Date.now();
  for (const [index, event] of events.entries()) checkEvent(event, `events[${index}].`, now, out);
  return out.issues;
}

/**
 * {@link validateEvent} for an event `buildEvent` just made, checking only what passed through from
 * the input. The builder itself set the fields (all known), the id and type (both checked on the
 * way in), the oppref (kept only when safe), a custom type's name (checked and normalized), the user
 * (from the field table's normalizers and rules) and, when `sourceUrlChecked`, the source URL (cut
 * to origin and path by its canonical-form match, an absolute URL by construction).
 *
 * @example
 * validateBuiltEvent(event, Date.now()); // []
 */
export function validateBuiltEvent(event: WireEvent, now: number, sourceUrlChecked = false): Issue[] {
  const out = new IssueList();
  checkEvent(event, '', now, out, sourceUrlChecked ? BUILT_WITH_SOURCE_URL : BUILT);
  return out.issues;
}

// What checkEvent can take as given for an event the builder made (see validateBuiltEvent).
type Built = { sourceUrl: boolean } | undefined;
const BUILT = { sourceUrl: false };
const BUILT_WITH_SOURCE_URL = { sourceUrl: true };

function checkEvent(event: unknown, prefix: string, now: number, out: IssueList, built?: Built): void {
  if (!isPlainObject(event)) {
    out.add(prefix.slice(0, -1), 'not_object', 'an event must be a JSON object');
    return;
  }
  const type = event.type;
  const knownType =
    built !== undefined || (typeof type === 'string' && (EVENT_TYPES as readonly string[]).includes(type));
  if (built === undefined) {
    for (const key of Object.keys(event)) {
      if (!EVENT_FIELDS.has(key)) out.add(prefix + key, 'unknown_field', `${key} is not an event field`);
    }
    if (typeof event.id !== 'string' || event.id.length === 0) {
      out.add(`${prefix}id`, 'id_required', 'id must be a non-empty string');
    }
    if (!knownType) {
      out.add(`${prefix}type`, 'type_invalid', `type must be one of: ${EVENT_TYPES.join(', ')}`);
    }
  }

  const ts = event.timestamp_ms;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts)) {
    out.add(
      `${prefix}timestamp_ms`,
      'timestamp_not_integer',
      'timestamp_ms must be an integer of epoch milliseconds',
    );
  } else if (ts < now - MAX_EVENT_AGE_MS) {
    out.add(`${prefix}timestamp_ms`, 'timestamp_too_old', 'timestamp_ms is more than 7 days in the past');
  } else if (ts > now + MAX_FUTURE_SKEW_MS) {
    out.add(
      `${prefix}timestamp_ms`,
      'timestamp_in_future',
      'timestamp_ms is more than 10 minutes in the future',
    );
  }

  if (type === 'custom') {
    // The builder stores a custom name only once it has checked and normalized it.
    if (built === undefined) {
      const checked = checkCustomEventName(event.custom_event_name);
      if (!checked.ok) out.add(`${prefix}custom_event_name`, checked.code, checked.message);
    }
  } else if (event.custom_event_name !== undefined) {
    out.add(
      `${prefix}custom_event_name`,
      'custom_event_name_not_allowed',
      'custom_event_name is only allowed when type is custom',
    );
  }

  const actionSource = event.action_source;
  if (actionSource !== undefined && !(ACTION_SOURCES as readonly unknown[]).includes(actionSource)) {
    out.add(
      `${prefix}action_source`,
      'action_source_invalid',
      `action_source must be one of: ${ACTION_SOURCES.join(', ')}`,
    );
  }
  if (knownType && APP_EVENT_TYPES.includes(type as EventType) && actionSource !== 'mobile_app') {
    out.add(
      `${prefix}action_source`,
      'action_source_mobile_app_required',
      `${type} requires action_source mobile_app`,
    );
  }
  if (event.source_url !== undefined && !built?.sourceUrl && !isAbsoluteUrl(event.source_url)) {
    out.add(
      `${prefix}source_url`,
      'source_url_invalid',
      'source_url must be an absolute URL with a scheme and host',
    );
  } else if (actionSource === 'web' && event.source_url === undefined) {
    out.add(`${prefix}source_url`, 'source_url_required', 'source_url is required when action_source is web');
  }

  if (built === undefined && event.oppref !== undefined && !isSafeOpaqueRef(event.oppref)) {
    out.add(
      `${prefix}oppref`,
      'oppref_invalid',
      'oppref must be 1-2048 visible ASCII characters without ; , or "',
    );
  }
  if (event.opt_out !== undefined && typeof event.opt_out !== 'boolean') {
    out.add(`${prefix}opt_out`, 'opt_out_not_boolean', 'opt_out must be a boolean');
  }

  checkData(event.data, knownType ? (type as EventType) : undefined, prefix, out);
  if (event.user !== undefined && built === undefined) checkUser(event.user, `${prefix}user`, out);
}

function checkData(data: unknown, type: EventType | undefined, prefix: string, out: IssueList): void {
  const path = `${prefix}data`;
  if (!isPlainObject(data)) {
    out.add(path, 'data_required', 'data must be an object with a type');
    return;
  }
  const shape = type ? DATA_SHAPE_BY_EVENT[type] : undefined;
  if (shape && data.type !== shape) {
    out.add(`${path}.type`, 'data_type_mismatch', `data.type must be "${shape}" for ${type} events`);
  }
  const effectiveShape = shape ?? data.type;
  for (const key of Object.keys(data)) {
    if (effectiveShape === 'custom') continue;
    const allowed =
      DATA_FIELDS.has(key) &&
      !(key === 'contents' && effectiveShape === 'customer_action') &&
      !(key === 'plan_id' && effectiveShape !== 'plan_enrollment');
    if (!allowed) {
      out.add(
        `${path}.${key}`,
        'data_field_not_allowed',
        `data.${key} is not allowed on data.type "${String(effectiveShape)}"`,
      );
    }
  }
  checkMoney(data, path, true, out);
  if (data.plan_id !== undefined && typeof data.plan_id !== 'string') {
    out.add(`${path}.plan_id`, 'not_string', 'data.plan_id must be a string');
  }
  if (data.contents !== undefined) {
    if (!Array.isArray(data.contents)) {
      out.add(`${path}.contents`, 'contents_not_array', 'data.contents must be an array of items');
    } else {
      for (let index = 0; index < data.contents.length; index++)
        checkContent(data.contents[index], `${path}.contents[${index}]`, out);
    }
  }
}

function checkMoney(
  holder: Record<string, unknown>,
  path: string,
  currencyRequired: boolean,
  out: IssueList,
): void {
  if (holder.amount !== undefined && !Number.isSafeInteger(holder.amount)) {
    out.add(
      `${path}.amount`,
      'not_integer',
      `${path}.amount must be an integer in the currency's minor unit`,
    );
  }
  if (holder.currency !== undefined) {
    if (typeof holder.currency !== 'string' || !CURRENCY.test(holder.currency)) {
      out.add(
        `${path}.currency`,
        'currency_invalid',
        `${path}.currency must be a three-letter ISO 4217 code`,
      );
    }
  } else if (currencyRequired && holder.amount !== undefined) {
    out.add(
      `${path}.currency`,
      'currency_required',
      `${path}.currency is required when ${path}.amount is set`,
    );
  }
}

function checkContent(item: unknown, path: string, out: IssueList): void {
  if (!isPlainObject(item)) {
    out.add(path, 'not_object', 'a content item must be an object');
    return;
  }
  for (const key in item) {
    if (!Object.hasOwn(item, key)) continue;
    if (!CONTENT_FIELDS.has(key)) {
      out.add(`${path}.${key}`, 'data_field_not_allowed', `${key} is not a content item field`);
    } else if (CONTENT_STRINGS.has(key) && typeof item[key] !== 'string') {
      out.add(`${path}.${key}`, 'not_string', `${key} must be a string`);
    }
  }
  if (item.content_type === '')
    out.add(`${path}.content_type`, 'not_string', 'content_type must not be empty');
  if (item.quantity !== undefined && !Number.isSafeInteger(item.quantity)) {
    out.add(`${path}.quantity`, 'not_integer', 'quantity must be an integer');
  }
  checkMoney(item, path, false, out);
  if (item.variant_dict !== undefined) {
    const dict = item.variant_dict;
    if (!isPlainObject(dict) || Object.values(dict).some((v) => typeof v !== 'string')) {
      out.add(
        `${path}.variant_dict`,
        'variant_dict_invalid',
        'variant_dict must be an object of string values',
      );
    }
  }
}

function checkUser(user: unknown, path: string, out: IssueList): void {
  if (!isPlainObject(user)) {
    out.add(path, 'not_object', 'user must be an object');
    return;
  }
  for (const key of Object.keys(user)) {
    if (!USER_FIELDS.has(key))
      out.add(`${path}.${key}`, 'unknown_field', `${key} is not a field of the current user schema`);
  }
  for (const field of USER_LIST_FIELDS) {
    const rule = field.kind === 'hashed' ? `${field.wire} ${field.rule}` : field.rule;
    checkList(user[field.wire], `${path}.${field.wire}`, out, (value, at) => {
      if (!field.valid(value)) out.add(at, field.code, rule);
    });
  }
  if (user.ip_address !== undefined && !isIpAddress(user.ip_address)) {
    out.add(`${path}.ip_address`, 'ip_address_invalid', 'ip_address must be a valid IPv4 or IPv6 address');
  }
  if (
    user.user_agent !== undefined &&
    (typeof user.user_agent !== 'string' || user.user_agent.trim() === '')
  ) {
    out.add(`${path}.user_agent`, 'user_agent_invalid', 'user_agent must be a non-empty string');
  }
  if (user.obref !== undefined && !isSafeOpaqueRef(user.obref)) {
    out.add(
      `${path}.obref`,
      'obref_invalid',
      'obref must be 1-2048 visible ASCII characters without ; , or "',
    );
  }
  if (
    user.android_advertising_id !== undefined &&
    (typeof user.android_advertising_id !== 'string' || !UUID.test(user.android_advertising_id))
  ) {
    out.add(
      `${path}.android_advertising_id`,
      'android_advertising_id_invalid',
      'android_advertising_id must be a UUID',
    );
  }
}

function checkList(
  list: unknown,
  path: string,
  out: IssueList,
  each: (value: string, at: string) => void,
): void {
  if (list === undefined) return;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
    out.add(path, 'list_invalid', `${path.split('.').pop()} must be an array of strings`);
    return;
  }
  if (list.length > MAX_LIST_VALUES) {
    out.add(path, 'list_too_long', `the API keeps only the first ${MAX_LIST_VALUES} values of a list`);
  }
  for (const [index, value] of list.entries()) each(value, `${path}[${index}]`);
}
