import fc from 'fast-check';
import { getCountries, getCountryCallingCode, Metadata } from 'libphonenumber-js';
import { describe, expect, it } from 'vitest';
import { certainE164, normalizePhone, parsePhoneFully, prefixPattern } from '../src/normalize.js';
import golden from './golden-vectors.json';

// Numbers written with their calling code skip libphonenumber when their reading is certain. Here
// the fast path is held to the full parse: the same answer for every input, or the test fails.
const CALLING_CODES = [
  ...new Set([
    ...getCountries().map((country) => getCountryCallingCode(country)),
    '800',
    '808',
    '870',
    '881',
    '882',
    '883',
    '888',
    '979',
  ]),
];
const PREFIXES = ['+', '00', '+00', '+ ', '00 '];

describe('the phone fast path', () => {
  it('reads every international number exactly as libphonenumber does (property test)', () => {
    const digits = (min: number, max: number) =>
      fc.array(fc.constantFrom(...'0123456789'), { minLength: min, maxLength: max }).map((d) => d.join(''));
    const written = fc
      .record({
        prefix: fc.constantFrom(...PREFIXES),
        code: fc.constantFrom(...CALLING_CODES),
        national: digits(0, 15),
        separator: fc.constantFrom('', ' ', '-', '.'),
        parens: fc.boolean(),
      })
      .map(({ prefix, code, national, separator, parens }) => {
        const head = national.slice(0, 3);
        const rest = national.slice(3).replace(/(\d{3})(?=\d)/g, `$1${separator}`);
        return `${prefix}${code}${separator}${parens && head ? `(${head})` : head}${separator}${rest}`;
      });
    fc.assert(
      fc.property(written, (phone) => {
        expect(normalizePhone(phone)).toEqual(parsePhoneFully(phone));
        expect(normalizePhone(phone, { defaultCountry: 'US' })).toEqual(
          parsePhoneFully(phone, { defaultCountry: 'US' }),
        );
      }),
      { numRuns: 20_000 },
    );
  });

  it('agrees with libphonenumber on every calling code and national length, including national prefixes', () => {
    for (const code of CALLING_CODES)
      for (let length = 4; length <= 14; length++)
        for (const first of '0123456789') {
          const phone = `+${code}${first}${'5'.repeat(length - 1)}`;
          expect(normalizePhone(phone), phone).toEqual(parsePhoneFully(phone));
        }
  });

  it('tests a number only against the national prefixes that can match its length (property test)', () => {
    // Every country's own pattern, as libphonenumber strips it, against the pattern kept for a length.
    const patterns = [
      ...new Set(
        getCountries().flatMap((country) => {
          const metadata = new Metadata();
          metadata.selectNumberingPlan(country);
          const prefix = (
            metadata.numberingPlan as { nationalPrefixForParsing?(): string } | undefined
          )?.nationalPrefixForParsing?.();
          return prefix ? [prefix] : [];
        }),
      ),
    ];
    const national = fc.array(fc.constantFrom(...'0123456789'), { minLength: 4, maxLength: 17 });
    fc.assert(
      fc.property(fc.constantFrom(...patterns), national, (pattern, digits) => {
        const number = digits.join('');
        const full = new RegExp(`^(?:${pattern})`).test(number);
        const kept = prefixPattern([pattern], number.length);
        expect(kept?.test(number) ?? false, `${pattern} on ${number}`).toBe(full);
      }),
      { numRuns: 50_000 },
    );
    expect(prefixPattern(['([457]\\d{6})$|1', '([2-9]\\d{6})$|1'], 10)?.source).toBe('^(?:(?:1))');
    expect(prefixPattern(['([24-9]\\d{6})$'], 9)).toBeNull();
    expect(prefixPattern(['([24-9]\\d{6})$'], 7)?.test('2345678')).toBe(true);
  });

  it('agrees on the golden vectors', () => {
    const phones = (
      golden as { vectors: Array<{ field: string; raw: string; defaultCountry?: string }> }
    ).vectors.filter((vector) => vector.field === 'phone');
    expect(phones.length).toBeGreaterThan(5);
    for (const vector of phones) {
      const options = vector.defaultCountry ? { defaultCountry: vector.defaultCountry } : {};
      expect(normalizePhone(vector.raw, options), vector.raw).toEqual(parsePhoneFully(vector.raw, options));
    }
  });

  it('takes the fast path for everyday international numbers', () => {
    for (const digits of [
      '14155552671',
      '4915123456789',
      '33612345678',
      '447911123456',
      '61412345678',
      '918123456789',
    ])
      expect(certainE164(digits), digits).toBe(digits);
  });

  it('keeps the parser for the numbers it must read: a national prefix after the code, or no code at all', () => {
    expect(normalizePhone('+44 (0)20 7946 0958')).toEqual({ ok: true, value: '442079460958' });
    expect(normalizePhone('(415) 555-2671', { defaultCountry: 'US' })).toEqual({
      ok: true,
      value: '14155552671',
    });
    expect(normalizePhone('+1 415 555 2671 ext. 12')).toMatchObject({ ok: false, code: 'phone_extension' });
  });
});
