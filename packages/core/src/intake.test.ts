import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8Length } from './intake.js';

describe('utf8Length', () => {
  it('equals the length of the UTF-8 encoding for any string, lone surrogates included', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({ unit: 'binary' }),
          fc.string({ unit: 'grapheme' }),
          fc.string({ unit: fc.integer({ min: 0xd7f0, max: 0xe010 }).map((c) => String.fromCharCode(c)) }),
        ),
        (text) => {
          expect(utf8Length(text)).toBe(encoder.encode(text).length);
        },
      ),
      { numRuns: 5000 },
    );
    for (const text of ['', 'a', 'é', '€', '😀', '\ud800', '\udc00', '\ud800a', 'a\udfff\ud83d\ude00'])
      expect(utf8Length(text), JSON.stringify(text)).toBe(encoder.encode(text).length);
    // Past the first buffer, and past the largest one kept (a string then gets a buffer of its own).
    for (const text of ['€'.repeat(2_000), `${'😀'.repeat(12_000)}\ud800`, 'a'.repeat(30_000), 'é'.repeat(5)])
      expect(utf8Length(text)).toBe(encoder.encode(text).length);
  });
});
