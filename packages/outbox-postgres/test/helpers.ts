// One throwaway PostgreSQL server, database, pool and sandbox per test file; a fresh table per test.
import type { OutboxRecord } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { plannedEngine, startPostgres, type ThrowawayPostgres } from '@tooling/postgres';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, it } from 'vitest';
import { PostgresOutbox, type PostgresOutboxOptions } from '../src/index.js';

export interface TestEnvironment {
  server: ThrowawayPostgres;
  url: string;
  pool: pg.Pool;
  sandbox: Sandbox;
  /** This test's table. */
  table: string;
  /** A PostgresOutbox on this test's table, closed after the test. */
  outboxOn(options?: Partial<PostgresOutboxOptions>): PostgresOutbox;
}

export function useTestEnvironment(database: string): TestEnvironment {
  let tables = 0;
  const open: PostgresOutbox[] = [];
  const env = {
    table: '',
    outboxOn(options: Partial<PostgresOutboxOptions> = {}) {
      // Batches go at once in tests unless a test says otherwise.
      const outbox = new PostgresOutbox({
        connectionString: env.url,
        table: env.table,
        batchWindowMs: 0,
        ...options,
      });
      open.push(outbox);
      return outbox;
    },
  } as TestEnvironment;
  beforeAll(async () => {
    env.server = await startPostgres();
    env.url = await env.server.createDatabase(database);
    env.pool = new pg.Pool({ connectionString: env.url, max: 6 });
    env.pool.on('error', () => {}); // a restart drops idle connections
    env.sandbox = await startSandbox({ port: 0 });
  });
  afterAll(async () => {
    await env.pool?.end();
    await env.sandbox?.close();
    await env.server?.stop();
  });
  beforeEach(() => {
    env.table = `${database}_${++tables}`;
    env.sandbox.reset();
    env.sandbox.setFaults([]);
  });
  afterEach(async () => {
    for (const outbox of open.splice(0)) await outbox.close();
  });
  return env;
}

/** A stored event as core would append it; `body` is a valid wire event when `wire` is set. */
export const record = (i: number, overrides: Partial<OutboxRecord> = {}): OutboxRecord => ({
  key: JSON.stringify(['px', 'order_created', `o${i}`]),
  id: `o${i}`,
  body: JSON.stringify({ id: `o${i}`, type: 'order_created', n: i }),
  bytes: 40,
  timestampMs: 1_795_000_000_000,
  acceptedAt: 1_795_000_000_000,
  attempts: 0,
  ...overrides,
});

export const context = { consent: 'granted' as const, sourceUrl: 'https://shop.example/checkout' };
export const quiet = { warn() {}, error() {} };

/**
 * Tests that need concurrent sessions (transactions held open on two connections, SKIP LOCKED
 * between processes, LISTEN/NOTIFY) run on a real server only. On PGlite, which runs one query at a
 * time, they are skipped, and the file says so: never silently.
 */
export function needsServer(file: string): typeof it.skip {
  if (plannedEngine() === 'postgres') return it;
  process.stderr.write(
    `[${file}] PGlite runs these tests: those marked "needs a PostgreSQL server" are skipped (install PostgreSQL: apt-get install postgresql)\n`,
  );
  return it.skip;
}
