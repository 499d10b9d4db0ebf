// The client under test, in its own process: node client.mjs '<json config>'
// It tracks `rate` events a second for `seconds`, writing each tracked id to `journal` first (so the
// drill knows what was accepted even if this process is killed), then flushes and prints its stats.
import { appendFileSync } from 'node:fs';
import { createConversions, MemoryOutbox } from '@chatgpt-ads/core';
import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
import pg from 'pg';

const config = JSON.parse(process.argv[2]);
// PostgreSQL: the app's own pool, shared with the outbox (as the transactional example does).
const pool = config.postgres ? new pg.Pool({ connectionString: config.postgres.url, max: 4 }) : undefined;
pool?.on('error', () => {}); // a server restart drops idle connections; the next query reconnects
const outbox = config.sqlite
  ? new SqliteOutbox({ path: config.sqlite, leaseMs: 5_000 })
  : config.postgres
    ? new PostgresOutbox({ pool, table: config.postgres.table, leaseMs: 3_000, batchWindowMs: 200 })
    : new MemoryOutbox();
const conversions = createConversions({
  pixelId: 'px_drill',
  apiKey: 'sk_drill',
  endpoint: config.endpoint,
  outbox,
  batch: { flushIntervalMs: 200, maxEvents: config.maxEvents ?? 1000, concurrency: config.concurrency ?? 2 },
  retry: { baseDelayMs: 100, maxDelayMs: 2_000, timeoutMs: 1_000 },
  logger: { warn() {}, error() {} },
  // Says when a batch leaves, so the drill can kill this process while the batch is in flight.
  ...(config.announceSends
    ? {
        fetch: (...args) => {
          process.stdout.write('sending\n');
          return fetch(...args);
        },
      }
    : {}),
});
const context = {
  consent: 'granted',
  ip: '203.0.113.7',
  userAgent: 'drill',
  sourceUrl: 'https://shop.example/checkout',
};

let stopping = false;
process.once('SIGTERM', async () => {
  stopping = true;
  const stats = await conversions.shutdown({ timeoutMs: 15_000 });
  report(stats);
  process.exit(0);
});

async function placeOrder(id, input, rollBack) {
  let client;
  try {
    client = await pool.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO drill_orders (id) VALUES ($1)', [id]);
    const result = await conversions.track(input, context, { transaction: client });
    await client.query(rollBack || result.status !== 'queued' ? 'ROLLBACK' : 'COMMIT');
    return result.status === 'queued';
  } catch {
    await client?.query('ROLLBACK').catch(() => {});
    return false; // not committed (e.g. the server restarted under it): the order failed, as the app sees it
  } finally {
    client?.release();
  }
}

function report(stats) {
  process.stdout.write(`${JSON.stringify({ stats })}\n`);
}

const started = Date.now();
let n = 0;
while (!stopping && Date.now() - started < config.seconds * 1000) {
  const due = Math.floor(((Date.now() - started) / 1000) * config.rate);
  while (n < due && !stopping) {
    const id = `${config.prefix}_${n}`;
    // Some scenarios age part of the events: just inside the 7-day window at accept time.
    const timestampMs = config.ageMs && n % 2 === 0 ? Date.now() - config.ageMs : undefined;
    const input = {
      type: 'order_created',
      id,
      data: { amount: 1000 + n, currency: 'USD' },
      user: { email: `b${n}@example.com` },
      ...(timestampMs ? { timestampMs } : {}),
    };
    if (config.transactional) {
      // The order and its conversion in one transaction; every third order is rolled back.
      const rollBack = n % 3 === 2;
      if (await placeOrder(id, input, rollBack))
        appendFileSync(rollBack ? `${config.journal}.rolledback` : config.journal, `${id}\n`);
    } else {
      const result = await conversions.track(input, context);
      if (result.status === 'queued') appendFileSync(config.journal, `${id}\n`);
    }
    if (n++ === 0) process.stdout.write('started\n');
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
if (!stopping) {
  process.stdout.write('tracked\n');
  if (config.afterTracking === 'wait') await new Promise(() => {});
  const stats = await conversions.shutdown({ timeoutMs: config.flushTimeoutMs ?? 120_000 });
  report(stats);
  if (config.sqlite) outbox.close();
  if (config.postgres) {
    await outbox.close();
    await pool.end();
  }
}
