// '@chatgpt-ads/core/wire': the Conversions API's wire format and its rules, for tools that work
// on events rather than on conversions (the sandbox validates with these, the CLI sends with them).
export {
  USER_LIST_FIELDS,
  USER_SCALAR_FIELDS,
  type UserListField,
  type UserListInputName,
  type UserListWireName,
} from './fields.js';
export { dedupKey } from './intake.js';
export {
  backoffMs,
  type DecisionState,
  decide,
  isStale,
  type RetryDecision,
  type RetryPolicy,
  STALE_MARGIN_MS,
} from './retry-policy.js';
export {
  ACTION_SOURCES,
  APP_EVENT_TYPES,
  DATA_SHAPE_BY_EVENT,
  type DataShape,
  EVENT_TYPES,
  MAX_EVENTS_PER_REQUEST,
  MAX_LIST_VALUES,
  STANDARD_EVENT_TYPES,
} from './schema.js';
export {
  MAX_RETRY_AFTER_MS,
  type PostRequest,
  postEvents,
  type SendOutcome,
} from './transport.js';
export {
  checkCustomEventName,
  checkIntegrationSource,
  isSha256Hex,
  MAX_EVENT_AGE_MS,
  MAX_FUTURE_SKEW_MS,
  type ValidateOptions,
  validateEnvelope,
  validateEvent,
} from './validate.js';
