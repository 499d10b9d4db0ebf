import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startPostgres } from './index.js';

const servers = [];
afterAll(async () => {
  for (const server of servers) await server.stop();
});

const query = async (url, sql) => {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

for (const engine of ['auto', 'pglite']) {
  it(`${engine}: serves SQL on loopback, keeps data across a restart, creates databases, then stops`, async () => {
    const server = await startPostgres({ engine });
    servers.push(server);
    expect(new URL(server.url).hostname).toBe('127.0.0.1');
    await query(server.url, 'CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2)');
    await server.restart();
    expect(await query(server.url, 'SELECT count(*)::int AS n FROM t')).toEqual([{ n: 2 }]);
    const other = await server.createDatabase();
    expect(await query(other, "SELECT to_regclass('t') AS t")).toEqual([{ t: null }]);
    await server.stop();
    await expect(query(server.url, 'SELECT 1')).rejects.toThrow();
    // initdb, two starts and a stop: minutes, not seconds, on a busy two-core machine.
  }, 180_000);
}
