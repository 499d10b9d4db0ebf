import { describe, expect, it } from 'vitest';
import { defaultSha256, runtimeSha256, sha256Hex } from './hash.js';
import { normalizeEmail, normalizeExternalId, normalizeName, normalizePhone } from './normalize.js';

describe('the default hash', () => {
  it('is the runtime digest on Node and Web Crypto on the edge, with the same digests', async () => {
    const onEdge = typeof (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime === 'string';
    expect(runtimeSha256() === undefined).toBe(onEdge);
    expect(defaultSha256 === sha256Hex).toBe(onEdge);
    for (const value of ['alex@example.com', 'josé', '', '\u{1F600}']) {
      expect(await defaultSha256(value)).toBe(await sha256Hex(value));
    }
  });
});

describe('sha256Hex', () => {
  it('hashes the UTF-8 bytes as lowercase hex (reference §7 table)', async () => {
    expect(await sha256Hex('alex@example.com')).toBe(
      '6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110',
    );
    expect(await sha256Hex('CUST-00042')).toBe(
      '382211e688c29ae2dcce0b401999831aec27161d9bc0ffd092545a828a18bbc8',
    );
    expect(await sha256Hex('josé')).toBe('d994e1d001886fe5b45b1267bd1fa2b752ac50742579bd3dad7b2a2aa0ed6866');
  });

  it('does not apply a Unicode normalization form (decomposed é hashes differently)', async () => {
    expect(await sha256Hex('jose\u0301')).toMatch(/^0c06649e/);
  });
});

describe('normalizeEmail', () => {
  it('trims and lowercases, keeping dots and +tags', () => {
    expect(normalizeEmail('  First.Last+Promo@Example.ORG ')).toEqual({
      ok: true,
      value: 'first.last+promo@example.org',
    });
  });
  it('drops an empty value and refuses one that is not an address', () => {
    expect(normalizeEmail(' \t ')).toEqual({ ok: false, dropped: true });
    expect(normalizeEmail('not-an-email')).toMatchObject({ ok: false, code: 'email_invalid' });
  });
});

describe('normalizeExternalId', () => {
  it('trims only, keeping case', () => {
    expect(normalizeExternalId('  CUST-00042 ')).toEqual({ ok: true, value: 'CUST-00042' });
  });
});

describe('normalizeName', () => {
  it('lowercases and removes whitespace and ASCII punctuation, keeping accents', () => {
    expect(normalizeName('Mary Jane')).toEqual({ ok: true, value: 'maryjane' });
    expect(normalizeName("O'Connor-Smith, Jr.")).toEqual({ ok: true, value: 'oconnorsmithjr' });
    expect(normalizeName('JOSÉ')).toEqual({ ok: true, value: 'josé' });
    expect(normalizeName(' .-, ')).toEqual({ ok: false, dropped: true });
  });
});

describe('normalizePhone', () => {
  it('keeps the country code and removes +, separators and leading zeros', () => {
    expect(normalizePhone('+1 (415) 555-2671')).toEqual({ ok: true, value: '14155552671' });
    expect(normalizePhone('0044 20 7946 0958')).toEqual({ ok: true, value: '442079460958' });
    expect(normalizePhone('+44.20.7946.0958')).toEqual({ ok: true, value: '442079460958' });
  });
  it('reads national numbers with defaultCountry', () => {
    expect(normalizePhone('(415) 555-2671', { defaultCountry: 'US' })).toEqual({
      ok: true,
      value: '14155552671',
    });
    expect(normalizePhone('020 7946 0958', { defaultCountry: 'gb' })).toEqual({
      ok: true,
      value: '442079460958',
    });
  });
  it('accepts digits that form a possible international number without a +', () => {
    expect(normalizePhone('14155552671')).toEqual({ ok: true, value: '14155552671' });
  });
  it('refuses extensions, ambiguous national numbers and impossible numbers', () => {
    expect(normalizePhone('+1 415 555 2671 ext. 12')).toMatchObject({ ok: false, code: 'phone_extension' });
    expect(normalizePhone('+1 415 555 2671 x12')).toMatchObject({ ok: false, code: 'phone_extension' });
    expect(normalizePhone('020 7946 0958')).toMatchObject({ ok: false, code: 'phone_ambiguous' });
    expect(normalizePhone('555-2671')).toMatchObject({ ok: false, code: 'phone_invalid' });
    expect(normalizePhone('+1 23')).toMatchObject({ ok: false, code: 'phone_invalid' });
    expect(normalizePhone('   ')).toEqual({ ok: false, dropped: true });
  });
  it('never puts the raw number in a refusal message', () => {
    const result = normalizePhone('020 7946 0958');
    expect(JSON.stringify(result)).not.toContain('7946');
  });
});
