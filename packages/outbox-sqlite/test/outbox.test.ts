import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConversions, type OutboxRecord } from '@chatgpt-ads/core';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteOutbox } from '../src/index.js';

const sender = join(import.meta.dirname, 'fixtures', 'sender.mjs');
let sandbox: Sandbox;
let dir: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults([]);
  dir = mkdtempSync(join(tmpdir(), 'outbox-sqlite-'));
});

const record = (i: number, overrides: Partial<OutboxRecord> = {}): OutboxRecord => ({
  key: JSON.stringify(['px', 'order_created', `o${i}`]),
  id: `o${i}`,
  body: JSON.stringify({ id: `o${i}`, type: 'order_created', n: i }),
  bytes: 40,
  timestampMs: 1_795_000_000_000,
  acceptedAt: 1_795_000_000_000,
  attempts: 0,
  ...overrides,
});

const rows = (file: string) =>
  new Database(file).prepare('SELECT key, state FROM outbox ORDER BY seq').all() as Array<{
    key: string;
    state: string;
  }>;

describe('SqliteOutbox', () => {
  it('keeps appended events on disk, in order, and refuses duplicates while queued', async () => {
    const file = join(dir, 'a.db');
    const first = new SqliteOutbox({ path: file });
    expect(await first.append(record(1))).toBe('appended');
    expect(await first.append(record(2))).toBe('appended');
    expect(await first.append(record(1))).toBe('duplicate');
    first.close();
    const reopened = new SqliteOutbox({ path: file });
    expect(await reopened.size()).toBe(2);
    expect((await reopened.claim({ maxEvents: 10, maxBytes: 1000 })).map((r) => r.body)).toEqual([
      record(1).body,
      record(2).body,
    ]);
    reopened.close();
  });

  it("refuses to store an event inside the app's transaction, which it cannot join", async () => {
    const outbox = new SqliteOutbox({ path: join(dir, 'tx.db') });
    await expect(outbox.append(record(1), { transaction: {} })).rejects.toMatchObject({
      code: 'ERR_OUTBOX_NO_TRANSACTIONS',
    });
    expect(await outbox.size()).toBe(0);
    outbox.close();
  });

  it('respects the batch limits and its capacity', async () => {
    const outbox = new SqliteOutbox({ path: join(dir, 'b.db'), capacity: 3 });
    for (let i = 0; i < 3; i++) await outbox.append(record(i));
    expect(await outbox.append(record(9))).toBe('full');
    expect(await outbox.claim({ maxEvents: 2, maxBytes: 1000 })).toHaveLength(2);
    expect(await outbox.claim({ maxEvents: 10, maxBytes: 10 })).toHaveLength(1); // one oversized record still comes out
    outbox.close();
  });

  it("lets a crashed sender's lease expire, then hands the same bytes to another sender", async () => {
    const file = join(dir, 'lease.db');
    let now = 1_000_000;
    const a = new SqliteOutbox({ path: file, leaseMs: 1_000, now: () => now });
    const b = new SqliteOutbox({ path: file, leaseMs: 1_000, now: () => now });
    await a.append(record(1, { body: '{"id":"o1","exact":"bytes ✓"}' }));
    const leased = await a.claim({ maxEvents: 10, maxBytes: 1e6 });
    expect(leased).toHaveLength(1);
    now += 999;
    expect(await b.claim({ maxEvents: 10, maxBytes: 1e6 })).toEqual([]);
    now += 1;
    const again = await b.claim({ maxEvents: 10, maxBytes: 1e6 });
    expect(again.map((r) => r.body)).toEqual(['{"id":"o1","exact":"bytes ✓"}']);
    // The first sender's late ack does not remove the row now leased to the second.
    await a.ack([record(1).key]);
    expect(rows(file)).toEqual([{ key: record(1).key, state: 'leased' }]);
    await b.ack([record(1).key]);
    expect(rows(file)).toEqual([]);
    a.close();
    b.close();
  });

  it('prunes delivered rows at once and bounds dead letters by count and age; replays and purges them', async () => {
    const file = join(dir, 'prune.db');
    let now = 5_000_000;
    const outbox = new SqliteOutbox({
      path: file,
      deadLetterCapacity: 2,
      deadLetterRetentionMs: 10_000,
      now: () => now,
    });
    for (let i = 0; i < 5; i++) await outbox.append(record(i));
    await outbox.claim({ maxEvents: 5, maxBytes: 1e6 });
    await outbox.ack([record(0).key]);
    await outbox.deadLetter(
      [1, 2, 3].map((i) => ({
        key: record(i).key,
        reason: 'invalid' as const,
        message: `bad ${i}`,
        at: now + i,
      })),
    );
    expect((await outbox.deadLetters()).map((d) => d.record.id)).toEqual(['o2', 'o3']);
    now += 20_000;
    await outbox.deadLetter([{ key: record(4).key, reason: 'stale', message: 'old', at: now }]);
    expect((await outbox.deadLetters()).map((d) => [d.record.id, d.reason])).toEqual([['o4', 'stale']]);
    expect(await outbox.replay()).toBe(1);
    expect((await outbox.claim({ maxEvents: 5, maxBytes: 1e6 })).map((r) => [r.id, r.attempts])).toEqual([
      ['o4', 0],
    ]);
    await outbox.deadLetter([{ key: record(4).key, reason: 'invalid', message: 'again', at: now }]);
    expect(await outbox.purge()).toBe(1);
    expect(rows(file)).toEqual([]);
    outbox.close();
  });

  it('with the client: dead letters are listed with reasons and replayed to delivery', async () => {
    sandbox.setFaults([{ rejectIds: ['order_3'] }]);
    const outbox = new SqliteOutbox({ path: join(dir, 'client.db') });
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      endpoint: sandbox.endpoint,
      outbox,
      logger: { warn() {}, error() {} },
    });
    for (let i = 0; i < 10; i++)
      await conversions.track(
        { type: 'order_created', id: `order_${i}` },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      );
    await conversions.flush();
    expect((await conversions.deadLetters()).map((d) => [d.record.id, d.reason])).toEqual([
      ['order_3', 'invalid'],
    ]);
    sandbox.setFaults([]);
    expect(await conversions.replay()).toBe(1);
    await conversions.flush();
    expect(new Set(sandbox.events().map((e) => e.event.id)).size).toBe(10);
    await conversions.shutdown();
    outbox.close();
  });
});

describe('shutdown with a backlog the endpoint will not take', () => {
  it('gives up at the deadline and stops looking at the file afterwards', async () => {
    const file = join(dir, 'stuck.db');
    const seed = new SqliteOutbox({ path: file });
    for (let i = 0; i < 5; i++) await seed.append(record(i, { timestampMs: Date.now() }));
    seed.close();
    const outbox = new SqliteOutbox({ path: file });
    let looks = 0;
    const size = outbox.size.bind(outbox);
    outbox.size = () => {
      looks++;
      return size();
    };
    // Port 9 refuses connections: every send fails and is retried later.
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      endpoint: 'http://127.0.0.1:9/v1/events',
      outbox,
      logger: { warn() {}, error() {} },
    });
    const stats = await conversions.shutdown({ timeoutMs: 500 });
    expect(stats.queued).toBe(5);
    const atShutdown = looks;
    await new Promise((resolve) => setTimeout(resolve, 800));
    expect(looks).toBe(atShutdown);
    outbox.close();
  });
});

describe('across processes', () => {
  it('recovers after SIGKILL mid-batch: the restarted sender delivers every event with identical bytes', async () => {
    const file = join(dir, 'crash.db');
    sandbox.setFaults([{ hang: true, times: 'always' }]);
    const child = spawn(process.execPath, [sender, file, sandbox.endpoint, 'crash', '250', 'hang'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    await expect.poll(() => out, { timeout: 15_000 }).toContain('tracked');
    await expect
      .poll(() => sandbox.requests().some((r) => r.fault === 'hang'), { timeout: 15_000 })
      .toBe(true);
    const before = new Map(
      (
        new Database(file).prepare('SELECT id, body FROM outbox').all() as Array<{ id: string; body: string }>
      ).map((r) => [r.id, r.body]),
    );
    expect(before.size).toBe(250);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    sandbox.setFaults([]);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [sender, file, sandbox.endpoint, 'after', '0', 'flush'],
      { timeout: 30_000 },
    );
    expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ queued: 0 });
    const delivered = sandbox.events();
    expect(delivered).toHaveLength(250);
    for (const e of delivered) expect(JSON.stringify(e.event)).toBe(before.get(e.event.id));
    expect(rows(file)).toEqual([]);
  });

  it('two live senders on one file never send the same event twice', async () => {
    const file = join(dir, 'shared.db');
    // Leases far longer than any request: a double send here could only come from two live senders.
    const run = (prefix: string) =>
      promisify(execFile)(
        process.execPath,
        [sender, file, sandbox.endpoint, prefix, '600', 'flush', '30000'],
        {
          timeout: 60_000,
        },
      );
    await Promise.all([run('left'), run('right')]);
    const events = sandbox.events();
    expect(events).toHaveLength(1200);
    expect(new Set(events.map((e) => e.event.id)).size).toBe(1200);
    expect(events.filter((e) => e.duplicateOf !== undefined)).toEqual([]);
    expect(rows(file)).toEqual([]);
  });
});
