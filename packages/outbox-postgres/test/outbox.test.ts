import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConversions } from '@chatgpt-ads/core';
import pg from 'pg';
import { beforeEach, describe, expect, it } from 'vitest';
import { PostgresOutbox, PostgresOutboxError } from '../src/index.js';
import { context, needsServer, quiet, record, useTestEnvironment } from './helpers.js';

const run = promisify(execFile);
const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);
const env = useTestEnvironment('outbox');
const onServer = needsServer('outbox.test.ts');
const outboxOn = env.outboxOn;

const rows = async (name = env.table) =>
  (await env.pool.query(`SELECT id, state, body FROM "${name}" ORDER BY seq`)).rows as Array<{
    id: string;
    state: string;
    body: string;
  }>;

const clientOn = (outbox: PostgresOutbox, extra: Partial<Parameters<typeof createConversions>[0]> = {}) =>
  createConversions({
    pixelId: 'px_pg',
    apiKey: 'sk_pg',
    endpoint: env.sandbox.endpoint,
    outbox,
    batch: { flushIntervalMs: 20 },
    logger: quiet,
    ...extra,
  });

describe('PostgresOutbox', () => {
  it('stores events in order, refuses duplicates, honours batch limits and capacity', async () => {
    const outbox = outboxOn({ capacity: 3 });
    expect(await outbox.append(record(1))).toBe('appended');
    expect(await outbox.append(record(2))).toBe('appended');
    expect(await outbox.append(record(1))).toBe('duplicate');
    expect(await outbox.append(record(3))).toBe('appended');
    expect(await outbox.append(record(4))).toBe('full');
    expect(await outbox.size()).toBe(3);
    expect((await outbox.claim({ maxEvents: 2, maxBytes: 1e6 })).map((r) => r.id)).toEqual(['o1', 'o2']);
    // One oversized record still comes out, so it can be reported rather than stuck.
    expect((await outbox.claim({ maxEvents: 10, maxBytes: 10 })).map((r) => r.id)).toEqual(['o3']);
    expect(await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
  });

  it('refuses bad options at construction and ids PostgreSQL text cannot hold', async () => {
    expect(() => new PostgresOutbox({} as never)).toThrow(/exactly one of connectionString/);
    expect(() => new PostgresOutbox({ connectionString: '' })).toThrow(/DATABASE_URL/);
    expect(() => new PostgresOutbox({ connectionString: env.url, table: 'Bad-Name' })).toThrow(
      PostgresOutboxError,
    );
    const outbox = outboxOn();
    await expect(outbox.append(record(1, { id: 'a\u0000b' }))).rejects.toMatchObject({
      code: 'ERR_OUTBOX_INVALID_ID',
    });
    await expect(outbox.append(record(1), { transaction: {} })).rejects.toMatchObject({
      code: 'ERR_OUTBOX_TRANSACTION',
    });
  });

  it('with create: false, refuses a table that does not exist instead of creating it', async () => {
    const outbox = outboxOn({ create: false });
    await expect(outbox.size()).rejects.toMatchObject({ code: 'ERR_OUTBOX_MISSING' });
    await outboxOn().migrate();
    expect(await outbox.size()).toBe(0);
  });

  it('says what is wrong without the password when the server cannot be reached', async () => {
    const port = new URL(env.url).port;
    const outbox = new PostgresOutbox({
      connectionString: `postgres://app:s3cret-pw@127.0.0.1:${Number(port) + 1}/x`,
      retryMs: 0,
    });
    const error = (await outbox.size().catch((e: unknown) => e)) as PostgresOutboxError;
    expect(error).toBeInstanceOf(PostgresOutboxError);
    expect(error.message).toMatch(/cannot be reached/);
    expect(error.message).not.toContain('s3cret-pw');
    await outbox.close();
  });

  it('dedups across the fleet: the same key from two instances at once is stored once, and stays refused after delivery', async () => {
    const left = outboxOn();
    const right = outboxOn();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? left : right).append(record(7))),
    );
    expect(results.filter((r) => r === 'appended')).toHaveLength(1);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(19);
    const [claimed] = await left.claim({ maxEvents: 10, maxBytes: 1e6 });
    await left.ack([claimed!.key]);
    expect(await right.append(record(7))).toBe('duplicate');
    expect(await rows()).toEqual([{ id: 'o7', state: 'delivered', body: '' }]);
  });

  it('dedups across the fleet with two clients: the same order tracked on two instances reaches the API once', async () => {
    const a = clientOn(outboxOn());
    const b = clientOn(outboxOn());
    const order = {
      type: 'order_created' as const,
      id: 'order_1001',
      data: { amount: 12999, currency: 'USD' },
    };
    const [first, second] = await Promise.all([a.track(order, context), b.track(order, context)]);
    expect([first.status, second.status]).toEqual(['queued', 'queued']);
    await Promise.all([a.flush(), b.flush()]);
    const late = await b.track(order, context);
    expect(late).toMatchObject({ status: 'queued', duplicate: true });
    await Promise.all([a.shutdown(), b.shutdown()]);
    expect(env.sandbox.events().map((e) => e.event.id)).toEqual(['order_1001']);
  });

  it("lets a killed sender's lease expire, then hands the same bytes to another sender", async () => {
    let now = 1_000_000;
    const a = outboxOn({ leaseMs: 1_000, now: () => now });
    const b = outboxOn({ leaseMs: 1_000, now: () => now });
    const body = '{"id":"o1","exact":"bytes ✓ — ünïcödé 🧾"}';
    await a.append(record(1, { body, bytes: Buffer.byteLength(body) }));
    expect((await a.claim({ maxEvents: 10, maxBytes: 1e6 })).map((r) => r.body)).toEqual([body]);
    now += 999;
    expect(await b.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
    now += 1;
    const again = await b.claim({ maxEvents: 10, maxBytes: 1e6 });
    expect(again.map((r) => [r.body, r.bytes])).toEqual([[body, Buffer.byteLength(body)]]);
    // The first sender's late ack does not touch the row now leased to the second.
    await a.ack([record(1).key]);
    expect((await rows()).map((r) => r.state)).toEqual(['leased']);
    await b.ack([record(1).key]);
    expect((await rows()).map((r) => r.state)).toEqual(['delivered']);
  });

  onServer(
    'senders claiming at the same moment each get different rows (SKIP LOCKED) [needs a PostgreSQL server]',
    async () => {
      const senders = Array.from({ length: 4 }, () => outboxOn());
      for (let i = 0; i < 400; i++) await senders[0]!.append(record(i));
      const claimed: string[] = [];
      await Promise.all(
        senders.map(async (sender) => {
          for (;;) {
            const batch = await sender.claim({ maxEvents: 7, maxBytes: 1e6 });
            if (batch.length === 0) return;
            claimed.push(...batch.map((r) => r.id));
            await sender.ack(batch.map((r) => r.key));
          }
        }),
      );
      expect(claimed).toHaveLength(400);
      expect(new Set(claimed).size).toBe(400);
    },
  );

  it('holds a partial batch of fresh events for the batch window; full batches and retries go at once', async () => {
    let now = 10_000_000;
    const outbox = outboxOn({ batchWindowMs: 1_000, now: () => now });
    for (let i = 0; i < 3; i++) await outbox.append(record(i));
    expect(await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
    const full = await outbox.claim({ maxEvents: 2, maxBytes: 1e6 });
    expect(full.map((r) => r.id)).toEqual(['o0', 'o1']);
    await outbox.release(full.map((r) => ({ ...r, attempts: 1 })));
    expect((await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).map((r) => r.id)).toEqual([
      'o0',
      'o1',
      'o2',
    ]);
    await outbox.append(record(3));
    now += 999;
    expect(await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
    now += 1;
    expect((await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).map((r) => r.id)).toEqual(['o3']);
  });

  it('releases put rows back in place with their attempts', async () => {
    const outbox = outboxOn();
    for (let i = 0; i < 3; i++) await outbox.append(record(i));
    const batch = await outbox.claim({ maxEvents: 2, maxBytes: 1e6 });
    await outbox.release(batch.map((r) => ({ ...r, attempts: 2 })));
    expect((await outbox.claim({ maxEvents: 5, maxBytes: 1e6 })).map((r) => [r.id, r.attempts])).toEqual([
      ['o0', 2],
      ['o1', 2],
      ['o2', 0],
    ]);
  });

  it('prunes delivered keys after the dedup window and bounds dead letters by count and age; replays and purges', async () => {
    let now = 5_000_000;
    const outbox = outboxOn({
      dedupWindowMs: 60_000,
      deadLetterCapacity: 2,
      deadLetterRetentionMs: 10_000,
      pruneIntervalMs: 0,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) await outbox.append(record(i));
    await outbox.claim({ maxEvents: 5, maxBytes: 1e6 });
    await outbox.ack([record(0).key]);
    expect(await outbox.prune()).toEqual({ delivered: 0, dead: 0 });
    await outbox.deadLetter(
      [1, 2, 3].map((i) => ({
        key: record(i).key,
        reason: 'invalid' as const,
        message: `bad ${i}`,
        at: now + i,
      })),
    );
    expect((await outbox.deadLetters()).map((d) => [d.record.id, d.message])).toEqual([
      ['o2', 'bad 2'],
      ['o3', 'bad 3'],
    ]);
    now += 60_000;
    await outbox.deadLetter([{ key: record(4).key, reason: 'stale', message: 'old', at: now }]);
    expect((await outbox.deadLetters()).map((d) => [d.record.id, d.reason])).toEqual([['o4', 'stale']]);
    expect(await outbox.prune()).toEqual({ delivered: 1, dead: 0 });
    expect(await outbox.append(record(0))).toBe('appended'); // outside the window it is a new event
    expect(await outbox.replay()).toBe(1);
    expect((await outbox.claim({ maxEvents: 5, maxBytes: 1e6 })).map((r) => [r.id, r.attempts])).toEqual([
      ['o4', 0],
      ['o0', 0],
    ]);
    await outbox.deadLetter([{ key: record(4).key, reason: 'invalid', message: 'again', at: now }]);
    expect(await outbox.purge()).toBe(1);
    expect((await rows()).map((r) => [r.id, r.state])).toEqual([['o0', 'leased']]);
  });

  it('deletes delivered rows at once with dedupWindowMs: 0', async () => {
    const outbox = outboxOn({ dedupWindowMs: 0 });
    await outbox.append(record(1));
    await outbox.ack((await outbox.claim({ maxEvents: 5, maxBytes: 1e6 })).map((r) => r.key));
    expect(await rows()).toEqual([]);
  });

  it('with the client: dead letters are listed with reasons, and replayed from another instance to delivery', async () => {
    env.sandbox.setFaults([{ rejectIds: ['order_3'] }]);
    const conversions = clientOn(outboxOn());
    for (let i = 0; i < 10; i++)
      await conversions.track({ type: 'order_created', id: `order_${i}` }, context);
    await conversions.flush();
    expect((await conversions.deadLetters()).map((d) => [d.record.id, d.reason])).toEqual([
      ['order_3', 'invalid'],
    ]);
    env.sandbox.setFaults([]);
    const other = clientOn(outboxOn());
    expect(await other.replay()).toBe(1);
    await other.flush();
    expect(new Set(env.sandbox.events().map((e) => e.event.id)).size).toBe(10);
    await Promise.all([conversions.shutdown(), other.shutdown()]);
    expect(await outboxOn().size()).toBe(0);
  });
});

describe('transactional enqueue', () => {
  beforeEach(async () => {
    await env.pool.query(`CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY)`);
  });

  onServer(
    'rolled back: nothing is stored or sent; committed: sent once; flush() settles both [needs a PostgreSQL server]',
    async () => {
      const outbox = outboxOn();
      const conversions = clientOn(outboxOn());
      const place = async (id: string, outcome: 'COMMIT' | 'ROLLBACK') => {
        const client = await env.pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('INSERT INTO orders (id) VALUES ($1)', [id]);
          const result = await conversions.track(
            { type: 'order_created', id, data: { amount: 4200, currency: 'USD' } },
            context,
            { transaction: client },
          );
          expect(result.status).toBe('queued');
          // Not visible to any sender before the commit.
          expect(await outbox.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
          await client.query(outcome);
        } finally {
          client.release();
        }
      };
      await place('order_rolled_back', 'ROLLBACK');
      await place('order_committed', 'COMMIT');
      const stats = await conversions.flush();
      expect(env.sandbox.events().map((e) => e.event.id)).toEqual(['order_committed']);
      expect(stats).toMatchObject({ accepted: 2, delivered: 1, handledElsewhere: 1, queued: 0 });
      expect((await env.pool.query('SELECT id FROM orders')).rows).toEqual([{ id: 'order_committed' }]);
      expect((await rows()).map((r) => [r.id, r.state])).toEqual([['order_committed', 'delivered']]);
      await conversions.shutdown();
    },
  );

  onServer(
    'runs on your client alone: a pool of one connection, held by the transaction, is enough [needs a PostgreSQL server]',
    async () => {
      const single = new pg.Pool({ connectionString: env.url, max: 1 });
      const outbox = new PostgresOutbox({ pool: single, table: env.table, batchWindowMs: 0 });
      await outbox.migrate();
      const conversions = clientOn(outbox);
      const client = await single.connect();
      await client.query('BEGIN');
      const result = await conversions.track({ type: 'order_created', id: 'one_connection' }, context, {
        transaction: client,
      });
      await client.query('COMMIT');
      client.release();
      expect(result.status).toBe('queued');
      await conversions.shutdown();
      expect(env.sandbox.events().map((e) => e.event.id)).toEqual(['one_connection']);
      await outbox.close();
      await single.end();
    },
  );

  onServer('a request view passes the transaction too [needs a PostgreSQL server]', async () => {
    const conversions = clientOn(outboxOn());
    const view = conversions.forRequest(
      { url: 'https://shop.example/checkout', header: () => undefined },
      { consent: 'granted' },
    );
    const client = await env.pool.connect();
    await client.query('BEGIN');
    await view.track({ type: 'order_created', id: 'view_order' }, { transaction: client });
    await client.query('COMMIT');
    client.release();
    await conversions.flush();
    expect(env.sandbox.events().map((e) => e.event.id)).toEqual(['view_order']);
    await conversions.shutdown();
  });
});

describe('wake-ups', () => {
  onServer(
    'calls onWake listeners when any instance stores an event (LISTEN/NOTIFY) [needs a PostgreSQL server]',
    async () => {
      const listening = outboxOn({ wakeDelayMs: 0 });
      let woken = 0;
      listening.onWake(() => woken++);
      await listening.migrate();
      // Until the LISTEN is in place an insert can pass unheard: keep inserting until one is heard.
      const writer = outboxOn();
      for (let i = 0; woken === 0; i++) {
        await writer.append(record(i));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(woken).toBeGreaterThan(0);
    },
  );
});

describe('across processes', () => {
  it('migrates once when six processes start on an empty database at the same moment', async () => {
    const fresh = await env.server.createDatabase('migrate_race');
    const outputs = await Promise.all(
      Array.from({ length: 6 }, () =>
        run(process.execPath, [fixture('migrate.mjs'), fresh, 'fleet', 'conversions'], { timeout: 60_000 }),
      ),
    );
    for (const { stdout } of outputs) expect(JSON.parse(stdout)).toEqual({ size: 0 });
    const client = new pg.Client({ connectionString: fresh });
    await client.connect();
    expect((await client.query('SELECT name, version FROM fleet.chatgpt_ads_migrations')).rows).toEqual([
      { name: 'conversions', version: 1 },
    ]);
    expect(
      (await client.query("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'fleet'")).rows[0].n,
    ).toBe(2);
    await client.end();
  });

  onServer(
    'four sender processes share one table: every event sent exactly once, by more than one sender [needs a PostgreSQL server]',
    async () => {
      const outputs = await Promise.all(
        ['a', 'b', 'c', 'd'].map((prefix) =>
          run(
            process.execPath,
            [fixture('sender.mjs'), env.url, env.table, env.sandbox.endpoint, prefix, '300', 'flush'],
            {
              timeout: 90_000,
            },
          ),
        ),
      );
      const reports = outputs.map(
        ({ stdout }) =>
          JSON.parse(stdout.trim().split('\n').at(-1)!) as {
            delivered: string[];
            stats: { retried: number };
          },
      );
      const events = env.sandbox.events();
      const ids = [...new Set(events.map((e) => e.event.id))].sort();
      expect(ids).toHaveLength(1200);
      // Each event is delivered (acknowledged) by exactly one sender: no two live senders share a claim.
      expect(reports.flatMap((r) => r.delivered).sort()).toEqual(ids);
      // A copy beyond the first can only come from a send that timed out on a starved machine and was
      // retried with the same bytes (OpenAI keeps the first); never from a second claim.
      const copies = events.filter((e) => e.duplicateOf !== undefined).length;
      expect(copies).toBeLessThanOrEqual(reports.reduce((sum, r) => sum + r.stats.retried, 0));
      expect(reports.filter((r) => r.delivered.length > 0).length).toBeGreaterThan(1);
      expect(await outboxOn().size()).toBe(0);
    },
  );
});
