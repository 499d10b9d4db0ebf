// Everything the app keeps, in one SQLite file: OAuth sessions, each shop's settings (the Conversions
// API key encrypted at rest), and the webhook delivery log.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { OrderOptions } from '@chatgpt-ads/shopify';
import { Session } from '@shopify/shopify-api';
import Database from 'libsql';

export interface ShopSettings {
  shop: string;
  pixelId: string;
  apiKey: string;
  consentPolicy: NonNullable<OrderOptions['withoutConsentSignal']>;
  shopCountry?: string;
}

export class AppStore {
  readonly #db: Database.Database;
  readonly #key: Buffer;

  /** `secret` (the app's API secret) derives the key that encrypts stored Conversions API keys. */
  constructor(path: string, secret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'chatgpt-ads-shopify-app', 'conversions-api-key', 32));
    this.#db = new Database(path);
    this.#db.exec(`
      PRAGMA busy_timeout = 5000;
      PRAGMA journal_mode = WAL;
      CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, shop TEXT NOT NULL, data TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS shop_settings (
        shop TEXT PRIMARY KEY, pixel_id TEXT NOT NULL, api_key_encrypted TEXT NOT NULL,
        consent_policy TEXT NOT NULL, shop_country TEXT, updated_at INTEGER NOT NULL
      );
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
        this.#encrypt(settings.apiKey),
        settings.consentPolicy,
        settings.shopCountry ?? null,
        Date.now(),
      );
  }

  settings(shop: string): ShopSettings | undefined {
    const row = this.#db.prepare('SELECT * FROM shop_settings WHERE shop = ?').get(shop) as
      | {
          shop: string;
          pixel_id: string;
          api_key_encrypted: string;
          consent_policy: ShopSettings['consentPolicy'];
          shop_country: string | null;
        }
      | undefined;
    if (!row) return undefined;
    return {
      shop: row.shop,
      pixelId: row.pixel_id,
      apiKey: this.#decrypt(row.api_key_encrypted),
      consentPolicy: row.consent_policy,
      ...(row.shop_country ? { shopCountry: row.shop_country } : {}),
    };
  }

  /** shop/redact: forget the shop entirely. */
  purgeShop(shop: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM sessions WHERE shop = ?').run(shop);
      this.#db.prepare('DELETE FROM shop_settings WHERE shop = ?').run(shop);
    })();
  }

  close(): void {
    this.#db.close();
  }

  // AES-256-GCM: iv.tag.ciphertext, base64url. The key never leaves the process.
  #encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [iv, cipher.getAuthTag(), data].map((b) => b.toString('base64url')).join('.');
  }

  #decrypt(sealed: string): string {
    const [iv, tag, data] = sealed.split('.').map((part) => Buffer.from(part, 'base64url'));
    const decipher = createDecipheriv('aes-256-gcm', this.#key, iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
  }
}
