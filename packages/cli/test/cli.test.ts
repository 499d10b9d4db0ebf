import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { startPostgres, type ThrowawayPostgres } from '@tooling/postgres';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliIO, runCli } from '../src/index.js';

const PIXEL = { pixelId: 'px_cli', apiKey: 'sk_cli_secret_value' };
let sandbox: Sandbox;
let cwd: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pixels: [PIXEL] });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  cwd = mkdtempSync(join(tmpdir(), 'chatgpt-ads-cli-'));
});

async function cli(argv: string[], env: Record<string, string> = {}, extra: Partial<CliIO> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    env: {
      OPENAI_ADS_PIXEL_ID: PIXEL.pixelId,
      OPENAI_CONVERSIONS_API_KEY: PIXEL.apiKey,
      CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
      ...env,
    },
    cwd,
    isTTY: false,
    ...extra,
  });
  return { code, stdout, stderr };
}

describe('help', () => {
  it.each(['sandbox', 'send', 'import', 'doctor', 'check-url', 'outbox'])('%s --help', async (command) => {
    const { code, stdout } = await cli([command, '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^Usage: chatgpt-ads ${command}`));
  });

  it('lists the commands and rejects unknown ones and flags', async () => {
    expect((await cli(['--help'])).stdout).toContain('check-url');
    expect((await cli(['nope'])).code).toBe(2);
    const bad = await cli(['send', '--typo']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Run chatgpt-ads send --help');
  });

  it('the built binary runs', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      join(import.meta.dirname, '..', 'dist', 'cli.js'),
      'send',
      '--help',
    ]);
    expect(stdout).toContain('Usage: chatgpt-ads send');
  });
});

describe('send', () => {
  it('prints the wire JSON with --dry-run, identifiers hashed', async () => {
    const { code, stdout } = await cli([
      'send',
      '--type',
      'order_created',
      '--id',
      'order_1',
      '--amount',
      '129.99',
      '--currency',
      'usd',
      '--email',
      ' Alex@Example.com ',
      '--dry-run',
    ]);
    expect(code).toBe(0);
    const envelope = JSON.parse(stdout);
    expect(envelope.events[0]).toMatchObject({
      id: 'order_1',
      action_source: 'offline',
      data: { type: 'contents', amount: 12999, currency: 'USD' },
      user: { emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'] },
    });
    expect(stdout).not.toContain('Alex@');
    expect(sandbox.requests()).toEqual([]);
  });

  it('sends one event to the endpoint', async () => {
    const { code, stdout } = await cli([
      'send',
      '--type',
      'lead_created',
      '--id',
      'lead_7',
      '--source-url',
      'https://shop.example/contact?x=1',
      '--oppref',
      'gAAAAB-cli',
    ]);
    expect(code).toBe(0);
    expect(stdout).toBe(`✔ Sent lead_created lead_7 to ${sandbox.endpoint} (pixel px_cli)\n`);
    expect(sandbox.events()[0]?.event).toMatchObject({
      id: 'lead_7',
      oppref: 'gAAAAB-cli',
      source_url: 'https://shop.example/contact',
      action_source: 'web',
    });
  });

  it('supports --validate-only (nothing stored)', async () => {
    expect((await cli(['send', '--type', 'lead_created', '--validate-only'])).stdout).toMatch(
      /^✔ Validated lead_created/,
    );
    expect(sandbox.events()).toEqual([]);
  });

  it('explains refusals and configuration errors without printing the key', async () => {
    const invalid = await cli(['send', '--type', 'order_created', '--amount', '1.999', '--currency', 'USD']);
    expect(invalid).toMatchObject({ code: 2 });
    expect(invalid.stderr).toContain('USD has 2 decimals');
    const refused = await cli(['send', '--type', 'custom']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('custom_event_name');
    const wrongKey = await cli(['send', '--type', 'lead_created'], {
      OPENAI_CONVERSIONS_API_KEY: 'sk_wrong_value',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('HTTP 401');
    expect(wrongKey.stderr + wrongKey.stdout).not.toContain('sk_wrong_value');
    const missing = await cli(['send', '--type', 'lead_created'], { OPENAI_CONVERSIONS_API_KEY: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CHATGPT_ADS_API_KEY');
  });

  it('reads a config file', async () => {
    writeFileSync(
      join(cwd, 'chatgpt-ads.config.json'),
      JSON.stringify({ pixelId: PIXEL.pixelId, endpoint: sandbox.endpoint }),
    );
    const { code } = await cli(['send', '--type', 'lead_created', '--id', 'from_config'], {
      OPENAI_ADS_PIXEL_ID: '',
      CHATGPT_ADS_ENDPOINT: '',
    });
    expect(code).toBe(0);
    expect(sandbox.events()[0]?.event.id).toBe('from_config');
  });
});

describe('import', () => {
  it.each([
    ['in one thread', '0'],
    ['through two worker threads', '2'],
  ])(
    'delivers 100,000 rows %s, reports stale and invalid rows by line, and a rerun sends nothing new',
    async (_, workers) => {
      const rows = ['Order Number,Event,Created At,Total,Currency,Email,Phone,Country'];
      const now = Date.now();
      const stale = new Set<number>();
      const invalid = new Set<number>();
      for (let i = 0; i < 100_000; i++) {
        const line = i + 2; // header is line 1
        let created = new Date(now - (i % 1000) * 60_000).toISOString();
        let total = `${(i % 500) + 1}.99`;
        if (i % 10_000 === 17) {
          created = new Date(now - 8 * 86_400_000).toISOString();
          stale.add(line);
        } else if (i % 10_000 === 99) {
          total = '12.345';
          invalid.add(line);
        }
        rows.push(
          `ord_${i},order_created,${created},${total},USD,buyer${i}@example.com,+1 415 555 ${String(i % 10_000).padStart(4, '0')},US`,
        );
      }
      const file = join(cwd, 'orders.csv');
      writeFileSync(file, `${rows.join('\n')}\n`);

      const first = await cli(['import', file, '--map', 'Order Number=id', '--workers', workers]);
      expect(first.code).toBe(0);
      const valid = 100_000 - stale.size - invalid.size;
      expect(first.stdout).toMatch(/read\s+100,000/);
      expect(first.stdout).toMatch(new RegExp(`sent\\s+${valid.toLocaleString('en-US')}`));
      for (const line of stale) expect(first.stderr).toContain(`stale line ${line}: older than 7 days`);
      for (const line of invalid)
        expect(first.stderr).toMatch(new RegExp(`refused line ${line}: USD has 2 decimals`));
      const firstCopies = sandbox.events().filter((e) => e.duplicateOf === undefined);
      expect(firstCopies).toHaveLength(valid);
      expect(firstCopies.find((e) => e.event.id === 'ord_0')?.event).toMatchObject({
        id: 'ord_0',
        action_source: 'offline',
        data: { amount: 199, currency: 'USD' },
      });
      console.info(`import of 100,000 rows, --workers ${workers}: ${first.stdout.trim().split('\n').at(-1)}`);

      const journal = readFileSync(`${file}.chatgpt-ads-journal`, 'utf8').trim().split('\n');
      expect(journal).toHaveLength(valid);
      const journaled = new Set(journal.map((entry) => entry.split('\t')[1]));
      for (let i = 0; i < 100_000; i++)
        expect(journaled.has(`ord_${i}`)).toBe(!stale.has(i + 2) && !invalid.has(i + 2));

      const again = await cli(['import', file, '--map', 'Order Number=id', '--workers', workers]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        new RegExp(`already delivered \\(journal\\)\\s+${valid.toLocaleString('en-US')}`),
      );
      expect(sandbox.events().filter((e) => e.duplicateOf === undefined)).toHaveLength(valid);
    },
  );

  it('derives stable ids without an id column, reads JSONL, and resumes from the journal', async () => {
    const file = join(cwd, 'leads.jsonl');
    const lines = [
      JSON.stringify({ type: 'lead_created', email: 'a@example.com', timestamp: new Date().toISOString() }),
      'not json',
      JSON.stringify({ type: 'lead_created', email: 'b@example.com', consent: 'denied' }),
      JSON.stringify({ type: 'lead_created', email: 'c@example.com', timestamp: '2026-01-01T00:00:00Z' }),
    ];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const first = await cli(['import', file]);
    expect(first.stderr).toContain('refused line 2: not valid JSON');
    expect(first.stderr).toContain('stale line 4');
    const ids = sandbox.events().map((e) => e.event.id);
    expect(ids).toHaveLength(1);
    expect(ids[0]).toMatch(/^row_[0-9a-f]{32}$/);
    // An interrupted run is a journal that misses some ids: only those are sent again.
    writeFileSync(`${file}.chatgpt-ads-journal`, '');
    sandbox.reset();
    await cli(['import', file]);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(ids);
  });
});

describe('doctor', () => {
  it('passes with a working configuration and never prints the key', async () => {
    const { code, stdout } = await cli(['doctor']);
    expect(code).toBe(0);
    expect(stdout).toContain('validate_only request accepted');
    expect(stdout).not.toContain(PIXEL.apiKey);
    expect(sandbox.events()).toEqual([]);
  });

  it('names a wrong key, an unknown pixel, no network and missing variables', async () => {
    expect((await cli(['doctor'], { OPENAI_CONVERSIONS_API_KEY: 'nope' })).stdout).toContain(
      'rejected the API key (HTTP 401)',
    );
    expect((await cli(['doctor'], { OPENAI_ADS_PIXEL_ID: 'px_unknown' })).stdout).toContain(
      'does not know pixel px_unknown',
    );
    const offline = await cli(['doctor'], { CHATGPT_ADS_ENDPOINT: 'http://127.0.0.1:9/v1/events' });
    expect(offline.code).toBe(1);
    expect(offline.stdout).toContain('cannot reach http://127.0.0.1:9/v1/events');
    const missing = await cli(['doctor'], { OPENAI_ADS_PIXEL_ID: '', OPENAI_CONVERSIONS_API_KEY: '' });
    // An incomplete configuration is a usage error, as in every other command.
    expect(missing.code).toBe(2);
    expect(missing.stdout).toContain('pixel id: missing');
    expect(missing.stdout).toContain('API key: missing');
  });
});

describe('check-url', () => {
  let site: Server;
  let base: string;
  beforeAll(async () => {
    site = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const oppref = url.searchParams.get('oppref');
      if (url.pathname === '/keeps') res.writeHead(301, { location: `/landing${url.search}` }).end();
      else if (url.pathname === '/drops') res.writeHead(302, { location: '/landing' }).end();
      else if (url.pathname === '/stores') {
        res
          .writeHead(302, {
            location: '/landing',
            'set-cookie': `__oppref=${oppref}; Path=/; Max-Age=2592000; SameSite=Lax`,
          })
          .end();
      } else if (url.pathname === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else res.writeHead(200, { 'content-type': 'text/html' }).end('<p>landing</p>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));

  it('passes when the query survives the redirects', async () => {
    const { code, stdout } = await cli(['check-url', `${base}/keeps?utm_source=chatgpt`]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/1\s+301\s+yes/);
    expect(stdout).toMatch(/2\s+200\s+yes/);
  });

  it('fails when a redirect drops the query string', async () => {
    const { code, stdout } = await cli(['check-url', `${base}/drops`]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/2\s+200\s+LOST/);
    expect(stdout).toContain('oppref is lost at hop 2');
  });

  it('passes when the first response stores the cookie before dropping the query', async () => {
    const { code, stdout } = await cli(['check-url', `${base}/stores`]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/1\s+302\s+yes\s+set/);
    expect(stdout).toContain('stored in __oppref at hop 1');
  });

  it('gives up on redirect loops', async () => {
    expect((await cli(['check-url', `${base}/loop`, '--max-hops', '4'])).stdout).toContain(
      'still redirecting after 4 hops',
    );
  });
});

describe('sandbox command', () => {
  it('serves the emulator until stopped', async () => {
    const controller = new AbortController();
    let output = '';
    const running = runCli(['sandbox', '--port', '0'], {
      stdout: (t) => {
        output += t;
      },
      signal: controller.signal,
    });
    await expect.poll(() => output).toContain('inspector');
    const inspector = /inspector\s+(\S+)/.exec(output)?.[1];
    expect((await fetch(inspector!)).status).toBe(200);
    controller.abort();
    expect(await running).toBe(0);
  });
});

describe('outbox', () => {
  it('lists, replays and purges the dead letters of a SQLite outbox', async () => {
    const { SqliteOutbox } = await import('@chatgpt-ads/outbox-sqlite');
    const { createConversions } = await import('@chatgpt-ads/core');
    const file = join(cwd, 'outbox.db');
    sandbox.setFaults([{ rejectIds: ['bad_1', 'bad_2'] }]);
    const store = new SqliteOutbox({ path: file });
    const conversions = createConversions({
      ...PIXEL,
      endpoint: sandbox.endpoint,
      outbox: store,
      logger: { warn() {}, error() {} },
    });
    for (const id of ['ok_1', 'bad_1', 'bad_2'])
      await conversions.track(
        { type: 'lead_created', id },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      );
    await conversions.shutdown();
    store.close();
    sandbox.setFaults([]);

    const list = await cli(['outbox', 'list', '--file', 'outbox.db']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('2 dead letter(s)');
    expect(list.stdout).toMatch(/bad_1\s+invalid/);
    expect((await cli(['outbox', 'replay', '--file', 'outbox.db', '--id', 'bad_1'])).stdout).toBe(
      '✔ Replayed 1 dead letter(s)\n',
    );
    expect((await cli(['outbox', 'purge', '--file', 'outbox.db', '--yes'])).stdout).toBe(
      '✔ Purged 1 dead letter(s)\n',
    );
    const after = await cli(['outbox', 'list', '--file', 'outbox.db']);
    expect(after.stdout).toContain('0 dead letter(s); 1 event(s) waiting or in flight');
    expect((await cli(['outbox', 'nope', '--file', 'outbox.db'])).code).toBe(2);
  });
});

describe('outbox on PostgreSQL', () => {
  let postgres: ThrowawayPostgres;
  let url: string;
  beforeAll(async () => {
    postgres = await startPostgres();
    // A password the server (trust authentication) ignores, to see that it is never printed.
    url = (await postgres.createDatabase('cli_outbox')).replace('postgres@', 'postgres:pw-not-shown@');
  });
  afterAll(() => postgres?.stop());

  it('lists, replays and purges the dead letters of a PostgreSQL outbox, from --postgres or DATABASE_URL', async () => {
    const { PostgresOutbox } = await import('@chatgpt-ads/outbox-postgres');
    const { createConversions } = await import('@chatgpt-ads/core');
    sandbox.setFaults([{ rejectIds: ['bad_1', 'bad_2'] }]);
    const store = new PostgresOutbox({ connectionString: url });
    const conversions = createConversions({
      ...PIXEL,
      endpoint: sandbox.endpoint,
      outbox: store,
      logger: { warn() {}, error() {} },
    });
    for (const id of ['ok_1', 'bad_1', 'bad_2'])
      await conversions.track(
        { type: 'lead_created', id },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      );
    await conversions.shutdown();
    await store.close();
    sandbox.setFaults([]);

    const list = await cli(['outbox', 'list', '--postgres', url]);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('2 dead letter(s)');
    expect(list.stdout).toMatch(/bad_1\s+invalid/);
    const json = JSON.parse((await cli(['outbox', 'list', '--json'], { DATABASE_URL: url })).stdout);
    expect(json).toMatchObject({ ok: true, action: 'list', deadLetters: 2, waiting: 0 });
    expect(json.database).toBe(url.replace(':pw-not-shown', ''));
    expect((await cli(['outbox', 'replay', '--postgres', url, '--id', 'bad_1'])).stdout).toBe(
      '✔ Replayed 1 dead letter(s)\n',
    );
    expect((await cli(['outbox', 'purge', '--yes'], { DATABASE_URL: url })).stdout).toBe(
      '✔ Purged 1 dead letter(s)\n',
    );
    const after = await cli(['outbox', 'list', '--postgres', url]);
    expect(after.stdout).toContain('0 dead letter(s); 1 event(s) waiting or in flight');
  });

  it('refuses a database without the outbox table, both sources at once, and no source; never prints the password', async () => {
    const empty = (await postgres.createDatabase('cli_empty')).replace('postgres@', 'postgres:pw-not-shown@');
    const missing = await cli(['outbox', 'list', '--postgres', empty]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(
      /no outbox table "public"."chatgpt_ads_outbox" in postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+:/,
    );
    // It was not created either.
    expect((await cli(['outbox', 'list', '--postgres', empty])).code).toBe(2);
    expect((await cli(['outbox', 'list', '--postgres', empty, '--table', 'other'])).stderr).toContain(
      '"public"."other"',
    );
    const both = await cli(['outbox', 'list', '--postgres', url, '--file', 'x.db']);
    expect(both.code).toBe(2);
    const none = await cli(['outbox', 'list']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('DATABASE_URL');
    const down = await cli(['outbox', 'list', '--postgres', 'postgres://u:pw-not-shown@127.0.0.1:9/db']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot be reached/);
    for (const result of [missing, both, none, down]) expect(result.stderr).not.toContain('pw-not-shown');
  });
});
