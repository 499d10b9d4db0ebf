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
  for (const [index, resolver] of resolvers.entries()) {
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
  return mode === 'opt-in' ? state === 'granted' : state !== 'denied';
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
  if (typeof value === 'string') {
    return value === 'granted' || value === 'denied' || value === 'unknown'
      ? { state: value, source }
      : undefined;
  }
  return value;
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
  const app: ConsentResolver = (signals) => {
    const state = typeof answer === 'function' ? answer(signals) : answer;
    return state === undefined ? undefined : { state, source: 'app' };
  };
  return app;
}

/**
 * The OpenAI pixel's own `__oaiq_consent` cookie (`true` / `false`).
 *
 * @example
 * pixelConsentCookie()({ cookie: () => 'false', header: () => undefined }); // { state: 'denied', source: '__oaiq_consent' }
 */
export function pixelConsentCookie(name = '__oaiq_consent'): ConsentResolver {
  return (signals) => {
    const value = signals.cookie(name);
    if (value === 'true') return { state: 'granted', source: name };
    if (value === 'false') return { state: 'denied', source: name };
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
  return (signals) =>
    signals.header('sec-gpc')?.trim() === '1' ? { state: 'denied', source: 'gpc' } : undefined;
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
