import {
  type CountryCode,
  getCountries,
  getCountryCallingCode,
  Metadata,
  parsePhoneNumberFromString,
} from 'libphonenumber-js';
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
  const compact = text.replace(/[\s().-]/g, '');
  // Most numbers arrive written internationally: those whose reading is certain skip the parser.
  const international = /^(?:\+|\+?00)([1-9]\d{7,14})$/.exec(compact);
  const fast = international ? certainE164(international[1]!) : undefined;
  return fast ? { ok: true, value: fast } : parsePhone(text, compact, options);
}

/**
 * {@link normalizePhone} through libphonenumber for every input: the reference the fast path is
 * tested against (and the path every number the fast path is unsure of takes).
 *
 * @example
 * parsePhoneFully('+44 (0)20 7946 0958'); // { ok: true, value: '442079460958' }
 */
export function parsePhoneFully(raw: string, options: PhoneOptions = {}): Normalized {
  if (typeof raw !== 'string') return { ok: false, code: 'phone_invalid', message: 'phone must be a string' };
  const text = raw.trim();
  if (text === '') return DROPPED;
  return parsePhone(text, text.replace(/[\s().-]/g, ''), options);
}

function parsePhone(text: string, compact: string, options: PhoneOptions): Normalized {
  if (EXTENSION.test(text)) {
    return { ok: false, code: 'phone_extension', message: 'phone numbers with an extension are refused' };
  }
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

// A branch that is one group of fixed-width digit atoms anchored at the end: "(5\d{6})$", "([2-9]\d{6})$".
const WHOLE_NUMBER = /^\(((?:\[[\d-]+\]|\\d(?:\{\d+\})?|\d)+)\)\$$/;
const DIGIT_ATOM = /\[[\d-]+\]|\\d(?:\{(\d+)\})?|\d/g;

// For each calling code, what makes an international number's reading certain without the parser:
// its national part has a length every country sharing the code accepts, and no country's national
// prefix could be stripped from its front (libphonenumber would strip "0" from "+44 0 20…").
// Per accepted length, the pattern of those prefixes (null: none can match a number that long).
// Non-geographic codes (+800, +881, …) have no countries here and always take the parser.
const FAST_PLANS: ReadonlyMap<string, ReadonlyMap<number, RegExp | null>> = (() => {
  const byCode = new Map<string, CountryCode[]>();
  for (const country of getCountries()) {
    const code = getCountryCallingCode(country);
    byCode.set(code, [...(byCode.get(code) ?? []), country]);
  }
  const plans = new Map<string, ReadonlyMap<number, RegExp | null>>();
  for (const [code, countries] of byCode) {
    let lengths: Set<number> | undefined;
    const prefixes = new Set<string>();
    for (const country of countries) {
      const metadata = new Metadata();
      metadata.selectNumberingPlan(country);
      const plan = metadata.numberingPlan as
        | { possibleLengths(): number[]; nationalPrefixForParsing?(): string | undefined }
        | undefined;
      if (!plan) continue;
      const own = new Set(plan.possibleLengths());
      lengths = lengths ? new Set([...lengths].filter((length) => own.has(length))) : own;
      const prefix = plan.nationalPrefixForParsing?.();
      if (prefix) prefixes.add(prefix);
    }
    if (!lengths || lengths.size === 0) continue;
    plans.set(code, new Map([...lengths].map((length) => [length, prefixPattern(prefixes, length)])));
  }
  return plans;
})();

/**
 * @internal The national prefixes (libphonenumber's patterns) of a calling code that can match a
 * national number of `length` digits, as one anchored pattern, or null when none can. A branch
 * such as `([457]\d{6})$` (the seven-digit local numbers some +1 countries complete with their
 * area code) matches only a whole number of its own length, so a ten-digit +1 number is tested
 * against "1" alone instead of the twelve seven-digit branches of the countries sharing +1 (half a
 * µs per phone).
 *
 * @example
 * prefixPattern(['([457]\\d{6})$|1', '([2-9]\\d{6})$|1'], 10); // /^(?:(?:1))/
 */
export function prefixPattern(prefixes: Iterable<string>, length: number): RegExp | null {
  const branches = new Set([...prefixes].flatMap(topLevelBranches));
  const kept = [...branches].filter((branch) => {
    const whole = wholeNumberLength(branch);
    return whole === undefined || whole === length;
  });
  return kept.length > 0 ? new RegExp(`^(?:${kept.map((branch) => `(?:${branch})`).join('|')})`) : null;
}

// The only length a branch can match, when it is a whole-number branch; undefined for any other.
function wholeNumberLength(branch: string): number | undefined {
  const whole = WHOLE_NUMBER.exec(branch);
  if (!whole) return undefined;
  let length = 0;
  for (const atom of whole[1]!.matchAll(DIGIT_ATOM)) length += atom[1] ? Number(atom[1]) : 1;
  return length;
}

// A pattern's alternatives at its top level (not inside a group or a character class).
function topLevelBranches(pattern: string): string[] {
  const branches: string[] = [];
  let depth = 0;
  let inClass = false;
  let start = 0;
  for (let at = 0; at < pattern.length; at++) {
    const char = pattern[at];
    if (char === '\\') at++;
    else if (inClass) inClass = char !== ']';
    else if (char === '[') inClass = true;
    else if (char === '(') depth++;
    else if (char === ')') depth--;
    else if (char === '|' && depth === 0) {
      branches.push(pattern.slice(start, at));
      start = at + 1;
    }
  }
  branches.push(pattern.slice(start));
  return branches;
}

/**
 * The E.164 digits of a number written with its calling code, when no parsing could read it
 * otherwise; `undefined` sends it to the parser.
 *
 * @example
 * certainE164('14155552671'); // '14155552671'
 * certainE164('4402079460958'); // undefined: the 0 after +44 is a national prefix
 */
export function certainE164(digits: string): string | undefined {
  // Calling codes are prefix-free: at most one of the first one, two or three digits is one.
  for (let length = 1; length <= 3; length++) {
    const plan = FAST_PLANS.get(digits.slice(0, length));
    if (!plan) continue;
    const national = digits.slice(length);
    const prefix = plan.get(national.length);
    if (prefix === undefined || prefix?.test(national)) return undefined;
    return digits;
  }
  return undefined;
}
