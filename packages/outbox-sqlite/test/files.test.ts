// The outbox file on a real disk: who can read it, what a bad id does, a full disk, a read-only file.
// The full-disk and read-only-mount cases need a small filesystem of their own (tmpfs); where this
// process may not mount one, those tests are skipped with the reason printed, never silently.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConversions, type OutboxRecord } from '@chatgpt-ads/core';
import { startSandbox } from '@chatgpt-ads/sandbox';
import Database from 'libsql';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteOutbox, SqliteOutboxError } from '../src/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'outbox-files-'));
});

const record = (i: number, overrides: Partial<OutboxRecord> = {}): OutboxRecord => ({
  key: JSON.stringify(['px', 'order_created', `o${i}`]),
  id: `o${i}`,
  body: JSON.stringify({ id: `o${i}`, type: 'order_created', pad: 'x'.repeat(400) }),
  bytes: 440,
  timestampMs: 1_795_000_000_000,
  acceptedAt: 1_795_000_000_000,
  attempts: 0,
  ...overrides,
});

const modeOf = (file: string) => statSync(file).mode & 0o777;
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

describe('file permissions', () => {
  it('creates the database, -wal and -shm as 0600 whatever the umask', async () => {
    for (const umask of [0o022, 0o000]) {
      const previous = process.umask(umask);
      try {
        const file = join(dir, `perm-${umask}.db`);
        const outbox = new SqliteOutbox({ path: file });
        await outbox.append(record(1));
        expect([file, modeOf(file)]).toEqual([file, 0o600]);
        for (const side of [`${file}-wal`, `${file}-shm`]) {
          expect(existsSync(side)).toBe(true);
          expect([side, modeOf(side)]).toEqual([side, 0o600]);
        }
        outbox.close();
      } finally {
        process.umask(previous);
      }
    }
  });

  it('tightens a database left world-readable by an earlier version, and honours fileMode', async () => {
    const file = join(dir, 'old.db');
    new Database(file).exec('CREATE TABLE t (x)');
    chmodSync(file, 0o644);
    new SqliteOutbox({ path: file }).close();
    expect(modeOf(file)).toBe(0o600);
    const shared = join(dir, 'shared.db');
    const outbox = new SqliteOutbox({ path: shared, fileMode: 0o660 });
    await outbox.append(record(1));
    expect([modeOf(shared), modeOf(`${shared}-wal`), modeOf(`${shared}-shm`)]).toEqual([0o660, 0o660, 0o660]);
    outbox.close();
    expect(() => new SqliteOutbox({ path: join(dir, 'x.db'), fileMode: 0o7777 })).toThrow(/fileMode/);
  });
});

describe('ids', () => {
  it.each([
    ['NUL', 'order_1\u0000evil'],
    ['newline', 'order_1\nforged log line'],
    ['tab', 'order\t1'],
    ['DEL', 'order_1\u007f'],
  ])('refuses an id with %s instead of storing it truncated', async (_name, id) => {
    const outbox = new SqliteOutbox({ path: join(dir, 'ids.db') });
    const bad = record(1, { id, key: JSON.stringify(['px', 'order_created', id]) });
    await expect(outbox.append(bad)).rejects.toThrow(/control character/);
    await expect(outbox.append(bad)).rejects.toBeInstanceOf(SqliteOutboxError);
    expect(await outbox.size()).toBe(0);
    // A printable id round-trips exactly.
    const good = record(2, { id: 'order_2 ✓ "quoted"' });
    expect(await outbox.append(good)).toBe('appended');
    expect((await outbox.claim({ maxEvents: 5, maxBytes: 1e6 })).map((r) => r.id)).toEqual([
      'order_2 ✓ "quoted"',
    ]);
    outbox.close();
  });
});

// A tmpfs of a few hundred KB: the only honest way to fill a disk in a test.
const mounts: string[] = [];
function tryMount(size: string): { path: string } | { reason: string } {
  const path = mkdtempSync(join(tmpdir(), 'outbox-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', path], { stdio: 'pipe' });
    mounts.push(path);
    return { path };
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error).trim();
    return { reason: `cannot mount a tmpfs here (${stderr || 'mount failed'})` };
  }
}
afterAll(() => {
  for (const path of mounts) {
    try {
      // Lazy: libsql releases a closed database's descriptors only when its statements are collected.
      execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      rmSync(path, { recursive: true, force: true });
    } catch {}
  }
});

const probe = tryMount('64k');
const mountReason = 'reason' in probe ? probe.reason : undefined;
if (mountReason) console.warn(`SKIPPED full-disk and read-only-mount tests: ${mountReason}`);

/** Writes filler until the filesystem is full; returns the filler's path so it can be removed. */
function fillDisk(root: string): string {
  const filler = join(root, 'filler');
  const chunk = Buffer.alloc(4096, 1);
  for (let i = 0; ; i++) {
    try {
      writeFileSync(join(root, `filler-${i}`), chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') break;
      throw error;
    }
  }
  return filler;
}
function freeDisk(root: string): void {
  for (let i = 0; existsSync(join(root, `filler-${i}`)); i++) rmSync(join(root, `filler-${i}`));
}

describe.skipIf(mountReason !== undefined)(
  `a full disk${mountReason ? ` (skipped: ${mountReason})` : ''}`,
  () => {
    it('append, claim, ack and deadLetter reject with "disk full" and the file name, and work again once space is freed', async () => {
      // Each append adds a few pages to the WAL: 2 MB holds the first 20 with room to spare.
      const mounted = tryMount('2m');
      if ('reason' in mounted) throw new Error(mounted.reason);
      const file = join(mounted.path, 'full.db');
      const outbox = new SqliteOutbox({ path: file });
      for (let i = 0; i < 20; i++) expect(await outbox.append(record(i))).toBe('appended');
      fillDisk(mounted.path);

      // Appending until SQLite needs a page it cannot get.
      let appendError: unknown;
      for (let i = 100; i < 2000 && !appendError; i++) {
        try {
          await outbox.append(record(i));
        } catch (error) {
          appendError = error;
        }
      }
      expect(appendError).toBeInstanceOf(SqliteOutboxError);
      expect((appendError as SqliteOutboxError).code).toBe('SQLITE_FULL');
      expect(String(appendError)).toContain(file);
      expect(String(appendError)).toMatch(/disk full/);

      // Every operation that writes rejects with the real cause, never libsql's "cannot rollback".
      const settled = await Promise.allSettled([
        outbox.claim({ maxEvents: 1000, maxBytes: 1e7 }),
        outbox.ack([record(0).key]),
        outbox.deadLetter([{ key: record(1).key, reason: 'invalid', message: 'x', at: 1 }]),
        outbox.release([record(2)]),
      ]);
      for (const outcome of settled) {
        if (outcome.status === 'fulfilled') continue; // a no-op write may need no new page
        expect(String(outcome.reason)).not.toMatch(/cannot rollback/);
        expect(String(outcome.reason)).toMatch(/disk full/);
      }
      expect(settled.some((outcome) => outcome.status === 'rejected')).toBe(true);

      freeDisk(mounted.path);
      const claimed = await outbox.claim({ maxEvents: 1000, maxBytes: 1e7 });
      expect(claimed.length).toBeGreaterThanOrEqual(20);
      await outbox.ack(claimed.map((r) => r.key));
      expect(await outbox.size()).toBe(0);
      outbox.close();
    });
  },
);

describe.skipIf(mountReason !== undefined)(
  `the client on a full disk${mountReason ? ` (skipped: ${mountReason})` : ''}`,
  () => {
    it('logs "disk full" with the file, keeps the events, and flush() settles once space is freed', async () => {
      const mounted = tryMount('2m');
      if ('reason' in mounted) throw new Error(mounted.reason);
      const sandbox = await startSandbox({ port: 0 });
      const file = join(mounted.path, 'client.db');
      const outbox = new SqliteOutbox({ path: file });
      const errors: string[] = [];
      const conversions = createConversions({
        pixelId: 'px',
        apiKey: 'sk',
        endpoint: sandbox.endpoint,
        outbox,
        batch: { flushIntervalMs: 60_000 },
        retry: { baseDelayMs: 10, maxDelayMs: 50 },
        logger: { warn() {}, error: (message: string) => errors.push(message) },
      });
      try {
        for (let i = 0; i < 20; i++) {
          const result = await conversions.track(
            { type: 'order_created', id: `order_${i}` },
            { consent: 'granted', sourceUrl: 'https://s.example/' },
          );
          expect(result.status).toBe('queued');
        }
        fillDisk(mounted.path);
        const refused = await conversions.track(
          { type: 'order_created', id: 'order_on_full_disk', data: { note: 'x'.repeat(20_000) } },
          { consent: 'granted', sourceUrl: 'https://s.example/' },
        );
        const flushing = conversions.flush();
        await expect.poll(() => errors.join('\n')).toMatch(/disk full/);
        expect(errors.join('\n')).toContain(file);
        expect(errors.join('\n')).not.toMatch(/cannot rollback/);
        freeDisk(mounted.path);
        await flushing;
        const delivered = new Set(sandbox.events().map((e) => e.event.id));
        for (let i = 0; i < 20; i++) expect(delivered.has(`order_${i}`)).toBe(true);
        if (refused.status === 'queued') expect(delivered.has('order_on_full_disk')).toBe(true);
        else expect(refused.status).toBe('refused');
      } finally {
        await conversions.shutdown({ timeoutMs: 5_000 });
        outbox.close();
        await sandbox.close();
      }
    });
  },
);

describe('a file the process cannot write', () => {
  it.skipIf(mountReason !== undefined)(
    `is refused at construction on a read-only mount${mountReason ? ` (skipped: ${mountReason})` : ''}`,
    async () => {
      const seed = new SqliteOutbox({ path: join(dir, 'ro.db') });
      await seed.append(record(1));
      seed.close();
      // A read-only view of the same directory: even root cannot write through it.
      const view = mkdtempSync(join(tmpdir(), 'outbox-ro-'));
      execFileSync('mount', ['--bind', dir, view], { stdio: 'pipe' });
      mounts.push(view);
      execFileSync('mount', ['-o', 'remount,bind,ro', view], { stdio: 'pipe' });
      const file = join(view, 'ro.db');
      expect(() => new SqliteOutbox({ path: file })).toThrow(SqliteOutboxError);
      expect(() => new SqliteOutbox({ path: file })).toThrow(/not writable|cannot write/);
      expect(() => new SqliteOutbox({ path: file })).toThrow(file);
    },
  );

  it.skipIf(isRoot)(
    `is refused at construction when the file or its directory is read-only${isRoot ? ' (skipped: root ignores permission bits; the read-only mount test covers root)' : ''}`,
    async () => {
      const file = join(dir, 'ro.db');
      new SqliteOutbox({ path: file }).close();
      chmodSync(file, 0o400);
      expect(() => new SqliteOutbox({ path: file })).toThrow(/the file is not writable/);
      chmodSync(file, 0o600);
      const locked = join(dir, 'locked');
      mkdirSync(locked);
      const inLocked = join(locked, 'db.db');
      new SqliteOutbox({ path: inLocked }).close();
      rmSync(`${inLocked}-wal`, { force: true });
      rmSync(`${inLocked}-shm`, { force: true });
      chmodSync(locked, 0o500);
      try {
        expect(() => new SqliteOutbox({ path: inLocked })).toThrow(/directory .* is not writable/);
      } finally {
        chmodSync(locked, 0o700);
      }
    },
  );
});
