// Everything the app keeps, behind one small interface so that one host (SQLite) and a fleet
// (PostgreSQL) run the same code: Shopify's offline sessions, each shop's settings (the Conversions
// API key sealed by a KeyRing) and country, the webhook deduplication log, the delivery status of
// recent orders, and each shop's outbox of conversions waiting to be sent.
import type { Outbox } from '@chatgpt-ads/core';
import type { OrderOptions, WebhookLog } from '@chatgpt-ads/shopify';
import { Session } from '@shopify/shopify-api';
import { type KeyRing, UndecryptableError } from './keys.js';

const REDACTED = Symbol.for('nodejs.util.inspect.custom');

/**
 * The SQL the store needs, answered by SQLite or PostgreSQL. Statements use `?` placeholders and
 * only syntax both engines share (`INSERT … ON CONFLICT`, `BIGINT` milliseconds).
 *
 * @example
 * const rows = await db.all<{ shop: string }>('SELECT shop FROM shop_settings WHERE shop = ?', [shop]);
 */
export interface SqlDatabase {
  readonly engine: 'sqlite' | 'postgres';
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** Runs one statement; resolves with the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs the statements in one transaction: all or none. */
  batch(statements: ReadonlyArray<readonly [string, readonly unknown[]]>): Promise<void>;
  /** Creates or upgrades the tables, one instance at a time. */
  migrate(statements: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * A database the app can run on: the SQL, and where each shop's conversions wait.
 *
 * @example
 * const backend: StorageBackend = openSqliteBackend('./app.db');
 */
export interface StorageBackend {
  db: SqlDatabase;
  /** The outbox of one shop (each shop sends with its own pixel and key, so each has its own queue). */
  outboxFor(shop: string): Outbox;
  /** shop/redact: deletes whatever the shop's outbox still holds. */
  dropOutbox(shop: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * A shop's settings. `apiKey` is not enumerable and is left out of `inspect` and `JSON.stringify`.
 *
 * @example
 * const settings = await store.settings('northwind.myshopify.com');
 * createConversions({ pixelId: settings.pixelId, apiKey: settings.apiKey });
 */
export interface ShopSettings {
  shop: string;
  pixelId: string;
  apiKey: string;
  consentPolicy: NonNullable<OrderOptions['withoutConsentSignal']>;
}

/**
 * What the settings page shows: never the key, only its last four characters or why it cannot be read.
 *
 * @example
 * const view = await store.describe(shop);
 * if (view?.key.readable === false) showProblem(view.key.problem);
 */
export interface SettingsView {
  pixelId: string;
  consentPolicy: ShopSettings['consentPolicy'];
  key: { readable: true; last4: string } | { readable: false; problem: string };
}

/**
 * What happened to one order, as the delivery status panel shows it. No personal data: the order's
 * number, when it arrived, and the outcome with its reason.
 *
 * @example
 * const rows: DeliveryRecord[] = await store.deliveries(shop, 20);
 */
export interface DeliveryRecord {
  eventId: string;
  /** The order's name in the admin, e.g. `#1001`. */
  order: string;
  receivedAt: number;
  updatedAt: number;
  outcome: DeliveryOutcome;
  reason?: string;
}

/**
 * `queued`: waiting to be sent; `sent`: accepted by the Conversions API; `skipped`: never built (test
 * order, not the online store, no consent…); `dead_lettered`: refused or too old, will not be retried;
 * `refused`: the order could not become a valid event; `retrying`: Shopify will deliver it again.
 *
 * @example
 * const outcome: DeliveryOutcome = 'dead_lettered';
 */
export type DeliveryOutcome = 'queued' | 'sent' | 'skipped' | 'dead_lettered' | 'refused' | 'retrying';

interface SettingsRow {
  shop: string;
  pixel_id: string;
  api_key_encrypted: string;
  consent_policy: ShopSettings['consentPolicy'];
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

/** Tables shared by both engines. `shop_settings.shop_country` is left over from typed-in countries. */
const SCHEMA = [
  'CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, shop TEXT NOT NULL, data TEXT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS shop_settings (
    shop TEXT PRIMARY KEY, pixel_id TEXT NOT NULL, api_key_encrypted TEXT NOT NULL,
    consent_policy TEXT NOT NULL, shop_country TEXT, updated_at BIGINT NOT NULL)`,
  'CREATE TABLE IF NOT EXISTS shop_profiles (shop TEXT PRIMARY KEY, country TEXT, updated_at BIGINT NOT NULL)',
  'CREATE TABLE IF NOT EXISTS webhook_deliveries (id TEXT PRIMARY KEY, received_at BIGINT NOT NULL)',
  `CREATE TABLE IF NOT EXISTS order_deliveries (
    shop TEXT NOT NULL, event_id TEXT NOT NULL, order_name TEXT NOT NULL, received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL, outcome TEXT NOT NULL, reason TEXT, PRIMARY KEY (shop, event_id))`,
  'CREATE INDEX IF NOT EXISTS order_deliveries_recent ON order_deliveries (shop, received_at)',
  // Countries typed in by hand before the Admin API was read stay until Shopify's answer replaces them.
  `INSERT INTO shop_profiles (shop, country, updated_at)
    SELECT shop, shop_country, updated_at FROM shop_settings WHERE shop_country IS NOT NULL ON CONFLICT (shop) DO NOTHING`,
  // Sign-in sessions of the cookie-based settings page, replaced by Shopify session tokens.
  'DROP TABLE IF EXISTS app_sessions',
];

/** A settled outcome is not overwritten by a late `queued`. */
const SETTLED = "excluded.outcome = 'queued' AND order_deliveries.outcome IN ('sent', 'dead_lettered')";

/** Orders kept in the delivery status per shop; older rows are pruned as new ones arrive. */
const DELIVERIES_KEPT = 200;

/**
 * The app's store, on any {@link StorageBackend}.
 *
 * @example
 * const store = await AppStore.open(openSqliteBackend('./app.db'), keyRing);
 */
export class AppStore {
  readonly #backend: StorageBackend;
  readonly #db: SqlDatabase;
  readonly #keys: KeyRing;
  readonly webhookLog: WebhookLog & { retentionMs: number };

  private constructor(backend: StorageBackend, keys: KeyRing) {
    this.#backend = backend;
    this.#db = backend.db;
    this.#keys = keys;
    const db = this.#db;
    let claims = 0;
    const log = {
      retentionMs: 7 * 86_400_000,
      // True only for the first claim of an id, whichever instance makes it: the insert is atomic.
      async claim(id: string) {
        if (++claims % 1000 === 0) {
          await db.run('DELETE FROM webhook_deliveries WHERE received_at < ?', [
            Date.now() - log.retentionMs,
          ]);
        }
        return (
          (await db.run(
            'INSERT INTO webhook_deliveries (id, received_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
            [id, Date.now()],
          )) === 1
        );
      },
      async release(id: string) {
        await db.run('DELETE FROM webhook_deliveries WHERE id = ?', [id]);
      },
    };
    this.webhookLog = log;
  }

  /** Opens the store and creates its tables when missing. */
  static async open(backend: StorageBackend, keys: KeyRing): Promise<AppStore> {
    await backend.db.migrate(SCHEMA);
    return new AppStore(backend, keys);
  }

  get engine(): SqlDatabase['engine'] {
    return this.#db.engine;
  }

  outboxFor(shop: string): Outbox {
    return this.#backend.outboxFor(shop);
  }

  async saveSession(session: Session): Promise<void> {
    await this.#db.run(
      'INSERT INTO sessions (id, shop, data) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data',
      [session.id, session.shop, JSON.stringify(session.toPropertyArray())],
    );
  }

  async offlineSession(shop: string): Promise<Session | undefined> {
    const [row] = await this.#db.all<{ data: string }>('SELECT data FROM sessions WHERE id = ?', [
      `offline_${shop}`,
    ]);
    return row ? Session.fromPropertyArray(JSON.parse(row.data)) : undefined;
  }

  /** app/uninstalled: the access token no longer works; settings stay until shop/redact. */
  async deleteSessions(shop: string): Promise<void> {
    await this.#db.run('DELETE FROM sessions WHERE shop = ?', [shop]);
  }

  async saveSettings(settings: ShopSettings): Promise<void> {
    await this.#db.run(
      `INSERT INTO shop_settings (shop, pixel_id, api_key_encrypted, consent_policy, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (shop) DO UPDATE SET pixel_id = excluded.pixel_id, api_key_encrypted = excluded.api_key_encrypted,
         consent_policy = excluded.consent_policy, updated_at = excluded.updated_at`,
      [
        settings.shop,
        settings.pixelId,
        this.#keys.seal(settings.apiKey, settings.shop),
        settings.consentPolicy,
        Date.now(),
      ],
    );
  }

  async #row(shop: string): Promise<SettingsRow | undefined> {
    const [row] = await this.#db.all<SettingsRow>(
      'SELECT shop, pixel_id, api_key_encrypted, consent_policy FROM shop_settings WHERE shop = ?',
      [shop],
    );
    return row;
  }

  /**
   * The shop's settings, or undefined when it has none. Throws {@link UndecryptableError} when the
   * stored key cannot be opened with the configured keys.
   */
  async settings(shop: string): Promise<ShopSettings | undefined> {
    const row = await this.#row(shop);
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
      { shop: row.shop, pixelId: row.pixel_id, consentPolicy: row.consent_policy },
      apiKey,
    );
  }

  /** The settings as the page shows them; an unreadable key is reported, not thrown. */
  async describe(shop: string): Promise<SettingsView | undefined> {
    const row = await this.#row(shop);
    if (!row) return undefined;
    let key: SettingsView['key'];
    try {
      key = { readable: true, last4: this.#keys.open(row.api_key_encrypted, row.shop).slice(-4) };
    } catch (error) {
      if (!(error instanceof UndecryptableError)) throw error;
      key = { readable: false, problem: error.message };
    }
    return { pixelId: row.pixel_id, consentPolicy: row.consent_policy, key };
  }

  /** The shop's country as Shopify's Admin API last reported it (ISO 3166-1 alpha-2). */
  async shopCountry(shop: string): Promise<string | undefined> {
    const [row] = await this.#db.all<{ country: string | null }>(
      'SELECT country FROM shop_profiles WHERE shop = ?',
      [shop],
    );
    return row?.country ?? undefined;
  }

  async saveShopCountry(shop: string, country: string | undefined): Promise<void> {
    await this.#db.run(
      `INSERT INTO shop_profiles (shop, country, updated_at) VALUES (?, ?, ?)
       ON CONFLICT (shop) DO UPDATE SET country = excluded.country, updated_at = excluded.updated_at`,
      [shop, country ?? null, Date.now()],
    );
  }

  /**
   * Records what happened to an order. A later outcome replaces an earlier one, except that a send
   * finished first (the delivery hook can run before the webhook's own record) is never set back to
   * `queued`; the arrival time is the first record's, the name the webhook's.
   */
  async recordDelivery(
    shop: string,
    record: { eventId: string; order?: string; outcome: DeliveryOutcome; reason?: string },
  ): Promise<void> {
    const now = Date.now();
    await this.#db.run(
      `INSERT INTO order_deliveries (shop, event_id, order_name, received_at, updated_at, outcome, reason) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (shop, event_id) DO UPDATE SET
         order_name = CASE WHEN excluded.order_name <> excluded.event_id THEN excluded.order_name ELSE order_deliveries.order_name END,
         outcome = CASE WHEN ${SETTLED} THEN order_deliveries.outcome ELSE excluded.outcome END,
         reason = CASE WHEN ${SETTLED} THEN order_deliveries.reason ELSE excluded.reason END,
         updated_at = excluded.updated_at`,
      [shop, record.eventId, record.order ?? record.eventId, now, now, record.outcome, record.reason ?? null],
    );
  }

  /** The shop's most recent orders, newest first. */
  async deliveries(shop: string, limit = 20): Promise<DeliveryRecord[]> {
    const rows = await this.#db.all<{
      event_id: string;
      order_name: string;
      received_at: number | string;
      updated_at: number | string;
      outcome: DeliveryOutcome;
      reason: string | null;
    }>(
      'SELECT event_id, order_name, received_at, updated_at, outcome, reason FROM order_deliveries WHERE shop = ? ORDER BY received_at DESC, event_id DESC LIMIT ?',
      [shop, limit],
    );
    return rows.map((row) => ({
      eventId: row.event_id,
      order: row.order_name,
      receivedAt: Number(row.received_at),
      updatedAt: Number(row.updated_at),
      outcome: row.outcome,
      ...(row.reason ? { reason: row.reason } : {}),
    }));
  }

  /** Keeps the newest {@link DELIVERIES_KEPT} orders of the shop. */
  async pruneDeliveries(shop: string): Promise<void> {
    await this.#db.run(
      `DELETE FROM order_deliveries WHERE shop = ? AND received_at < (
         SELECT MIN(received_at) FROM (SELECT received_at FROM order_deliveries WHERE shop = ? ORDER BY received_at DESC LIMIT ?) AS kept)`,
      [shop, shop, DELIVERIES_KEPT],
    );
  }

  /**
   * Re-seals every stored key that is not under the current key id (after a rotation, and records
   * from before key ids), so the old key can be removed. Records no configured key opens are left
   * as they are and reported.
   */
  async reencrypt(): Promise<{ reencrypted: number; unreadable: Array<{ shop: string; problem: string }> }> {
    const rows = await this.#db.all<Pick<SettingsRow, 'shop' | 'api_key_encrypted'>>(
      'SELECT shop, api_key_encrypted FROM shop_settings',
    );
    const report = { reencrypted: 0, unreadable: [] as Array<{ shop: string; problem: string }> };
    for (const row of rows) {
      if (this.#keys.keyIdOf(row.api_key_encrypted) === this.#keys.currentKeyId) continue;
      try {
        const plain = this.#keys.open(row.api_key_encrypted, row.shop);
        // Only the row as read is replaced: another instance re-sealing it at the same time wins.
        report.reencrypted += await this.#db.run(
          'UPDATE shop_settings SET api_key_encrypted = ? WHERE shop = ? AND api_key_encrypted = ?',
          [this.#keys.seal(plain, row.shop), row.shop, row.api_key_encrypted],
        );
      } catch (error) {
        if (!(error instanceof UndecryptableError)) throw error;
        report.unreadable.push({ shop: row.shop, problem: error.message });
      }
    }
    return report;
  }

  /** shop/redact: forget the shop entirely. */
  async purgeShop(shop: string): Promise<void> {
    await this.#db.batch([
      ['DELETE FROM sessions WHERE shop = ?', [shop]],
      ['DELETE FROM shop_settings WHERE shop = ?', [shop]],
      ['DELETE FROM shop_profiles WHERE shop = ?', [shop]],
      ['DELETE FROM order_deliveries WHERE shop = ?', [shop]],
    ]);
    await this.#backend.dropOutbox(shop);
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }

  toJSON() {
    return { kind: 'AppStore', engine: this.#db.engine, keys: this.#keys.toJSON() };
  }
  [REDACTED]() {
    return this.toJSON();
  }
}
