// The public surface of @chatgpt-ads/core, listed name by name: what an app or an adapter uses.
// Wire-level tools (the validator, schema constants, the dedup key, postEvents, the retry policy)
// are on '@chatgpt-ads/core/wire'; Node helpers on '@chatgpt-ads/core/node'; the TCF reader on
// '@chatgpt-ads/core/tcf'.
export { type AdapterOptions, adapterClient } from './adapter.js';
export {
  type BuildOptions,
  type BuildResult,
  buildEvent,
  type ContentInput,
  type ConversionInput,
  createEventId,
  type DataInput,
  type UserInput,
} from './build.js';
export { type Conversions, createConversions } from './client.js';
export {
  type ConversionHooks,
  type ConversionsOptions,
  DEFAULT_ENDPOINT,
  type HaltInfo,
  type Logger,
} from './config.js';
export {
  appConsent,
  type ConsentDecision,
  type ConsentMode,
  type ConsentResolver,
  type ConsentSignals,
  type ConsentState,
  consentAllows,
  cookiebotConsent,
  defaultConsentResolvers,
  GCM_MIRROR_COOKIE,
  globalPrivacyControl,
  googleConsentMode,
  oneTrustConsent,
  pixelConsentCookie,
  renderConsentModeMirror,
  resolveConsent,
} from './consent.js';
export {
  type CaptureOptions,
  type CookieAttributes,
  captureOppref,
  OBREF_COOKIE,
  OPPREF_COOKIE,
  OPPREF_MAX_AGE_SECONDS,
  type OpprefCapture,
  parseCookieHeader,
  readOpprefFromUrl,
} from './cookies.js';
export { defaultSha256, type HashFunction, sha256Hex } from './hash.js';
export type { TrackOptions, TrackResult } from './intake.js';
export type { ConversionStats } from './ledger.js';
export { currencyExponent, fromMinorUnits, MoneyError, toMinorUnits } from './money.js';
export {
  type Normalized,
  normalizeEmail,
  normalizeExternalId,
  normalizeName,
  normalizePhone,
  type PhoneOptions,
} from './normalize.js';
export {
  ConversionsConfigError,
  checkConversionsOptions,
  checkKeys,
  checkRequestOptions,
  ENVIRONMENT,
  isLoopbackHost,
  type OptionCheck,
  oneOf,
  optionChecks,
  optionsFromEnvironment,
  splitOptions,
  withEnvironment,
} from './options.js';
export {
  type AppendOptions,
  type DeadLetter,
  type DeadLetterReason,
  MemoryOutbox,
  type MemoryOutboxOptions,
  type Outbox,
  type OutboxRecord,
} from './outbox.js';
export {
  PIXEL_SCRIPT_URL,
  PixelEventError,
  type PixelOptions,
  renderPixel,
  renderPixelCode,
} from './pixel.js';
export {
  carriesClickRef,
  fromWebRequest,
  type IncomingRequest,
  pageUrl,
  type RequestContext,
  type RequestOptions,
  type RequestReading,
  readRequest,
  type ServedRequest,
} from './request.js';
export type {
  ActionSource,
  EventType,
  Issue,
  IssueCode,
  StandardEventType,
  WireContent,
  WireData,
  WireEnvelope,
  WireEvent,
  WireUser,
} from './schema.js';
export type { ForRequestOptions, PixelEventInput, RequestConversions } from './views.js';
