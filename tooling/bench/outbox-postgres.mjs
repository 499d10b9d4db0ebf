// 6. A fleet on one PostgreSQL outbox: 100,000 events tracked by four sender processes that share one
// table, delivered into the counting sink (servers/counting-sink.mjs, its own process): events/s
// from the first track() to the last delivery, HTTP requests per 1,000 events, copies beyond the
// first, and the table's size after delivery and after pruning. Baseline in the same run: the same
// four processes, each with its own in-memory outbox (nothing durable, nothing shared).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';
import { plannedEngine, startPostgres } from '@tooling/postgres';
import pg from 'pg';
import { heading, save, smoke, startChild, stopChild } from './lib.mjs';

const execute = promisify(execFile);
const sender = fileURLToPath(new URL('./outbox-postgres-sender.mjs', import.meta.url));
const sinkScript = fileURLToPath(new URL('./servers/counting-sink.mjs', import.meta.url));
const SENDERS = 4;

const mb = (bytes) => Number((bytes / 2 ** 20).toFixed(1));

async function fleet(sink, kind, total, url) {
  await fetch(`http://127.0.0.1:${sink.port}/reset`, { method: 'POST' });
  const endpoint = `http://127.0.0.1:${sink.port}/v1/events`;
  const started = performance.now();
  const outputs = await Promise.all(
    Array.from({ length: SENDERS }, (_, i) =>
      execute(process.execPath, [sender, endpoint, `${kind}${i}`, String(total / SENDERS), kind, url ?? ''], {
        maxBuffer: 1 << 24,
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  const counts = await (await fetch(`http://127.0.0.1:${sink.port}/count`)).json();
  const stats = outputs.map(({ stdout }) => JSON.parse(stdout.trim().split('\n').at(-1)));
  return {
    outbox: kind === 'postgres' ? 'PostgreSQL, one shared table' : 'memory, one per process (baseline)',
    events: total,
    delivered: counts.distinct,
    'copies beyond the first': counts.events - counts.distinct,
    'events/s': Math.round(total / seconds),
    'requests / 1,000 events': Number(((counts.requests / total) * 1000).toFixed(2)),
    'delivered by each sender': stats.map((s) => s.delivered).join(' / '),
    'tracking / shutdown s (slowest sender)': `${Math.max(...stats.map((s) => s.seconds.tracking)).toFixed(1)} / ${Math.max(...stats.map((s) => s.seconds.shutdown)).toFixed(1)}`,
    seconds: Number(seconds.toFixed(1)),
  };
}

async function tableSize(pool) {
  const { rows } = await pool.query(
    `SELECT pg_total_relation_size('chatgpt_ads_outbox') AS bytes, (SELECT count(*)::int FROM chatgpt_ads_outbox) AS rows`,
  );
  return { bytes: Number(rows[0].bytes), rows: rows[0].rows };
}

export async function run() {
  const total = smoke ? 4_000 : 100_000;
  heading(`${total.toLocaleString('en-US')} events through four senders sharing one PostgreSQL outbox`);
  if (plannedEngine() !== 'postgres') {
    // PGlite answers one query at a time: its figures would measure that, not a shared outbox.
    console.log('Not run: no PostgreSQL binaries on this machine (install postgresql).');
    return [];
  }
  const server = await startPostgres();
  const sink = await startChild(sinkScript, []);
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  try {
    const baseline = await fleet(sink, 'memory', total);
    const shared = await fleet(sink, 'postgres', total, server.url);
    // Delivered rows keep only their key for the dedup window (7 days by default).
    const delivered = await tableSize(pool);
    // What the table holds once the window has passed: pruned (dedupWindowMs 0 stands for "later"), then vacuumed.
    const later = new PostgresOutbox({ connectionString: server.url, dedupWindowMs: 0 });
    const pruned = await later.prune();
    await later.close();
    await pool.query('VACUUM chatgpt_ads_outbox');
    const vacuumed = await tableSize(pool);
    await pool.query('VACUUM FULL chatgpt_ads_outbox');
    const compacted = await tableSize(pool);
    shared['table after delivery MB (keys kept for dedup)'] = mb(delivered.bytes);
    shared['after pruning MB (VACUUM / VACUUM FULL)'] = `${mb(vacuumed.bytes)} / ${mb(compacted.bytes)}`;
    shared['rows after pruning'] = vacuumed.rows;
    const rows = [baseline, shared];
    console.table(rows);
    console.log(
      `Engine: ${server.description}. Pruning deleted ${pruned.delivered.toLocaleString('en-US')} delivered keys; plain VACUUM keeps the space for reuse, VACUUM FULL returns it.`,
    );
    save('outbox-postgres', { engine: server.description, rows });
    return rows;
  } finally {
    await pool.end();
    await stopChild(sink.child);
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
