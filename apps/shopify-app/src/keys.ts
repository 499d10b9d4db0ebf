// Encryption of the Conversions API keys merchants store, under keys the operator configures and
// rotates (CHATGPT_ADS_ENCRYPTION_KEYS), never under the Shopify app secret: that secret signs
// Shopify's webhooks and OAuth and is rotated on Shopify's schedule, not ours.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * A configuration mistake found at start-up.
 *
 * @example
 * try { parseEncryptionKeys(''); } catch (e) { if (e instanceof AppConfigError) console.error(e.message); }
 */
export class AppConfigError extends Error {
  override name = 'AppConfigError';
}

/**
 * A stored value that none of the configured keys can open.
 *
 * @example
 * if (error instanceof UndecryptableError) console.error(`add key ${error.keyId} back`);
 */
export class UndecryptableError extends Error {
  override name = 'UndecryptableError';
  constructor(
    message: string,
    /** The key id the record names, or `legacy-app-secret` for records written before key ids. */
    readonly keyId: string,
  ) {
    super(message);
  }
}

/**
 * One configured key: an id stored beside every record it encrypts, and at least 32 random bytes.
 *
 * @example
 * const key: EncryptionKey = { id: 'k2', secret: randomBytes(32).toString('base64url') };
 */
export interface EncryptionKey {
  id: string;
  /** base64 or base64url of at least 32 random bytes. */
  secret: string;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const SALT = 'chatgpt-ads-shopify-app';
/**
 * The HKDF label of the key that seals stored Conversions API keys: a key derived for one purpose
 * is never used for another, and a new purpose gets a new label.
 *
 * @example
 * new KeyRing(parseEncryptionKeys(process.env.CHATGPT_ADS_ENCRYPTION_KEYS), { purpose: PURPOSE_STORED_API_KEY });
 */
export const PURPOSE_STORED_API_KEY = 'stored-conversions-api-key/v1';
const LEGACY_ID = 'legacy-app-secret';
const REDACTED = Symbol.for('nodejs.util.inspect.custom');

/**
 * Reads `CHATGPT_ADS_ENCRYPTION_KEYS`: comma-separated `id:secret` pairs, the first encrypts, all
 * decrypt. Throws {@link AppConfigError} (never echoing a secret) when empty or malformed.
 *
 * @example
 * parseEncryptionKeys('k2:9J3x…,k1:Qm8v…'); // [{ id: 'k2', secret: '9J3x…' }, { id: 'k1', secret: 'Qm8v…' }]
 */
export function parseEncryptionKeys(value: string | undefined): EncryptionKey[] {
  const entries = (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) {
    throw new AppConfigError(
      'CHATGPT_ADS_ENCRYPTION_KEYS is not set: it encrypts the Conversions API keys merchants enter. ' +
        `Generate one with: node -e "console.log('k1:' + require('crypto').randomBytes(32).toString('base64url'))"`,
    );
  }
  return entries.map((entry, index) => {
    const colon = entry.indexOf(':');
    if (colon < 1) {
      throw new AppConfigError(
        `CHATGPT_ADS_ENCRYPTION_KEYS entry ${index + 1} is not "id:secret" (e.g. k1:<base64 of 32 random bytes>)`,
      );
    }
    return { id: entry.slice(0, colon), secret: entry.slice(colon + 1) };
  });
}

/**
 * Seals and opens short secrets with AES-256-GCM. Records read `v1.<key id>.<iv>.<tag>.<data>`
 * (base64url); the record's owner (the shop) is authenticated as associated data, so a sealed key
 * copied to another shop's row does not open. Keys are derived per purpose with HKDF.
 *
 * @example
 * const ring = new KeyRing([{ id: 'k1', secret }], { purpose: PURPOSE_STORED_API_KEY });
 * const sealed = ring.seal('sk_live_…', 'northwind.myshopify.com');
 * ring.open(sealed, 'northwind.myshopify.com'); // 'sk_live_…'
 */
export class KeyRing {
  readonly #keys = new Map<string, Buffer>();
  readonly #current: string;
  readonly #legacy: Buffer | undefined;

  constructor(
    keys: readonly EncryptionKey[],
    options: {
      purpose: string;
      /** Opens records written before key ids existed (their key was derived from the app secret). */
      legacyAppSecret?: string;
    },
  ) {
    if (keys.length === 0) throw new AppConfigError('at least one encryption key is required');
    for (const [index, key] of keys.entries()) {
      if (!KEY_ID.test(key.id) || key.id === LEGACY_ID) {
        throw new AppConfigError(
          `encryption key ${index + 1}: the id must be 1-32 letters, digits, "_" or "-" (and not "${LEGACY_ID}")`,
        );
      }
      if (this.#keys.has(key.id)) throw new AppConfigError(`encryption key id "${key.id}" is listed twice`);
      const material = Buffer.from(key.secret.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (material.length < 32 || !/^[A-Za-z0-9+/_-]+=*$/.test(key.secret)) {
        throw new AppConfigError(
          `encryption key "${key.id}" must be base64 or base64url of at least 32 random bytes`,
        );
      }
      this.#keys.set(key.id, Buffer.from(hkdfSync('sha256', material, SALT, options.purpose, 32)));
    }
    this.#current = keys[0]!.id;
    this.#legacy = options.legacyAppSecret
      ? Buffer.from(hkdfSync('sha256', options.legacyAppSecret, SALT, 'conversions-api-key', 32))
      : undefined;
  }

  /** The id new records are sealed with. */
  get currentKeyId(): string {
    return this.#current;
  }

  /** The key id a sealed record names. */
  keyIdOf(sealed: string): string {
    const parts = sealed.split('.');
    return parts.length === 5 && parts[0] === 'v1' ? parts[1]! : LEGACY_ID;
  }

  seal(plain: string, owner: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#current)!, iv);
    cipher.setAAD(Buffer.from(owner, 'utf8'));
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', this.#current, ...[iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url'))].join(
      '.',
    );
  }

  /** Throws {@link UndecryptableError} naming the missing key id; never the key or the value. */
  open(sealed: string, owner: string): string {
    const parts = sealed.split('.');
    const versioned = parts.length === 5 && parts[0] === 'v1';
    const keyId = versioned ? parts[1]! : LEGACY_ID;
    const key = versioned ? this.#keys.get(keyId) : this.#legacy;
    const configured = [...this.#keys.keys()].join(', ');
    if (!key) {
      throw new UndecryptableError(
        keyId === LEGACY_ID
          ? 'the record predates CHATGPT_ADS_ENCRYPTION_KEYS and was sealed with a key derived from an earlier app secret'
          : `the record was sealed with key id "${keyId}", which is not in CHATGPT_ADS_ENCRYPTION_KEYS (configured: ${configured})`,
        keyId,
      );
    }
    const [iv, tag, data] = (versioned ? parts.slice(2) : parts).map((p) => Buffer.from(p, 'base64url'));
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv!);
      if (versioned) decipher.setAAD(Buffer.from(owner, 'utf8'));
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
    } catch {
      throw new UndecryptableError(
        keyId === LEGACY_ID
          ? 'the record predates CHATGPT_ADS_ENCRYPTION_KEYS and does not open with the current app secret (was the secret rotated before the record was re-encrypted?)'
          : `the record names key id "${keyId}" but does not open with the key configured under that id (was a different secret given the same id?)`,
        keyId,
      );
    }
  }

  toJSON() {
    return { kind: 'KeyRing', currentKeyId: this.#current, keyIds: [...this.#keys.keys()] };
  }
  [REDACTED]() {
    return this.toJSON();
  }
}
