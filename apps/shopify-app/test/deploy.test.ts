// The README's Deployment section, run: its two shell blocks run as scripts with bash, into and from
// this test's folder instead of /tmp/chatgpt-ads-app. The first makes a folder with the built app and
// its production dependencies (the workspace packages copied in, not linked); the second runs it with
// plain `node` outside the repository, with the variables it names set to this test's values. Needs
// `dist/` (turbo builds it before the tests).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { startPostgres } from '@tooling/postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliver, key, orderBody, SECRET } from './helpers.js';

const app = join(import.meta.dirname, '..');
const repo = join(app, '..', '..');
const readme = readFileSync(join(app, 'README.md'), 'utf8');
const [buildBlock, startBlock] = [
  ...readme.slice(readme.indexOf('## Deployment')).matchAll(/```sh\n([\s\S]*?)```/g),
].map((m) => m[1]!);
const README_FOLDER = '/tmp/chatgpt-ads-app';
let folder: string;
let server: ChildProcess | undefined;
let output = '';

beforeAll(() => {
  if (!existsSync(join(app, 'dist', 'main.js'))) {
    throw new Error('dist/ is missing: run `pnpm turbo run build --filter=@apps/shopify-app...` first');
  }
  folder = join(mkdtempSync(join(tmpdir(), 'shopify-app-deploy-')), 'app');
  expect(buildBlock).toContain(README_FOLDER);
  expect(startBlock!.startsWith(`cd ${README_FOLDER}\n`)).toBe(true);
  // The block's `pnpm install` and `pnpm turbo run build` are what this test run did before the
  // tests (dist/ is checked above): they return at once here rather than reinstall the workspace
  // under the other tests. Every other pnpm line runs --offline: the store holds what it needs.
  const pnpm = 'pnpm() { case "$1" in install | turbo) return 0 ;; esac; command pnpm "$@" --offline; }';
  execFileSync(
    'bash',
    ['-euo', 'pipefail', '-c', `${pnpm}\n${buildBlock!.replaceAll(README_FOLDER, folder)}`],
    {
      cwd: repo,
      stdio: 'pipe',
    },
  );
});
afterAll(async () => {
  if (server && server.exitCode === null) {
    server.kill('SIGKILL');
    await new Promise((resolve) => server?.once('exit', resolve));
  }
  rmSync(join(folder, '..'), { recursive: true, force: true });
});

it('holds the built app and its production dependencies, nothing that points back into the repository', () => {
  expect(readdirSync(folder).sort()).toEqual(
    expect.arrayContaining([
      'README.md',
      'dist',
      'extensions',
      'node_modules',
      'package.json',
      'shopify.app.toml',
      'shopify.web.toml',
    ]),
  );
  expect(readdirSync(folder)).not.toContain('src');
  expect(readdirSync(folder)).not.toContain('test');
  for (const name of ['core', 'shopify', 'outbox-sqlite']) {
    const resolved = realpathSync(join(folder, 'node_modules', '@chatgpt-ads', name));
    expect(relative(folder, resolved).startsWith('..')).toBe(false);
    expect(existsSync(join(resolved, 'dist'))).toBe(true);
  }
  expect(existsSync(join(folder, 'node_modules', 'vitest'))).toBe(false);
});

/** Starts the deployed folder with `node` and plain environment variables; resolves with its origin. */
async function startDeployed(env: Record<string, string>) {
  output = '';
  const values: Record<string, string> = {
    SHOPIFY_API_KEY: 'app-client-id',
    SHOPIFY_API_SECRET: SECRET,
    HOST: 'app.example.test',
    PORT: '0',
    CHATGPT_ADS_ENCRYPTION_KEYS: key('k1'),
    DB_PATH: join(folder, '..', 'app.db'),
    ...env,
  };
  // The README's start block as a script, with this test's value for each variable it sets (and
  // DATABASE_URL instead of DB_PATH where a test asks for PostgreSQL). Placeholders such as
  // `<client id>` hold spaces: an assignment is NAME=<…> or NAME=word.
  const named: string[] = [];
  const script = startBlock!
    .replaceAll(README_FOLDER, folder)
    .replace(/\b([A-Z_]+)=(?:<[^>]*>|\S+)/g, (_, name: string) => {
      named.push(name);
      return name === 'DB_PATH' && env.DATABASE_URL ? '' : `${name}='${values[name]}'`;
    });
  expect(named.filter((name) => values[name] === undefined)).toEqual([]);
  // bash runs the block's last command in its own process (exec), so the SIGTERM below reaches the
  // app itself, as a deploy's does, and its exit code is the app's.
  const child = spawn('bash', ['-c', script], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server = child;
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const found = /on port (\d+)/.exec(output)?.[1];
      if (found) resolve(Number(found));
    });
    child.once('exit', (code) => reject(new Error(`the app exited with ${code}:\n${output}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    /** SIGTERM, as a deploy stops it: resolves with the exit code. */
    stop() {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function answersWebhooks(base: string) {
  const signed = await deliver(base, '/webhooks/orders/create', 'orders/create', orderBody(9001));
  expect(signed.status).toBe(200);
  const forged = await deliver(base, '/webhooks/orders/create', 'orders/create', orderBody(9002), {
    secret: 'forged',
  });
  expect(forged.status).toBe(401);
  expect((await fetch(`${base}/?shop=northwind.myshopify.com`)).status).toBe(200);
}

it('starts with node from the temporary folder, answers a signed webhook and refuses a forged one, and stops on SIGTERM', async () => {
  const app = await startDeployed({ DB_PATH: join(folder, '..', 'app.db') });
  await answersWebhooks(app.base);
  expect(await app.stop()).toBe(0);
  expect(output).not.toMatch(/Error|warn/i);
  expect(existsSync(join(folder, '..', 'app.db'))).toBe(true);
});

it('runs on PostgreSQL from the same folder when DATABASE_URL is set', async () => {
  const postgres = await startPostgres({ quiet: true });
  try {
    const url = await postgres.createDatabase('deployed');
    const app = await startDeployed({ DATABASE_URL: url });
    await answersWebhooks(app.base);
    expect(await app.stop()).toBe(0);
    expect(output).not.toMatch(/Error|warn/i);
    // The signed delivery was claimed in PostgreSQL, where every instance would see it.
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query('SELECT COUNT(*)::int AS n FROM webhook_deliveries');
    await client.end();
    expect(rows[0].n).toBe(1);
  } finally {
    await postgres.stop();
  }
});
