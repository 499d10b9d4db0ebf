import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { IssueCode } from './schema.js';

/**
 * The outcome of normalizing one identifier: the value to hash, nothing at all (`dropped`, an empty
 * value), or a refusal whose message names the rule but never the raw value.
 *
 * @example
 * const r: Normalized = { ok: true, value: 'alex@example.com' };
 */
export type Normalized =
  | { ok: true; value: string }
  | { ok: false; dropped: true }
  | { ok: false; dropped?: false; code: IssueCode; message: string };

const DROPPED = { ok: false, dropped: true } as const;

/**
 * Email: trim, then lowercase. Dots and `+tags` stay.
 *
 * @example
 * normalizeEmail(' Alex@Example.com '); // { ok: true, value: 'alex@example.com' }
 */
export function normalizeEmail(raw: string): Normalized {
  const value = raw.trim().toLowerCase();
  if (value === '') return DROPPED;
  if (!/^[^\s@]+@[^\s@]+$/.test(value)) {
    return { ok: false, code: 'email_invalid', message: 'email must look like local@domain' };
  }
  return { ok: true, value };
}

/**
 * External id: trim only; case and every other character are kept.
 *
 * @example
 * normalizeExternalId('  CRM-00042 '); // { ok: true, value: 'CRM-00042' }
 */
export function normalizeExternalId(raw: string): Normalized {
  const value = raw.trim();
  return value === '' ? DROPPED : { ok: true, value };
}

// ASCII punctuation is !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~ ; non-ASCII letters stay as they are.
const NAME_STRIP = /[\s!-/:-@[-`{-~]/gu;

/**
 * First or last name: lowercase, then remove whitespace and ASCII punctuation. Accents stay.
 *
 * @example
 * normalizeName("O'Connor"); // { ok: true, value: 'oconnor' }
 */
export function normalizeName(raw: string): Normalized {
  const value = raw.toLowerCase().replace(NAME_STRIP, '');
  return value === '' ? DROPPED : { ok: true, value };
}

const EXTENSION = /(?:e?xt(?:ension)?\.?|x|#|;ext=)\s*\d+\s*$/i;

/**
 * Options of {@link normalizePhone}.
 *
 * @example
 * normalizePhone('(415) 555-2671', { defaultCountry: 'US' });
 */
export interface PhoneOptions {
  /** ISO 3166-1 alpha-2 country used to read numbers written without their country code. */
  defaultCountry?: string;
}

/**
 * Phone: parsed with libphonenumber-js and normalized to the E.164 digits without `+`
 * (8–15 digits). A number starting with `+` or `00` is international; otherwise it is read as a
 * national number of `defaultCountry`; without one it is accepted only if `+<digits>` is a possible
 * number. Extensions are refused, never stripped.
 *
 * @example
 * normalizePhone('+1 (415) 555-2671');                         // { ok: true, value: '14155552671' }
 * normalizePhone('020 7946 0958', { defaultCountry: 'GB' });  // { ok: true, value: '442079460958' }
 */
export function normalizePhone(raw: string, options: PhoneOptions = {}): Normalized {
  if (typeof raw !== 'string') return { ok: false, code: 'phone_invalid', message: 'phone must be a string' };
  const text = raw.trim();
  if (text === '') return DROPPED;
  if (EXTENSION.test(text)) {
    return { ok: false, code: 'phone_extension', message: 'phone numbers with an extension are refused' };
  }
  const compact = text.replace(/[\s().-]/g, '');
  const digitCount = compact.replace(/\D/g, '').length;
  let parsed: ReturnType<typeof parsePhoneNumberFromString>;
  if (/^\+?00/.test(compact)) {
    // 00 is the international prefix, also when written after a + ("+00 44 …", "+0044 …").
    parsed = parsePhoneNumberFromString(`+${compact.replace(/^\+?00/, '')}`);
  } else if (compact.startsWith('+')) {
    parsed = parsePhoneNumberFromString(compact);
  } else if (options.defaultCountry) {
    parsed = parsePhoneNumberFromString(compact, options.defaultCountry.toUpperCase() as CountryCode);
  } else {
    parsed = parsePhoneNumberFromString(`+${compact}`);
    if (!parsed?.isPossible() && digitCount >= 8) {
      return {
        ok: false,
        code: 'phone_ambiguous',
        message: 'phone has no country calling code; set defaultCountry to read national numbers',
      };
    }
  }
  if (!parsed?.isPossible()) {
    return { ok: false, code: 'phone_invalid', message: 'phone is not a possible phone number' };
  }
  if (parsed.ext) {
    return { ok: false, code: 'phone_extension', message: 'phone numbers with an extension are refused' };
  }
  const value = parsed.number.slice(1);
  if (!/^[0-9]{8,15}$/.test(value)) {
    return { ok: false, code: 'phone_invalid', message: 'phone must have 8-15 digits with its country code' };
  }
  return { ok: true, value };
}
