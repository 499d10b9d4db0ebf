import { describe, expect, it } from 'vitest';
import { buildEvent } from '../src/build.js';
import { sha256Hex } from '../src/hash.js';
import { normalizeEmail, normalizeExternalId, normalizeName, normalizePhone } from '../src/normalize.js';
import golden from './golden-vectors.json';

type Vector = {
  field: 'email' | 'phone' | 'externalId' | 'firstName' | 'lastName';
  raw: string;
  defaultCountry?: string;
  normalized?: string;
  sha256?: string;
  refused?: string;
  dropped?: string;
};

const normalizers = {
  email: (v: Vector) => normalizeEmail(v.raw),
  phone: (v: Vector) => normalizePhone(v.raw, v.defaultCountry ? { defaultCountry: v.defaultCountry } : {}),
  externalId: (v: Vector) => normalizeExternalId(v.raw),
  firstName: (v: Vector) => normalizeName(v.raw),
  lastName: (v: Vector) => normalizeName(v.raw),
};

const wireField = {
  email: 'emails_sha256',
  phone: 'phone_numbers_sha256',
  externalId: 'external_ids_sha256',
  firstName: 'first_names_sha256',
  lastName: 'last_names_sha256',
} as const;

describe('golden vectors (shared/reference/golden-vectors.json)', () => {
  const vectors = golden.vectors as Vector[];

  it('covers every identifier kind', () => {
    expect(new Set(vectors.map((v) => v.field))).toEqual(new Set(Object.keys(normalizers)));
  });

  for (const vector of vectors) {
    const label = `${vector.field} ${JSON.stringify(vector.raw)}${vector.defaultCountry ? ` (${vector.defaultCountry})` : ''}`;
    it(label, async () => {
      const result = normalizers[vector.field](vector);
      if (vector.sha256) {
        expect(result).toEqual({ ok: true, value: vector.normalized });
        expect(await sha256Hex(vector.normalized!)).toBe(vector.sha256);
      } else if (vector.dropped) {
        expect(result).toEqual({ ok: false, dropped: true });
      } else {
        expect(result.ok).toBe(false);
        expect(result).toHaveProperty('code');
      }

      // The same value through the public path: buildEvent puts the digest in the event, or leaves it out with a warning.
      const built = await buildEvent(
        { type: 'lead_created', actionSource: 'offline', user: { [vector.field]: vector.raw } },
        {},
        vector.defaultCountry ? { defaultCountry: vector.defaultCountry } : {},
      );
      if (!built.ok) throw new Error(JSON.stringify(built.issues));
      const list = built.event.user?.[wireField[vector.field]];
      if (vector.sha256) expect(list).toEqual([vector.sha256]);
      else expect(list).toBeUndefined();
      expect(built.warnings.length).toBe(vector.refused ? 1 : 0);
    });
  }
});
