// IAB TCF v2.2, as a separate entry point (`@chatgpt-ads/core/tcf`): only sites that use it need the
// optional peer dependency `@iabtechlabtcf/core`.
import { TCString } from '@iabtechlabtcf/core';
import type { ConsentResolver } from './consent.js';

/**
 * Options of {@link tcfConsent}.
 *
 * @example
 * tcfConsent({ purposes: [1, 7], vendorId: 1234 });
 */
export interface TcfOptions {
  /** Cookie holding the TC string. Default `euconsent-v2`. */
  cookie?: string;
  /** Purposes that need consent: storage/access (1) and ad measurement (7) by default. */
  purposes?: readonly number[];
  /** When set, this vendor (your or OpenAI's GVL id) needs consent too. */
  vendorId?: number;
}

/**
 * Reads the IAB TCF v2.2 TC string from the `euconsent-v2` cookie: granted only when every needed
 * purpose (and the vendor, if configured) has consent; denied otherwise; a missing or malformed
 * string says nothing (never a crash).
 *
 * @example
 * import { tcfConsent } from '@chatgpt-ads/core/tcf';
 * createConversions({ pixelId, apiKey, consent: { resolvers: [tcfConsent(), pixelConsentCookie(), globalPrivacyControl()] } });
 */
export function tcfConsent(options: TcfOptions = {}): ConsentResolver {
  const purposes = options.purposes ?? [1, 7];
  return (signals) => {
    const raw = signals.cookie(options.cookie ?? 'euconsent-v2');
    if (!raw) return undefined;
    let model: ReturnType<typeof TCString.decode>;
    try {
      model = TCString.decode(raw.includes('%') ? decodeURIComponent(raw) : raw);
    } catch {
      return undefined;
    }
    const missing = purposes.find((purpose) => !model.purposeConsents.has(purpose));
    if (missing !== undefined) return { state: 'denied', source: `tcf:purpose-${missing}` };
    if (options.vendorId !== undefined && !model.vendorConsents.has(options.vendorId)) {
      return { state: 'denied', source: `tcf:vendor-${options.vendorId}` };
    }
    return { state: 'granted', source: 'tcf' };
  };
}
