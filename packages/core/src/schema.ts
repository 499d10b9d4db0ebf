// Wire format of OpenAI's Conversions API (POST /v1/events), current plural-list user schema.

/**
 * The twelve standard event names.
 *
 * @example
 * STANDARD_EVENT_TYPES.includes('order_created'); // true
 */
export const STANDARD_EVENT_TYPES = [
  'page_viewed',
  'contents_viewed',
  'items_added',
  'checkout_started',
  'order_created',
  'lead_created',
  'registration_completed',
  'appointment_scheduled',
  'subscription_created',
  'trial_started',
  'app_installed',
  'app_opened',
] as const;

/**
 * Every value of an event's `type`: the standard names plus `custom`.
 *
 * @example
 * EVENT_TYPES.length; // 13
 */
export const EVENT_TYPES = [...STANDARD_EVENT_TYPES, 'custom'] as const;

/** @example const t: StandardEventType = 'lead_created'; */
export type StandardEventType = (typeof STANDARD_EVENT_TYPES)[number];
/** @example const t: EventType = 'custom'; */
export type EventType = (typeof EVENT_TYPES)[number];

/** @example const shape: DataShape = 'contents'; */
export type DataShape = 'contents' | 'customer_action' | 'plan_enrollment' | 'custom';

/**
 * The `data.type` each event type requires.
 *
 * @example
 * DATA_SHAPE_BY_EVENT.order_created; // 'contents'
 */
export const DATA_SHAPE_BY_EVENT: Readonly<Record<EventType, DataShape>> = {
  page_viewed: 'contents',
  contents_viewed: 'contents',
  items_added: 'contents',
  checkout_started: 'contents',
  order_created: 'contents',
  lead_created: 'customer_action',
  registration_completed: 'customer_action',
  appointment_scheduled: 'customer_action',
  subscription_created: 'plan_enrollment',
  trial_started: 'plan_enrollment',
  app_installed: 'customer_action',
  app_opened: 'customer_action',
  custom: 'custom',
};

/**
 * Events that only a server can send and that must carry `action_source: 'mobile_app'`.
 *
 * @example
 * APP_EVENT_TYPES.includes('app_opened'); // true
 */
export const APP_EVENT_TYPES: readonly EventType[] = ['app_installed', 'app_opened'];

/**
 * Allowed `action_source` values.
 *
 * @example
 * ACTION_SOURCES.includes('offline'); // true
 */
export const ACTION_SOURCES = [
  'web',
  'mobile_app',
  'offline',
  'physical_store',
  'phone_call',
  'email',
  'other',
] as const;

/** @example const s: ActionSource = 'web'; */
export type ActionSource = (typeof ACTION_SOURCES)[number];

/** Maximum events in one request. @example MAX_EVENTS_PER_REQUEST; // 1000 */
export const MAX_EVENTS_PER_REQUEST = 1000;

/** Maximum values the API keeps per user list. @example MAX_LIST_VALUES; // 3 */
export const MAX_LIST_VALUES = 3;

/**
 * One item of `data.contents`.
 *
 * @example
 * const item: WireContent = { id: 'sku_1', quantity: 2, amount: 1999, currency: 'USD' };
 */
export interface WireContent {
  id?: string;
  group_id?: string;
  name?: string;
  content_type?: string;
  quantity?: number;
  amount?: number;
  currency?: string;
  variant_dict?: Record<string, string>;
}

/**
 * The event's `data` object. Extra keys are allowed only when `type` is `custom`.
 *
 * @example
 * const data: WireData = { type: 'contents', amount: 12999, currency: 'USD' };
 */
export interface WireData {
  type: DataShape;
  amount?: number;
  currency?: string;
  contents?: WireContent[];
  plan_id?: string;
  [customField: string]: unknown;
}

/**
 * Matching data of one event: hashed identifiers, raw geo, and browser signals.
 *
 * @example
 * const user: WireUser = { emails_sha256: ['6db6…'], countries: ['US'], ip_address: '203.0.113.7' };
 */
export interface WireUser {
  emails_sha256?: string[];
  phone_numbers_sha256?: string[];
  external_ids_sha256?: string[];
  first_names_sha256?: string[];
  last_names_sha256?: string[];
  cities?: string[];
  regions?: string[];
  postal_codes?: string[];
  countries?: string[];
  android_advertising_id?: string;
  obref?: string;
  ip_address?: string;
  user_agent?: string;
}

/**
 * One event of `events[]` exactly as it is sent.
 *
 * @example
 * const event: WireEvent = {
 *   id: 'order_1001', type: 'order_created', timestamp_ms: Date.now(), action_source: 'web',
 *   source_url: 'https://shop.example/checkout', data: { type: 'contents', amount: 12999, currency: 'USD' },
 * };
 */
export interface WireEvent {
  id: string;
  type: EventType;
  timestamp_ms: number;
  custom_event_name?: string;
  oppref?: string;
  source_url?: string;
  action_source?: ActionSource;
  user?: WireUser;
  opt_out?: boolean;
  data: WireData;
}

/**
 * The request body of `POST /v1/events`.
 *
 * @example
 * const body: WireEnvelope = { events: [event], validate_only: true };
 */
export interface WireEnvelope {
  events: WireEvent[];
  validate_only?: boolean;
  integration_source?: string;
}

/**
 * A problem found in an input or a wire event. `path` names the wire field (`data.amount`,
 * `user.phone_numbers_sha256[0]`, `events[3].id`); messages never repeat raw personal data.
 *
 * @example
 * const issue: Issue = { path: 'data.currency', code: 'currency_required', message: 'data.currency is required when data.amount is set' };
 */
export interface Issue {
  path: string;
  code: IssueCode;
  message: string;
}

/**
 * Every issue code the library reports.
 *
 * @example
 * const code: IssueCode = 'timestamp_too_old';
 */
export type IssueCode =
  | 'not_object'
  | 'unknown_field'
  | 'id_required'
  | 'type_invalid'
  | 'timestamp_not_integer'
  | 'timestamp_too_old'
  | 'timestamp_in_future'
  | 'custom_event_name_required'
  | 'custom_event_name_not_allowed'
  | 'custom_event_name_invalid'
  | 'custom_event_name_reserved'
  | 'action_source_invalid'
  | 'action_source_required'
  | 'action_source_mobile_app_required'
  | 'source_url_required'
  | 'source_url_invalid'
  | 'oppref_invalid'
  | 'opt_out_not_boolean'
  | 'data_required'
  | 'data_type_mismatch'
  | 'data_field_not_allowed'
  | 'not_integer'
  | 'not_string'
  | 'currency_required'
  | 'currency_invalid'
  | 'contents_not_array'
  | 'variant_dict_invalid'
  | 'hash_invalid'
  | 'list_invalid'
  | 'list_too_long'
  | 'postal_code_invalid'
  | 'country_invalid'
  | 'geo_too_long'
  | 'ip_address_invalid'
  | 'user_agent_invalid'
  | 'obref_invalid'
  | 'android_advertising_id_invalid'
  | 'email_invalid'
  | 'phone_invalid'
  | 'phone_extension'
  | 'phone_ambiguous'
  | 'events_required'
  | 'batch_too_large'
  | 'validate_only_not_boolean'
  | 'integration_source_invalid'
  | 'queue_full'
  | 'event_too_large'
  | 'outbox_error'
  | 'closed'
  | 'not_serializable'
  | 'context_invalid'
  | 'data_invalid'
  | 'id_invalid'
  | 'pixel_field_dropped';
