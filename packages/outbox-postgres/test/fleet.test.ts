// Behaviour of core's client on a shared PostgreSQL outbox (issue 19, point 6), a sender killed
// mid-batch, and a server restart under traffic.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConversions } from '@chatgpt-ads/core';
import { startPostgres } from '@tooling/postgres';
import { describe, expect, it } from 'vitest';
import { PostgresOutbox } from '../src/index.js';
import { context, needsServer, quiet, record, useTestEnvironment } from './helpers.js';

const env = useTestEnvironment('fleet');
const onServer = needsServer('fleet.test.ts');
const outboxOn = env.outboxOn;
const seedRecord = (i: number) => {
  const body = JSON.stringify({
    id: `seed_${i}`,
    type: 'order_created',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://shop.example/',
    data: { type: 'contents' },
  });
  return record(i, {
    key: JSON.stringify(['px_pg', 'order_created', `seed_${i}`]),
    id: `seed_${i}`,
    body,
    bytes: Buffer.byteLength(body),
    timestampMs: Date.now(),
  });
};
const states = async () =>
  (await env.pool.query(`SELECT state, count(*)::int AS n FROM "${env.table}" GROUP BY state ORDER BY state`))
    .rows;

describe('core on a shared outbox', () => {
  it('a process started on a backlog that another drains ends with nothing queued and no false warning', async () => {
    const seed = outboxOn();
    for (let i = 0; i < 50; i++) await seed.append(seedRecord(i));
    const warnings: string[] = [];
    // B cannot reach the endpoint (port 9 refuses); A can. Both count the 50 as their backlog.
    const b = createConversions({
      pixelId: 'px_pg',
      apiKey: 'sk',
      endpoint: 'http://127.0.0.1:9/v1/events',
      outbox: outboxOn({ leaseMs: 60_000 }),
      batch: { flushIntervalMs: 20, maxEvents: 10 },
      retry: { baseDelayMs: 50, maxDelayMs: 100 },
      logger: { warn: (m: string) => warnings.push(m), error() {} },
    });
    const a = createConversions({
      pixelId: 'px_pg',
      apiKey: 'sk',
      endpoint: env.sandbox.endpoint,
      outbox: outboxOn(),
      batch: { flushIntervalMs: 20 },
      logger: quiet,
    });
    await a.flush();
    await a.shutdown();
    expect(new Set(env.sandbox.events().map((e) => e.event.id)).size).toBe(50);
    const stats = await b.shutdown({ timeoutMs: 5_000 });
    expect(stats.queued).toBe(0);
    expect(stats.delivered).toBe(0);
    expect(warnings.filter((m) => /still queued/.test(m))).toEqual([]);
    expect(await states()).toEqual([{ state: 'delivered', n: 50 }]);
  });

  it('shutdown() waits for the batch in flight and leaves it released, not leased to a dead process', async () => {
    env.sandbox.setFaults([{ hang: true, times: 'always' }]);
    const conversions = createConversions({
      pixelId: 'px_pg',
      apiKey: 'sk',
      endpoint: env.sandbox.endpoint,
      outbox: outboxOn(),
      batch: { flushIntervalMs: 10 },
      retry: { timeoutMs: 300 },
      logger: quiet,
    });
    for (let i = 0; i < 5; i++)
      await conversions.track({ type: 'order_created', id: `inflight_${i}` }, context);
    await expect.poll(() => env.sandbox.requests().length, { timeout: 15_000 }).toBeGreaterThan(0);
    const stats = await conversions.shutdown({ timeoutMs: 10 });
    expect(stats.queued).toBe(5);
    const requests = env.sandbox.requests().length;
    expect(await states()).toEqual([{ state: 'waiting', n: 5 }]);
    // Nothing is claimed after shutdown: a second look finds the same rows, still waiting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await states()).toEqual([{ state: 'waiting', n: 5 }]);
    expect(env.sandbox.requests().length).toBe(requests);
  });
});

describe('wake-ups', () => {
  onServer(
    'an idle instance delivers what another instance stored, woken by LISTEN/NOTIFY [needs a PostgreSQL server]',
    async () => {
      const idleOutbox = outboxOn({ wakeDelayMs: 10 });
      const idle = createConversions({
        pixelId: 'px_pg',
        apiKey: 'sk',
        endpoint: env.sandbox.endpoint,
        outbox: idleOutbox,
        logger: quiet,
      });
      // No wiring: the client subscribes to the outbox's wake-ups itself.
      await idleOutbox.migrate();
      // Another instance stores events and never sends them (it died right after its commits). The
      // first may pass before the LISTEN is in place, so store one more until one is heard.
      const writer = outboxOn();
      for (let i = 0; env.sandbox.events().length === 0; i++) {
        await writer.append(seedRecord(i));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await expect
        .poll(async () => (await states()).map((row) => row.state), { timeout: 15_000 })
        .toEqual(['delivered']);
      expect(idle.stats().delivered).toBeGreaterThan(0);
      await idle.shutdown();
    },
  );
});

describe('failures', () => {
  it('a sender killed mid-batch: the restarted one delivers every event with identical bytes', async () => {
    const sender = join(import.meta.dirname, 'fixtures', 'sender.mjs');
    env.sandbox.setFaults([{ hang: true, times: 'always' }]);
    const child = spawn(
      process.execPath,
      [sender, env.url, env.table, env.sandbox.endpoint, 'crash', '200', 'hang', '2000'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    await expect.poll(() => out, { timeout: 30_000 }).toContain('tracked');
    await expect
      .poll(() => env.sandbox.requests().some((r) => r.fault === 'hang'), { timeout: 15_000 })
      .toBe(true);
    const before = new Map(
      (await env.pool.query(`SELECT id, body FROM "${env.table}"`)).rows.map(
        (r: { id: string; body: string }) => [r.id, r.body],
      ),
    );
    expect(before.size).toBe(200);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    env.sandbox.setFaults([]);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [sender, env.url, env.table, env.sandbox.endpoint, 'after', '0', 'flush', '2000'],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!).stats).toMatchObject({ queued: 0 });
    const delivered = env.sandbox.events();
    expect(new Set(delivered.map((e) => e.event.id)).size).toBe(200);
    for (const e of delivered) expect(JSON.stringify(e.event)).toBe(before.get(e.event.id));
    expect(await states()).toEqual([{ state: 'delivered', n: 200 }]);
  });

  it('a PostgreSQL restart under traffic: nothing refused, nothing lost, listeners woken again', async () => {
    const own = await startPostgres();
    try {
      const outbox = new PostgresOutbox({
        connectionString: own.url,
        table: env.table,
        wakeDelayMs: 0,
        batchWindowMs: 10,
      });
      let woken = 0;
      outbox.onWake(() => woken++);
      const conversions = createConversions({
        pixelId: 'px_pg',
        apiKey: 'sk',
        endpoint: env.sandbox.endpoint,
        outbox,
        batch: { flushIntervalMs: 10, maxEvents: 20 },
        logger: quiet,
      });
      const results: string[] = [];
      for (let i = 0; i < 100; i++)
        results.push((await conversions.track({ type: 'order_created', id: `r_${i}` }, context)).status);
      const before = woken;
      await own.restart();
      for (let i = 100; i < 200; i++)
        results.push((await conversions.track({ type: 'order_created', id: `r_${i}` }, context)).status);
      await conversions.flush();
      await conversions.shutdown();
      expect(results.filter((s) => s !== 'queued')).toEqual([]);
      expect(new Set(env.sandbox.events().map((e) => e.event.id)).size).toBe(200);
      await expect.poll(() => woken, { timeout: 15_000 }).toBeGreaterThan(before);
      await outbox.close();
    } finally {
      await own.stop();
    }
  });
});
