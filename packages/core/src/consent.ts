/**
 * A visitor's consent to ad measurement, as far as the request tells.
 *
 * @example
 * const state: ConsentState = 'granted';
 */
export type ConsentState = 'granted' | 'denied' | 'unknown';

/**
 * `opt-in` (default, EU/UK style) sends only on `granted`; `opt-out` sends unless `denied`.
 *
 * @example
 * const mode: ConsentMode = 'opt-out';
 */
export type ConsentMode = 'opt-in' | 'opt-out';

/** The consent modes, as options accept them. @example CONSENT_MODES; // ['opt-in', 'opt-out'] */
export const CONSENT_MODES: readonly ConsentMode[] = ['opt-in', 'opt-out'];

/**
 * A resolved consent state and the source that decided it (`app`, `__oaiq_consent`, `gpc`, …).
 *
 * @example
 * const decision: ConsentDecision = { state: 'denied', source: 'gpc' };
 */
export interface ConsentDecision {
  state: ConsentState;
  source: string;
}

/**
 * What a consent resolver may look at: the request's cookies (raw values) and headers.
 *
 * @example
 * const signals: ConsentSignals = { cookie: () => undefined, header: (n) => (n === 'sec-gpc' ? '1' : undefined) };
 */
export interface ConsentSignals {
  /** Raw (not URL-decoded) value of a cookie, or `undefined`. */
  cookie(name: string): string | undefined;
  /** A request header by lower-case name, or `undefined`. */
  header(name: string): string | undefined;
}

/**
 * Reads one consent signal. Returns `undefined` (or `'unknown'`) when its signal is absent, so the
 * next resolver in the list is asked.
 *
 * @example
 * const fromSession: ConsentResolver = (signals) => (signals.cookie('my_consent') === 'yes' ? 'granted' : undefined);
 */
export type ConsentResolver = (signals: ConsentSignals) => ConsentState | ConsentDecision | undefined;

/**
 * Asks each resolver in order; the first `granted` or `denied` decides. Without any signal the
 * state is `unknown` with source `none`.
 *
 * @example
 * resolveConsent(signals, [pixelConsentCookie(), globalPrivacyControl()]); // { state: 'denied', source: 'gpc' }
 */
export function resolveConsent(
  signals: ConsentSignals,
  resolvers: readonly ConsentResolver[],
): ConsentDecision {
  for (let index = 0; index < resolvers.length; index++) {
    const resolver = resolvers[index]!;
    let answer: ReturnType<ConsentResolver>;
    try {
      answer = resolver(signals);
    } catch {
      // A resolver that cannot read its signal has no signal; consent is never decided by a crash.
      continue;
    }
    const decision = toDecision(answer, resolver.name || `resolver#${index}`);
    if (decision && decision.state !== 'unknown') return decision;
  }
  return { state: 'unknown', source: 'none' };
}

/**
 * Whether an event may be built and sent (and a cookie written) under `mode`.
 *
 * @example
 * consentAllows('opt-in', 'unknown');  // false
 * consentAllows('opt-out', 'unknown'); // true
 */
export function consentAllows(mode: ConsentMode, state: ConsentState): boolean {
  // Fails closed: only an exact 'opt-out' relaxes the rule, and only a known state passes it.
  return mode === 'opt-out' ? state === 'granted' || state === 'unknown' : state === 'granted';
}

/**
 * Turns a state or decision given by the app into a decision (`undefined` → unknown).
 *
 * @example
 * toConsentDecision('granted'); // { state: 'granted', source: 'app' }
 */
export function toConsentDecision(
  value: ConsentState | ConsentDecision | undefined,
  source = 'app',
): ConsentDecision {
  return toDecision(value, source) ?? { state: 'unknown', source: 'none' };
}

function toDecision(
  value: ConsentState | ConsentDecision | undefined,
  source: string,
): ConsentDecision | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return isConsentState(value) ? { state: value, source } : undefined;
  // A decision object from outside (an app, a resolver) is trusted only with a known state.
  if (typeof value !== 'object' || value === null || !isConsentState(value.state)) return undefined;
  // A frozen, well-formed decision (the built-in resolvers' own) cannot change under us: kept as it is.
  if (Object.isFrozen(value) && typeof value.source === 'string') return value;
  return { state: value.state, source: typeof value.source === 'string' ? value.source : source };
}

function isConsentState(value: unknown): value is ConsentState {
  return value === 'granted' || value === 'denied' || value === 'unknown';
}

/**
 * The app's own answer, asked first: a fixed state or a function of the request signals.
 *
 * @example
 * appConsent((signals) => (signals.cookie('site_consent') === 'all' ? 'granted' : undefined));
 */
export function appConsent(
  answer: ConsentState | ((signals: ConsentSignals) => ConsentState | undefined),
): ConsentResolver {
  const app: ConsentResolver = (signals) =>
    appDecision(typeof answer === 'function' ? answer(signals) : answer);
  return app;
}

/**
 * The app's own answer as a decision. Unlike a cookie, which may be malformed by anyone, the app's
 * answer is code: a value that is not a consent state ('DENIED', false, 'no') is read as a denial
 * (source `app:invalid`), never as no answer, so a typo cannot send under opt-out.
 *
 * @example
 * appDecision('granted'); // { state: 'granted', source: 'app' }
 * appDecision('no');      // { state: 'denied', source: 'app:invalid' }
 */
export function appDecision(value: unknown): ConsentDecision | undefined {
  if (value === undefined || value === null) return undefined;
  if (isConsentState(value)) return { state: value, source: 'app' };
  if (typeof value === 'object' && isConsentState((value as ConsentDecision).state)) {
    const decision = value as ConsentDecision;
    return { state: decision.state, source: typeof decision.source === 'string' ? decision.source : 'app' };
  }
  return { state: 'denied', source: 'app:invalid' };
}

/**
 * The OpenAI pixel's own `__oaiq_consent` cookie (`true` / `false`).
 *
 * @example
 * pixelConsentCookie()({ cookie: () => 'false', header: () => undefined }); // { state: 'denied', source: '__oaiq_consent' }
 */
export function pixelConsentCookie(name = '__oaiq_consent'): ConsentResolver {
  // Asked on every request: the two answers are made once.
  const granted = Object.freeze({ state: 'granted', source: name } as const);
  const denied = Object.freeze({ state: 'denied', source: name } as const);
  return (signals) => {
    const value = signals.cookie(name);
    if (value === 'true') return granted;
    if (value === 'false') return denied;
    return undefined;
  };
}

/**
 * Global Privacy Control: a `Sec-GPC: 1` header is a denial; its absence says nothing.
 *
 * @example
 * globalPrivacyControl()({ cookie: () => undefined, header: () => '1' }); // { state: 'denied', source: 'gpc' }
 */
export function globalPrivacyControl(): ConsentResolver {
  const denied = Object.freeze({ state: 'denied', source: 'gpc' } as const);
  return (signals) => (signals.header('sec-gpc')?.trim() === '1' ? denied : undefined);
}

/**
 * The resolvers used when none are configured: the pixel's consent cookie, then GPC.
 *
 * @example
 * resolveConsent(signals, defaultConsentResolvers());
 */
export function defaultConsentResolvers(): ConsentResolver[] {
  return [pixelConsentCookie(), globalPrivacyControl()];
}

/**
 * OneTrust's `OptanonConsent` cookie: the `groups` entry (`C0001:1,C0004:0,…`) decides, by the
 * group that means targeting/advertising on your site (default `C0004`). Tolerates a cookie whose
 * whole value was URL-encoded once more.
 *
 * @example
 * oneTrustConsent({ group: 'C0004' }); // source 'onetrust:C0004'
 */
export function oneTrustConsent(options: { group?: string; cookie?: string } = {}): ConsentResolver {
  const group = options.group ?? 'C0004';
  const source = `onetrust:${group}`;
  return (signals) => {
    let raw = signals.cookie(options.cookie ?? 'OptanonConsent');
    if (!raw) return undefined;
    if (!raw.includes('=') && raw.includes('%3D')) raw = safeDecode(raw);
    const groups = new URLSearchParams(raw).get('groups');
    if (!groups) return undefined;
    for (const entry of groups.split(',')) {
      const [id, flag] = entry.split(':');
      if (id?.trim() === group) {
        if (flag?.trim() === '1') return { state: 'granted', source };
        if (flag?.trim() === '0') return { state: 'denied', source };
      }
    }
    return undefined;
  };
}

/**
 * Cookiebot's `CookieConsent` cookie (a URL-encoded JavaScript object literal): the `marketing`
 * category decides. `-1` (no consent needed in the visitor's region) says nothing.
 *
 * @example
 * cookiebotConsent(); // source 'cookiebot:marketing'
 */
export function cookiebotConsent(options: { category?: string; cookie?: string } = {}): ConsentResolver {
  const category = options.category ?? 'marketing';
  const pattern = new RegExp(`(?:^|[{,])\\s*${category.replace(/\W/g, '')}\\s*:\\s*(true|false)\\b`);
  const source = `cookiebot:${category}`;
  return (signals) => {
    const raw = signals.cookie(options.cookie ?? 'CookieConsent');
    if (!raw || raw === '-1') return undefined;
    const match = pattern.exec(safeDecode(raw));
    if (!match) return undefined;
    return { state: match[1] === 'true' ? 'granted' : 'denied', source };
  };
}

/** Default cookie written by {@link renderConsentModeMirror}. @example GCM_MIRROR_COOKIE; // '__gcm_ads' */
export const GCM_MIRROR_COOKIE = '__gcm_ads';

/**
 * Google Consent Mode, as mirrored into a first-party cookie by {@link renderConsentModeMirror}
 * (`granted` when both `ad_storage` and `ad_user_data` are granted, `denied` when either is denied).
 *
 * @example
 * googleConsentMode(); // source 'google-consent-mode'
 */
export function googleConsentMode(options: { cookie?: string } = {}): ConsentResolver {
  return (signals) => {
    const value = signals.cookie(options.cookie ?? GCM_MIRROR_COOKIE);
    if (value === 'granted' || value === 'denied') return { state: value, source: 'google-consent-mode' };
    return undefined;
  };
}

/**
 * A small inline script that copies Google Consent Mode's `ad_storage` and `ad_user_data` into a
 * first-party cookie the server can read. Put it before the Google tag or GTM snippet.
 *
 * @example
 * html += renderConsentModeMirror({ nonce: res.locals.cspNonce });
 */
export function renderConsentModeMirror(options: { nonce?: string; cookie?: string } = {}): string {
  const name = JSON.stringify(options.cookie ?? GCM_MIRROR_COOKIE).replace(/</g, '\\u003c');
  const nonce = options.nonce ? ` nonce="${options.nonce.replace(/[^A-Za-z0-9+/=_-]/g, '')}"` : '';
  return (
    `<script${nonce}>(function(w,d,n){var s={};function save(v){d.cookie=n+"="+v+"; Path=/; Max-Age=31536000; SameSite=Lax"+` +
    `(location.protocol==="https:"?"; Secure":"")}function see(a){if(!a||a[0]!=="consent"||!a[2]||typeof a[2]!=="object")return;` +
    `var p=a[2];if(p.ad_storage)s.ad_storage=p.ad_storage;if(p.ad_user_data)s.ad_user_data=p.ad_user_data;` +
    `if(s.ad_storage==="denied"||s.ad_user_data==="denied")save("denied");` +
    `else if(s.ad_storage==="granted"&&s.ad_user_data==="granted")save("granted")}` +
    `var l=w.dataLayer=w.dataLayer||[];for(var i=0;i<l.length;i++)see(l[i]);var push=l.push;` +
    `l.push=function(){for(var j=0;j<arguments.length;j++)see(arguments[j]);return push.apply(l,arguments)}})(window,document,${name});</script>`
  );
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
