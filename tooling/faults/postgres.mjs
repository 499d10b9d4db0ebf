// The fleet drill: four sender processes sharing one PostgreSQL outbox on a throwaway server
// (tooling/postgres: the machine's binaries, or PGlite, printed at start). Dead letters and what is
// still queued are read from the table itself, since no single client sees the whole fleet.
import { readFileSync } from 'node:fs';
import { plannedEngine, startPostgres } from '@tooling/postgres';
import pg from 'pg';

const SENDERS = ['a', 'b', 'c', 'd'];
// One batch in flight per sender, so a killed sender holds at most one leased batch.
const MAX_EVENTS = 100;

/**
 * @param {{ quick: boolean, runClient: Function, tallyCounts: Function, sandbox: any, wait: (ms: number) => Promise<void> }} drill
 */
export function postgresScenarios({ quick, runClient, tallyCounts, sandbox, wait }) {
  // PGlite answers one query at a time: it cannot stand in for a server that four processes share.
  if (plannedEngine() !== 'postgres') {
    const reason =
      'not run: no PostgreSQL binaries on this machine (PGlite cannot serve four concurrent senders); install postgresql';
    process.stderr.write(`PostgreSQL rows ${reason}\n`);
    return { scenarios: [], engine: () => reason, stop: async () => {} };
  }
  let server;
  let pool;
  let tables = 0;
  const rate = quick ? 50 : 150;
  const seconds = quick ? 3 : 8;

  async function table() {
    if (!server) {
      server = await startPostgres();
      pool = new pg.Pool({ connectionString: server.url, max: 2 });
      pool.on('error', () => {}); // the restart scenario drops idle connections
    }
    return `drill_${++tables}`;
  }

  // Starts the four senders on one table; `extra` per sender.
  function fleet(name, prefix, outboxTable, extra = {}) {
    return SENDERS.map((sender) =>
      runClient(`${name} ${sender}`, {
        prefix: `${prefix}${sender}`,
        rate,
        seconds,
        maxEvents: MAX_EVENTS,
        concurrency: 1,
        postgres: { url: server.url, table: outboxTable },
        ...extra,
      }),
    );
  }

  async function counts(outboxTable) {
    const { rows } = await pool.query(
      `SELECT state, coalesce(dead_reason, '') AS reason, count(*)::int AS n FROM "${outboxTable}" GROUP BY 1, 2`,
    );
    const dead = { invalid: 0, stale: 0, too_large: 0 };
    let queued = 0;
    for (const row of rows) {
      if (row.state === 'dead') dead[row.reason] += row.n;
      if (row.state === 'waiting' || row.state === 'leased') queued += row.n;
    }
    return { dead, queued };
  }

  async function row(name, outboxTable, clients, notes) {
    const stats = await Promise.all(clients.map((c) => c.stats()));
    // track() answers refused (outbox_error) when the outbox cannot store: the caller knows, nothing is lost.
    const refused = stats.reduce((sum, s) => sum + (s?.refused ?? 0), 0);
    return tallyCounts(
      name,
      'postgres',
      clients.map((c) => c.journal),
      await counts(outboxTable),
      `${notes}${refused ? `; ${refused} track() refused` : ''}`,
    );
  }

  const scenarios = [
    {
      name: 'four senders on one table',
      async run() {
        const t = await table();
        const clients = fleet(this.name, 'pgfour', t);
        return row(this.name, t, clients, `4 processes × ${rate}/s; claims skip rows others hold`);
      },
    },
    {
      name: 'SIGKILL of one sender mid-batch, then its restart',
      async run() {
        const t = await table();
        // Every request takes 300 ms, so the killed sender is almost surely holding a batch in flight.
        sandbox.setFaults([{ latencyMs: 300, times: 'always' }]);
        const clients = fleet(this.name, 'pgkill', t, { announceSends: true });
        await Promise.all(clients.map((c) => c.until('started')));
        await wait((seconds * 1000) / 2);
        // Whichever sender's batch leaves next is killed that moment, so the batch is leased to it and in
        // flight. Waiting on one chosen sender was a race: the others could claim every row before it did.
        const victim = await Promise.any(clients.map((c) => c.next('sending').then(() => c)));
        victim.child.kill('SIGKILL');
        await victim.exited;
        const restart = runClient(`${this.name} (restart)`, {
          prefix: 'pgkill_after',
          rate: 0,
          seconds: 0,
          maxEvents: MAX_EVENTS,
          concurrency: 1,
          postgres: { url: server.url, table: t },
        });
        const result = await row(
          this.name,
          t,
          [...clients, restart],
          `killed as a batch left; copies only from that leased batch (at most ${MAX_EVENTS}), resent after its 3 s lease`,
        );
        sandbox.setFaults([]);
        return result;
      },
    },
    {
      name: 'PostgreSQL restart (pg_ctl restart) mid-run',
      async run() {
        const t = await table();
        const clients = fleet(this.name, 'pgrestart', t);
        await clients[0].until('started');
        await wait((seconds * 1000) / 2);
        await server.restart();
        return row(
          this.name,
          t,
          clients,
          `${server.engine === 'postgres' ? 'pg_ctl restart -m fast' : 'PGlite socket restart'}; operations retry the dropped connections`,
        );
      },
    },
    {
      name: 'transactional enqueue under load: rolled back vs committed',
      async run() {
        const t = await table();
        await pool.query('CREATE TABLE IF NOT EXISTS drill_orders (id text PRIMARY KEY)');
        const clients = fleet(this.name, 'pgtx', t, { transactional: true });
        const result = await row(this.name, t, clients, '');
        const rolledBack = new Set(
          clients.flatMap((c) => {
            try {
              return readFileSync(`${c.journal}.rolledback`, 'utf8').split('\n').filter(Boolean);
            } catch {
              return [];
            }
          }),
        );
        const sent = sandbox.events().filter((e) => rolledBack.has(e.event.id)).length;
        const stored = (
          await pool.query(`SELECT count(*)::int AS n FROM "${t}" WHERE id = ANY($1)`, [[...rolledBack]])
        ).rows[0].n;
        result.notes = `${rolledBack.size} rolled back: ${sent} sent, ${stored} stored; every third order rolls back${result.notes}`;
        result.rolledBackSent = sent + stored;
        return result;
      },
    },
  ];

  return {
    scenarios,
    engine: () => server?.description,
    async stop() {
      await pool?.end();
      await server?.stop();
    },
  };
}
