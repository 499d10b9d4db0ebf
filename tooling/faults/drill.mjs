// pnpm faults [--quick] [--postgres]: each scenario runs a real client in a child process against the sandbox,
// injects its fault, and reports what happened to every tracked event. Delivered, duplicates and
// lost come from the sandbox's records; dead letters and what is still queued from the client (from the table, for
// the PostgreSQL rows, which four processes share).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { postgresScenarios } from './postgres.mjs';

const quick = process.argv.includes('--quick');
const clientScript = fileURLToPath(new URL('./client.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'chatgpt-ads-faults-'));
const sandbox = await startSandbox({ port: 0, maxStored: 1_000_000 });
const DAY = 86_400_000;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let clients = 0;
function runClient(name, config) {
  const journal = join(dir, `${++clients}-${name.replace(/\W+/g, '-')}.tracked`);
  if (!existsSync(journal)) writeFileSync(journal, '');
  const child = spawn(
    process.execPath,
    [clientScript, JSON.stringify({ endpoint: sandbox.endpoint, journal, ...config })],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return {
    child,
    journal,
    exited,
    // Waits for `text` to be printed again from now on.
    next: async (text) => {
      const seen = out.split(text).length;
      while (out.split(text).length === seen) {
        if (child.exitCode !== null) throw new Error(`${name}: client exited before "${text}": ${out}`);
        await wait(5);
      }
    },
    until: async (text) => {
      while (!out.includes(text)) {
        if (child.exitCode !== null) throw new Error(`${name}: client exited before "${text}": ${out}`);
        await wait(20);
      }
    },
    stats: async () => {
      await exited;
      const line = out
        .trim()
        .split('\n')
        .reverse()
        .find((l) => l.startsWith('{'));
      return line ? JSON.parse(line).stats : undefined;
    },
  };
}

function tally(name, outbox, journals, clientStats, notes = '') {
  const dead = { invalid: 0, stale: 0, too_large: 0 };
  let queued = 0;
  for (const stats of clientStats.filter(Boolean)) {
    for (const reason of Object.keys(dead)) dead[reason] += stats.deadLetteredByReason[reason];
    queued += stats.queued;
  }
  return tallyCounts(name, outbox, journals, { dead, queued }, notes);
}

// `dead` (by reason) and `queued` come from the clients, or from a shared outbox's table.
function tallyCounts(name, outbox, journals, { dead, queued }, notes = '') {
  const tracked = new Set(journals.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter(Boolean)));
  const received = sandbox.events().filter((e) => tracked.has(e.event.id));
  const delivered = new Set(received.map((e) => e.event.id));
  const duplicates = received.length - delivered.size;
  const deadTotal = dead.invalid + dead.stale + dead.too_large;
  const lost = tracked.size - delivered.size - deadTotal - queued;
  return {
    scenario: name,
    outbox,
    tracked: tracked.size,
    delivered: delivered.size,
    'dead-lettered': deadTotal
      ? Object.entries(dead)
          .filter(([, v]) => v)
          .map(([k, v]) => `${v} ${k}`)
          .join(', ')
      : 0,
    'still queued': queued,
    lost,
    'duplicates at endpoint': duplicates,
    notes,
  };
}

const seconds = quick ? 3 : 8;
const scenarios = [
  {
    name: '5xx bursts',
    async run() {
      sandbox.setFaults([
        { status: 503, times: 4 },
        { status: 500, times: 3 },
        { status: 502, times: 2 },
      ]);
      const c = runClient(this.name, { prefix: 's5xx', rate: 200, seconds });
      return tally(this.name, 'memory', [c.journal], [await c.stats()]);
    },
  },
  {
    name: '429 with Retry-After',
    async run() {
      sandbox.setFaults([{ status: 429, retryAfter: 1, times: 3 }]);
      const c = runClient(this.name, { prefix: 's429', rate: 200, seconds });
      return tally(this.name, 'memory', [c.journal], [await c.stats()]);
    },
  },
  {
    name: 'timeouts (no answer)',
    async run() {
      sandbox.setFaults([{ hang: true, times: 3 }]);
      const c = runClient(this.name, { prefix: 'shang', rate: 200, seconds });
      return tally(
        this.name,
        'memory',
        [c.journal],
        [await c.stats()],
        'requests time out after 1 s and are retried',
      );
    },
  },
  {
    name: 'connection resets',
    async run() {
      sandbox.setFaults([{ reset: true, times: 5 }]);
      const c = runClient(this.name, { prefix: 'sreset', rate: 200, seconds });
      return tally(this.name, 'memory', [c.journal], [await c.stats()]);
    },
  },
  {
    name: `${quick ? 10 : 60}-second outage`,
    async run() {
      const outage = quick ? 10_000 : 60_000;
      sandbox.setFaults([{ status: 503, forMs: outage }]);
      const c = runClient(this.name, { prefix: 'soutage', rate: 100, seconds: outage / 1000 + 5 });
      return tally(
        this.name,
        'memory',
        [c.journal],
        [await c.stats()],
        'events keep coming during the outage',
      );
    },
  },
  {
    name: 'poison events in full batches',
    async run() {
      const poison = ['spoison_17', 'spoison_500', 'spoison_999', 'spoison_1503', 'spoison_1998'];
      sandbox.setFaults([{ rejectIds: poison }]);
      const c = runClient(this.name, { prefix: 'spoison', rate: 1000, seconds: 2 });
      const row = tally(
        this.name,
        'memory',
        [c.journal],
        [await c.stats()],
        'the endpoint rejects 5 ids (those tracked are dead-lettered)',
      );
      sandbox.setFaults([]);
      return row;
    },
  },
  {
    name: 'events going stale during an outage',
    async run() {
      // Half the events are 7 days old less 5 min 10 s: fresh when tracked, stale 10 s later.
      sandbox.setFaults([{ status: 503, forMs: 15_000 }]);
      const c = runClient(this.name, {
        prefix: 'sstale',
        rate: 100,
        seconds: 3,
        ageMs: 7 * DAY - 5 * 60_000 - 10_000,
      });
      return tally(
        this.name,
        'memory',
        [c.journal],
        [await c.stats()],
        'stale events are dead-lettered, never sent',
      );
    },
  },
  {
    name: 'SIGTERM during a flush',
    async run() {
      sandbox.setFaults([{ latencyMs: 700, times: 'always' }]);
      const c = runClient(this.name, { prefix: 'ssigterm', rate: 500, seconds: 30 });
      await c.until('started');
      await wait(2_500);
      c.child.kill('SIGTERM');
      const stats = await c.stats();
      sandbox.setFaults([]);
      return tally(this.name, 'memory', [c.journal], [stats], 'shutdown() flushes within its deadline');
    },
  },
  {
    name: 'SIGKILL mid-batch, then restart',
    async run() {
      sandbox.setFaults([{ hang: true, times: 'always' }]);
      const c = runClient(this.name, { prefix: 'skillmem', rate: 200, seconds: 2, afterTracking: 'wait' });
      await c.until('tracked');
      c.child.kill('SIGKILL');
      await c.exited;
      sandbox.setFaults([]);
      const restart = runClient(`${this.name} (restart)`, { prefix: 'skillmem_after', rate: 0, seconds: 0 });
      return tally(
        this.name,
        'memory',
        [c.journal],
        [await restart.stats()],
        'in memory, a killed process loses its queue',
      );
    },
  },
  {
    name: 'SIGKILL mid-batch, then restart',
    async run() {
      const file = join(dir, 'kill.db');
      sandbox.setFaults([{ hang: true, times: 'always' }]);
      const c = runClient(this.name, {
        prefix: 'skillsql',
        rate: 200,
        seconds: 2,
        afterTracking: 'wait',
        sqlite: file,
      });
      await c.until('tracked');
      c.child.kill('SIGKILL');
      await c.exited;
      sandbox.setFaults([]);
      const restart = runClient(`${this.name} (restart)`, {
        prefix: 'skillsql_after',
        rate: 0,
        seconds: 0,
        sqlite: file,
      });
      return tally(
        this.name,
        'sqlite',
        [c.journal],
        [await restart.stats()],
        'the restart sends the leased batch again',
      );
    },
  },
  {
    name: 'two processes on one SQLite file',
    async run() {
      const file = join(dir, 'shared.db');
      const a = runClient(`${this.name} A`, { prefix: 'stwoa', rate: 200, seconds, sqlite: file });
      const b = runClient(`${this.name} B`, { prefix: 'stwob', rate: 200, seconds, sqlite: file });
      return tally(this.name, 'sqlite', [a.journal, b.journal], [await a.stats(), await b.stats()]);
    },
  },
];

const postgres = postgresScenarios({ quick, runClient, tallyCounts, sandbox, wait });
// --postgres runs only the PostgreSQL rows.
if (process.argv.includes('--postgres')) scenarios.length = 0;
scenarios.push(...postgres.scenarios);

const started = performance.now();
const rows = [];
for (const scenario of scenarios) {
  sandbox.setFaults([]);
  const t = performance.now();
  const row = await scenario.run();
  row.seconds = Math.round((performance.now() - t) / 1000);
  rows.push(row);
  console.log(
    `${row.scenario} (${row.outbox}): tracked ${row.tracked}, delivered ${row.delivered}, lost ${row.lost}`,
  );
}
await postgres.stop();
await sandbox.close();
console.log('');
const rolledBackSent = rows.filter((row) => row.rolledBackSent > 0);
for (const row of rows) delete row.rolledBackSent;
console.table(rows);
console.log(`PostgreSQL rows ran on: ${postgres.engine() ?? 'none'}`);
const elapsed = Math.round((performance.now() - started) / 1000);
console.log(`${rows.length} scenarios in ${elapsed} s.`);
const unexpected = rows.filter(
  (row) => row.lost !== 0 && !(row.outbox === 'memory' && row.scenario.startsWith('SIGKILL')),
);
if (rolledBackSent.length > 0) {
  console.error(`ROLLED-BACK EVENTS SENT OR STORED in: ${rolledBackSent.map((r) => r.scenario).join(', ')}`);
  process.exit(1);
}
if (unexpected.length > 0) {
  console.error(`LOST EVENTS in: ${unexpected.map((r) => r.scenario).join(', ')}`);
  process.exit(1);
}
