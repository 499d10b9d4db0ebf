import { describe, expect, it } from 'vitest';
import { currencyExponent, fromMinorUnits, MoneyError, toMinorUnits } from './money.js';

describe('toMinorUnits', () => {
  it.each([
    ['129.99', 'USD', 12999],
    ['42', 'USD', 4200],
    ['42.5', 'usd', 4250],
    ['8900', 'JPY', 8900],
    ['1.234', 'KWD', 1234],
    ['0.0001', 'CLF', 1],
    ['-5.10', 'EUR', -510],
    ['19.990', 'USD', 1999],
    [129.99, 'USD', 12999],
    [0.1, 'USD', 10],
  ] as const)('%s %s → %d', (amount, currency, minor) => {
    expect(toMinorUnits(amount, currency)).toBe(minor);
  });

  it.each([
    ['1.999', 'USD', 'decimals'],
    ['1.5', 'JPY', 'decimals'],
    ['1,50', 'EUR', 'not a decimal'],
    ['12', 'XYZ', 'unknown'],
    ['1e3', 'USD', 'not a decimal'],
  ])('refuses %s %s (%s)', (amount, currency, words) => {
    expect(() => toMinorUnits(amount, currency)).toThrow(MoneyError);
    expect(() => toMinorUnits(amount, currency)).toThrow(new RegExp(words));
  });

  it('refuses numbers it cannot convert exactly', () => {
    expect(() => toMinorUnits(1e21, 'USD')).toThrow(MoneyError);
    expect(() => toMinorUnits(Number.NaN, 'USD')).toThrow(MoneyError);
  });
});

describe('currencyExponent and fromMinorUnits', () => {
  it('knows the ISO 4217 exponents', () => {
    expect([
      currencyExponent('USD'),
      currencyExponent('JPY'),
      currencyExponent('BHD'),
      currencyExponent('UYW'),
    ]).toEqual([2, 0, 3, 4]);
    expect(currencyExponent('ABC')).toBeUndefined();
  });
  it('formats minor units back', () => {
    expect(fromMinorUnits(12999, 'USD')).toBe('129.99');
    expect(fromMinorUnits(5, 'USD')).toBe('0.05');
    expect(fromMinorUnits(-510, 'EUR')).toBe('-5.10');
    expect(fromMinorUnits(1234, 'KWD')).toBe('1.234');
    expect(fromMinorUnits(8900, 'JPY')).toBe('8900');
  });
});
