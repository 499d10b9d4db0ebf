// Everything the app keeps, in one SQLite file: Shopify OAuth sessions, the merchants' sign-in
// sessions, each shop's settings (the Conversions API key sealed by a KeyRing), and the webhook log.
import { createHash, randomBytes } from 'node:crypto';
import type { OrderOptions } from '@chatgpt-ads/shopify';
import { Session } from '@shopify/shopify-api';
import Database from 'libsql';
import { type KeyRing, UndecryptableError } from './keys.js';

const REDACTED = Symbol.for('nodejs.util.inspect.custom');

/**
 * A shop's settings. `apiKey` is not enumerable and is left out of `inspect` and `JSON.stringify`.
 *
 * @example
 * const settings = store.settings('northwind.myshopify.com');
 * createConversions({ pixelId: settings.pixelId, apiKey: settings.apiKey });
 */
export interface ShopSettings {
  shop: string;
  pixelId: string;
  apiKey: string;
  consentPolicy: NonNullable<OrderOptions['withoutConsentSignal']>;
  shopCountry?: string;
}

/**
 * What the settings page shows: never the key, only its last four characters or why it cannot be read.
 *
 * @example
 * const view = store.describe(shop);
 * if (view?.key.readable === false) showProblem(view.key.problem);
 */
export interface SettingsView {
  pixelId: string;
  consentPolicy: ShopSettings['consentPolicy'];
  shopCountry?: string;
  key: { readable: true; last4: string } | { readable: false; problem: string };
}

/**
 * A merchant's signed-in session: random, stored only as a hash, with an absolute expiry.
 *
 * @example
 * const session = store.session(tokenFromCookie);
 * if (session) console.log(session.shop);
 */
export interface AppSession {
  shop: string;
  csrf: string;
  expiresAt: number;
}

interface SettingsRow {
  shop: string;
  pixel_id: string;
  api_key_encrypted: string;
  consent_policy: ShopSettings['consentPolicy'];
  shop_country: string | null;
}

function redactedSettings(settings: Omit<ShopSettings, 'apiKey'>, apiKey: string): ShopSettings {
  const shown = () => ({ ...settings, apiKey: '[redacted]' });
  const value = { ...settings } as ShopSettings;
  Object.defineProperties(value, {
    apiKey: { value: apiKey, enumerable: false },
    toJSON: { value: shown, enumerable: false },
    [REDACTED]: { value: shown, enumerable: false },
  });
  return value;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * The app's SQLite store.
 *
 * @example
 * const store = new AppStore('./app.db', keyRing);
 */
export class AppStore {
  readonly #db: Database.Database;
  readonly #keys: KeyRing;

  constructor(path: string, keys: KeyRing) {
    this.#keys = keys;
    this.#db = new Database(path);
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, shop TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS shop_settings (
        shop TEXT PRIMARY KEY, pixel_id TEXT NOT NULL, api_key_encrypted TEXT NOT NULL,
        consent_policy TEXT NOT NULL, shop_country TEXT, updated_at INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS app_sessions (
        token_sha256 TEXT PRIMARY KEY, shop TEXT NOT NULL, csrf TEXT NOT NULL, flash TEXT,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS app_sessions_shop ON app_sessions (shop);
    `);
  }

  saveSession(session: Session): void {
    this.#db
      .prepare(
        'INSERT INTO sessions (id, shop, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      )
      .run(session.id, session.shop, JSON.stringify(session.toPropertyArray()));
  }

  offlineSession(shop: string): Session | undefined {
    const row = this.#db.prepare('SELECT data FROM sessions WHERE id = ?').get(`offline_${shop}`) as
      | { data: string }
      | undefined;
    return row ? Session.fromPropertyArray(JSON.parse(row.data)) : undefined;
  }

  /** Starts a merchant session; only the returned token (for the cookie) can find it again. */
  createAppSession(shop: string, ttlMs: number): { token: string; session: AppSession } {
    const token = randomBytes(32).toString('base64url');
    const session = { shop, csrf: randomBytes(32).toString('base64url'), expiresAt: Date.now() + ttlMs };
    this.#db
      .prepare(
        'INSERT INTO app_sessions (token_sha256, shop, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(hashToken(token), shop, session.csrf, Date.now(), session.expiresAt);
    this.#db.prepare('DELETE FROM app_sessions WHERE expires_at <= ?').run(Date.now());
    return { token, session };
  }

  /** The live session for a cookie token, or undefined when unknown, expired or revoked. */
  appSession(token: string | undefined): AppSession | undefined {
    if (!token) return undefined;
    const row = this.#db
      .prepare('SELECT shop, csrf, expires_at FROM app_sessions WHERE token_sha256 = ?')
      .get(hashToken(token)) as { shop: string; csrf: string; expires_at: number } | undefined;
    if (!row) return undefined;
    if (row.expires_at <= Date.now()) {
      this.revokeAppSession(token);
      return undefined;
    }
    return { shop: row.shop, csrf: row.csrf, expiresAt: row.expires_at };
  }

  revokeAppSession(token: string): void {
    this.#db.prepare('DELETE FROM app_sessions WHERE token_sha256 = ?').run(hashToken(token));
  }

  /** Signs every merchant of the shop out. */
  revokeShopSessions(shop: string): void {
    this.#db.prepare('DELETE FROM app_sessions WHERE shop = ?').run(shop);
  }

  /** A one-time message for the next settings page of this session (kept server-side, never in the URL). */
  setFlash(token: string, message: string): void {
    this.#db
      .prepare('UPDATE app_sessions SET flash = ? WHERE token_sha256 = ?')
      .run(message, hashToken(token));
  }

  takeFlash(token: string): string | undefined {
    const hash = hashToken(token);
    const row = this.#db.prepare('SELECT flash FROM app_sessions WHERE token_sha256 = ?').get(hash) as
      | { flash: string | null }
      | undefined;
    if (row?.flash) this.#db.prepare('UPDATE app_sessions SET flash = NULL WHERE token_sha256 = ?').run(hash);
    return row?.flash ?? undefined;
  }

  saveSettings(settings: ShopSettings): void {
    this.#db
      .prepare(
        `INSERT INTO shop_settings (shop, pixel_id, api_key_encrypted, consent_policy, shop_country, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (shop) DO UPDATE SET pixel_id = excluded.pixel_id, api_key_encrypted = excluded.api_key_encrypted,
           consent_policy = excluded.consent_policy, shop_country = excluded.shop_country, updated_at = excluded.updated_at`,
      )
      .run(
        settings.shop,
        settings.pixelId,
        this.#keys.seal(settings.apiKey, settings.shop),
        settings.consentPolicy,
        settings.shopCountry ?? null,
        Date.now(),
      );
  }

  #row(shop: string): SettingsRow | undefined {
    return this.#db.prepare('SELECT * FROM shop_settings WHERE shop = ?').get(shop) as
      | SettingsRow
      | undefined;
  }

  /**
   * The shop's settings, or undefined when it has none. Throws {@link UndecryptableError} when the
   * stored key cannot be opened with the configured keys.
   */
  settings(shop: string): ShopSettings | undefined {
    const row = this.#row(shop);
    if (!row) return undefined;
    let apiKey: string;
    try {
      apiKey = this.#keys.open(row.api_key_encrypted, row.shop);
    } catch (error) {
      if (error instanceof UndecryptableError) {
        throw new UndecryptableError(
          `the stored Conversions API key of ${shop} cannot be decrypted: ${error.message}`,
          error.keyId,
        );
      }
      throw error;
    }
    return redactedSettings(
      {
        shop: row.shop,
        pixelId: row.pixel_id,
        consentPolicy: row.consent_policy,
        ...(row.shop_country ? { shopCountry: row.shop_country } : {}),
      },
      apiKey,
    );
  }

  /** The settings as the page shows them; an unreadable key is reported, not thrown. */
  describe(shop: string): SettingsView | undefined {
    const row = this.#row(shop);
    if (!row) return undefined;
    let key: SettingsView['key'];
    try {
      key = { readable: true, last4: this.#keys.open(row.api_key_encrypted, row.shop).slice(-4) };
    } catch (error) {
      if (!(error instanceof UndecryptableError)) throw error;
      key = { readable: false, problem: error.message };
    }
    return {
      pixelId: row.pixel_id,
      consentPolicy: row.consent_policy,
      ...(row.shop_country ? { shopCountry: row.shop_country } : {}),
      key,
    };
  }

  /**
   * Re-seals every stored key that is not under the current key id (after a rotation, and records
   * from before key ids), so the old key can be removed. Records no configured key opens are left
   * as they are and reported.
   */
  reencrypt(): { reencrypted: number; unreadable: Array<{ shop: string; problem: string }> } {
    const rows = this.#db.prepare('SELECT shop, api_key_encrypted FROM shop_settings').all() as Array<
      Pick<SettingsRow, 'shop' | 'api_key_encrypted'>
    >;
    const report = { reencrypted: 0, unreadable: [] as Array<{ shop: string; problem: string }> };
    const update = this.#db.prepare('UPDATE shop_settings SET api_key_encrypted = ? WHERE shop = ?');
    for (const row of rows) {
      if (this.#keys.keyIdOf(row.api_key_encrypted) === this.#keys.currentKeyId) continue;
      try {
        const plain = this.#keys.open(row.api_key_encrypted, row.shop);
        update.run(this.#keys.seal(plain, row.shop), row.shop);
        report.reencrypted++;
      } catch (error) {
        if (!(error instanceof UndecryptableError)) throw error;
        report.unreadable.push({ shop: row.shop, problem: error.message });
      }
    }
    return report;
  }

  /** shop/redact: forget the shop entirely, and sign its merchants out. */
  purgeShop(shop: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM sessions WHERE shop = ?').run(shop);
      this.#db.prepare('DELETE FROM shop_settings WHERE shop = ?').run(shop);
      this.#db.prepare('DELETE FROM app_sessions WHERE shop = ?').run(shop);
    })();
  }

  close(): void {
    this.#db.close();
  }

  toJSON() {
    return { kind: 'AppStore', keys: this.#keys.toJSON() };
  }
  [REDACTED]() {
    return this.toJSON();
  }
}
