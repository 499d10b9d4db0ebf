// Runs the README's Usage and transactional-enqueue examples against the sandbox and a throwaway
// PostgreSQL server, then checks the table.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { startPostgres } from '@tooling/postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { needsServer } from './helpers.js';

const packageDir = join(import.meta.dirname, '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const blockAfter = (heading: string) =>
  /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))?.[1];

let server: Awaited<ReturnType<typeof startPostgres>>;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
beforeAll(async () => {
  server = await startPostgres();
  sandbox = await startSandbox({ port: 0 });
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await sandbox?.close();
  await server?.stop();
});

async function runBlock(heading: string, name: string, database: string) {
  vi.stubEnv('DATABASE_URL', database);
  const code = blockAfter(heading);
  expect(code).toBeTruthy();
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const script = join(packageDir, 'test-output', name);
  writeFileSync(
    script,
    `${code!.replaceAll("'@chatgpt-ads/outbox-postgres'", "'../src/index.js'")}\nexport {};\n`,
  );
  await import(/* @vite-ignore */ script);
}

const table = async (database: string, sql: string) => {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
};

it('the Usage example delivers through the table', async () => {
  sandbox.reset();
  const database = await server.createDatabase('readme_usage');
  await runBlock('## Usage', 'readme-usage.ts', database);
  expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_42']);
  expect(await table(database, 'SELECT id, state FROM chatgpt_ads_outbox')).toEqual([
    { id: 'lead_42', state: 'delivered' },
  ]);
});

needsServer('readme.test.ts')(
  'the transactional example stores the order and its conversion together, and sends it [needs a PostgreSQL server]',
  async () => {
    sandbox.reset();
    const database = await server.createDatabase('readme_transaction');
    await runBlock('### Transactional enqueue', 'readme-transaction.ts', database);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['order_1001']);
    expect(await table(database, 'SELECT id FROM orders')).toEqual([{ id: 'order_1001' }]);
  },
);
