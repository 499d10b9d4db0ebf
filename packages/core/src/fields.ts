// The field table: each identifier of `user` defined once — its wire name, its input names, whether
// it is hashed or sent raw, how a raw value is normalized, and the API's rule with its issue code.
// The builder, the validator and the CLI's columns and flags all read it.
import {
  type Normalized,
  normalizeEmail,
  normalizeExternalId,
  normalizeName,
  normalizePhone,
  type PhoneOptions,
} from './normalize.js';
import type { IssueCode, WireUser } from './schema.js';

/**
 * One list field of the event's `user`.
 *
 * @example
 * const email = USER_LIST_FIELDS.find((field) => field.flat === 'email');
 * email?.wire; // 'emails_sha256'
 */
export interface UserListField {
  /** The field in the wire event's `user`. */
  readonly wire: UserListWireName;
  /** The raw value's name in `UserInput` (normalized, then hashed or sent as it is). */
  readonly input: UserListInputName;
  /** Hashed fields: the name of the already-hashed input (`emailSha256`). */
  readonly preHashed?:
    | 'emailSha256'
    | 'phoneSha256'
    | 'externalIdSha256'
    | 'firstNameSha256'
    | 'lastNameSha256';
  /** The name in flat records: CSV columns, and CLI flags with `-` for `_` (`postal_code`, `--postal-code`). */
  readonly flat: string;
  /** `hashed`: SHA-256 of the normalized value is sent; `raw`: the normalized value itself. */
  readonly kind: 'hashed' | 'raw';
  /** The raw value as it is sent (or hashed), dropped when empty, or refused with the rule it breaks. */
  normalize(raw: string, options: PhoneOptions): Normalized;
  /** The API's rule for one value on the wire. */
  valid(value: string): boolean;
  /** The issue a value breaking the rule gets, and what the rule is, in words. */
  readonly code: IssueCode;
  readonly rule: string;
}

/** Wire names of `user`'s list fields. @example const name: UserListWireName = 'cities'; */
export type UserListWireName =
  | 'emails_sha256'
  | 'phone_numbers_sha256'
  | 'external_ids_sha256'
  | 'first_names_sha256'
  | 'last_names_sha256'
  | 'cities'
  | 'regions'
  | 'postal_codes'
  | 'countries';

/** Input names of `user`'s list fields. @example const name: UserListInputName = 'postalCode'; */
export type UserListInputName =
  | 'email'
  | 'phone'
  | 'externalId'
  | 'firstName'
  | 'lastName'
  | 'city'
  | 'region'
  | 'postalCode'
  | 'country';

const SHA256_HEX = /^[0-9a-f]{64}$/;
/**
 * True for a 64-character lowercase hex SHA-256 digest.
 *
 * @example
 * isSha256Hex('6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'); // true
 */
export function isSha256Hex(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

const HASH_RULE = 'values must be 64-character lowercase hex SHA-256';
const trimmed = (raw: string): Normalized => {
  const value = raw.trim();
  return value === '' ? { ok: false, dropped: true } : { ok: true, value };
};
const geoText = (value: string) => value.trim().length > 0 && value.length <= 128;

const hashed = (
  wire: UserListWireName,
  input: UserListInputName,
  preHashed: NonNullable<UserListField['preHashed']>,
  flat: string,
  normalize: UserListField['normalize'],
): UserListField => ({
  wire,
  input,
  preHashed,
  flat,
  kind: 'hashed',
  normalize,
  valid: isSha256Hex,
  code: 'hash_invalid',
  rule: HASH_RULE,
});

/**
 * Every list field of `user`, in wire order: five hashed identifiers, then four raw geo fields.
 *
 * @example
 * USER_LIST_FIELDS.filter((field) => field.kind === 'hashed').map((field) => field.wire);
 * // ['emails_sha256', 'phone_numbers_sha256', 'external_ids_sha256', 'first_names_sha256', 'last_names_sha256']
 */
export const USER_LIST_FIELDS: readonly UserListField[] = Object.freeze([
  hashed('emails_sha256', 'email', 'emailSha256', 'email', (raw) => normalizeEmail(raw)),
  hashed('phone_numbers_sha256', 'phone', 'phoneSha256', 'phone', (raw, options) =>
    normalizePhone(raw, options),
  ),
  hashed('external_ids_sha256', 'externalId', 'externalIdSha256', 'external_id', (raw) =>
    normalizeExternalId(raw),
  ),
  hashed('first_names_sha256', 'firstName', 'firstNameSha256', 'first_name', (raw) => normalizeName(raw)),
  hashed('last_names_sha256', 'lastName', 'lastNameSha256', 'last_name', (raw) => normalizeName(raw)),
  {
    wire: 'cities',
    input: 'city',
    flat: 'city',
    kind: 'raw',
    normalize: trimmed,
    valid: geoText,
    code: 'geo_too_long',
    rule: 'cities are 1-128 characters',
  },
  {
    wire: 'regions',
    input: 'region',
    flat: 'region',
    kind: 'raw',
    normalize: trimmed,
    valid: geoText,
    code: 'geo_too_long',
    rule: 'regions are 1-128 characters',
  },
  {
    wire: 'postal_codes',
    input: 'postalCode',
    flat: 'postal_code',
    kind: 'raw',
    normalize: trimmed,
    valid: (value) => /^[A-Za-z0-9 -]{1,32}$/.test(value),
    code: 'postal_code_invalid',
    rule: 'postal codes are 1-32 letters, digits, spaces or hyphens',
  },
  {
    wire: 'countries',
    input: 'country',
    flat: 'country',
    kind: 'raw',
    normalize: (raw) => trimmed(raw.toUpperCase()),
    valid: (value) => /^[A-Za-z]{2}$/.test(value),
    code: 'country_invalid',
    rule: 'countries are ISO 3166-1 alpha-2 codes',
  },
]);

/**
 * The single-value fields of `user` and their names elsewhere. `ip_address` and `user_agent` also
 * come from the request context; `obref` only from it (the `__obref` cookie).
 *
 * @example
 * USER_SCALAR_FIELDS.find((field) => field.wire === 'ip_address')?.flat; // 'ip'
 */
export const USER_SCALAR_FIELDS: readonly {
  readonly wire: Exclude<keyof WireUser, UserListWireName>;
  readonly input?: 'ipAddress' | 'userAgent' | 'androidAdvertisingId';
  readonly flat?: string;
  readonly code: IssueCode;
}[] = Object.freeze([
  { wire: 'ip_address', input: 'ipAddress', flat: 'ip', code: 'ip_address_invalid' },
  { wire: 'user_agent', input: 'userAgent', flat: 'user_agent', code: 'user_agent_invalid' },
  { wire: 'android_advertising_id', input: 'androidAdvertisingId', code: 'android_advertising_id_invalid' },
  { wire: 'obref', code: 'obref_invalid' },
]);
