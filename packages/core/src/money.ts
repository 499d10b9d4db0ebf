// ISO 4217 minor-unit exponents. Codes not listed in an exception group below use 2.
const EXPONENT_EXCEPTIONS: Record<string, number> = {};
for (const code of 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' ')) {
  EXPONENT_EXCEPTIONS[code] = 0;
}
for (const code of 'BHD IQD JOD KWD LYD OMR TND'.split(' ')) EXPONENT_EXCEPTIONS[code] = 3;
for (const code of 'CLF UYW'.split(' ')) EXPONENT_EXCEPTIONS[code] = 4;

// Active ISO 4217 codes with two decimals (list 1, 2026).
const TWO_DECIMALS = new Set(
  (
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
    'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS ' +
    'GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL ' +
    'MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK ' +
    'PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB ' +
    'TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG ZWL'
  ).split(' '),
);

/**
 * Thrown by {@link toMinorUnits} for an unknown currency or an amount it cannot convert exactly.
 *
 * @example
 * try { toMinorUnits('1.999', 'USD'); } catch (e) { e instanceof MoneyError; } // true
 */
export class MoneyError extends RangeError {
  override readonly name = 'MoneyError';
}

/**
 * The number of decimals of an ISO 4217 currency, or `undefined` for an unknown code.
 *
 * @example
 * currencyExponent('JPY'); // 0
 * currencyExponent('kwd'); // 3
 */
export function currencyExponent(currency: string): number | undefined {
  const code = currency.toUpperCase();
  if (code in EXPONENT_EXCEPTIONS) return EXPONENT_EXCEPTIONS[code];
  return TWO_DECIMALS.has(code) ? 2 : undefined;
}

/**
 * Converts a decimal amount in major units to the integer minor units the API expects, exactly
 * (string arithmetic, no floating point). Refuses more decimals than the currency has.
 *
 * @example
 * toMinorUnits('129.99', 'USD'); // 12999
 * toMinorUnits('8900', 'JPY');   // 8900
 * toMinorUnits('1.234', 'KWD');  // 1234
 */
export function toMinorUnits(amount: string | number, currency: string): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new MoneyError(`unknown ISO 4217 currency "${currency}"`);
  const text = typeof amount === 'number' ? numberToPlainString(amount) : amount.trim();
  const match = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!match) throw new MoneyError(`"${text}" is not a decimal amount`);
  const [, sign, whole, rawFraction = ''] = match;
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > exponent) {
    throw new MoneyError(`${currency.toUpperCase()} has ${exponent} decimals; "${text}" has more`);
  }
  const minor = Number(`${sign}${whole}${fraction.padEnd(exponent, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new MoneyError(`"${text}" is too large`);
  return minor === 0 ? 0 : minor;
}

/**
 * Converts integer minor units back to a decimal string, e.g. for display.
 *
 * @example
 * fromMinorUnits(12999, 'USD'); // '129.99'
 * fromMinorUnits(8900, 'JPY');  // '8900'
 */
export function fromMinorUnits(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new MoneyError(`unknown ISO 4217 currency "${currency}"`);
  if (!Number.isSafeInteger(minor)) throw new MoneyError('minor units must be an integer');
  if (exponent === 0) return String(minor);
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  return `${minor < 0 ? '-' : ''}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new MoneyError('amount must be finite');
  const text = String(value);
  if (/e/i.test(text)) throw new MoneyError(`${text} cannot be converted exactly; pass a decimal string`);
  return text;
}
