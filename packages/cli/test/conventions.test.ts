// What a new user meets first, run through the built binary as they would run it: versions, help,
// typos, exit codes, colour, unreachable endpoints, JSON output, and imports that must never drop
// data or skip a real run quietly.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const BIN = join(import.meta.dirname, '..', 'dist', 'cli.js');
const PIXEL = { pixelId: 'px_conv', apiKey: 'sk_conv_key' };
let sandbox: Sandbox;
let cwd: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pixels: [PIXEL] });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  cwd = mkdtempSync(join(tmpdir(), 'chatgpt-ads-conv-'));
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the binary with the sandbox configured; `env` adds to (or blanks) that. */
function run(argv: string[], env: Record<string, string> = {}, input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...argv],
      {
        cwd,
        // A generous limit, not an assertion: a hang fails here instead of stalling the suite.
        timeout: 25_000,
        env: {
          PATH: process.env.PATH ?? '',
          CHATGPT_ADS_PIXEL_ID: PIXEL.pixelId,
          CHATGPT_ADS_API_KEY: PIXEL.apiKey,
          CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/** Runs the binary on a pseudo-terminal (util-linux `script`): stdout and stderr arrive merged. */
function runOnTerminal(argv: string[], env: Record<string, string> = {}, input = ''): Promise<Run> {
  const command = [process.execPath, BIN, ...argv].map(quote).join(' ');
  return new Promise<Run>((resolve) => {
    const child = execFile(
      'script',
      ['-qec', command, '/dev/null'],
      {
        cwd,
        timeout: 25_000,
        env: {
          PATH: process.env.PATH ?? '',
          TERM: 'xterm',
          CHATGPT_ADS_PIXEL_ID: PIXEL.pixelId,
          CHATGPT_ADS_API_KEY: PIXEL.apiKey,
          CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/** What a terminal shows at the end: \r returns to the line start, ESC[2K clears the line. */
function screen(output: string): string[] {
  const lines: string[] = [''];
  for (const part of output.replace(/\r\n/g, '\n').split(/(\r|\n|\u001b\[2K)/)) {
    if (part === '\n') lines.push('');
    else if (part === '\r') lines[lines.length - 1] = `\u0000${lines.at(-1)!.replace(/^\u0000/, '')}`;
    else if (part === '\u001b[2K') lines[lines.length - 1] = '\u0000';
    else if (part) {
      const current = lines.at(-1)!;
      // After a carriage return, new text overwrites the old from the start of the line.
      lines[lines.length - 1] = current.startsWith('\u0000')
        ? `\u0000${part}${current.slice(1 + part.length)}`
        : current + part;
    }
  }
  return lines.map((line) => line.replace(/^\u0000/, '')).filter((line) => line.trim() !== '');
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const recent = (minutesAgo = 5) => new Date(Date.now() - minutesAgo * 60_000).toISOString();

describe('conventions of every command', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8'));
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(JSON.parse((await run(['--version', '--json'])).stdout)).toEqual({ version });
  });

  it('help <command> prints that command’s help, not the main one', async () => {
    for (const command of ['send', 'import', 'sandbox', 'check-url', 'outbox', 'doctor']) {
      const result = await run(['help', command]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: chatgpt-ads ${command}`));
    }
    expect((await run(['help', 'sned'])).code).toBe(2);
  });

  it('suggests the command or flag that was meant', async () => {
    const command = await run(['improt', 'orders.csv']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain('unknown command "improt". Did you mean "import"?');
    const flag = await run(['send', '--tpye', 'lead_created']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('unknown option --tpye. Did you mean --type?');
    const importFlag = await run(['import', 'x.csv', '--dry-rnu']);
    expect(importFlag.stderr).toContain('Did you mean --dry-run?');
  });

  it('every error has the same prefix, and usage errors (a bad --endpoint too) exit 2', async () => {
    writeFileSync(join(cwd, 'rows.csv'), 'id,type\n1,lead_created\n');
    const usage = [
      await run(['nope']),
      await run(['send', '--typo']),
      await run(['send', '--type', 'lead_created', '--endpoint', 'not a url']),
      await run(['send', '--type', 'lead_created', '--endpoint', 'http://10.1.2.3/v1/events']),
      await run(['import', 'rows.csv', '--endpoint', '127.0.0.1:8787']),
      await run(['doctor', '--endpoint', 'ftp://example.com/']),
      await run(['outbox', 'list', '--file', 'missing.db']),
      await run(['send', '--type', 'lead_created'], { CHATGPT_ADS_API_KEY: '' }),
    ];
    for (const result of usage) {
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/^error: /m);
      expect(result.stderr).not.toMatch(/^chatgpt-ads [a-z-]+: /m);
    }
    const failed = await run(['send', '--type', 'lead_created'], { CHATGPT_ADS_API_KEY: 'sk_wrong' });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^error: the endpoint .* refused the configuration \(HTTP 401\)/);
  });

  it('import through worker threads: a refused key stops it with the same error; --workers is checked', async () => {
    const rows = ['id,type,timestamp'];
    for (let i = 0; i < 2000; i++) rows.push(`w_${i},lead_created,${recent()}`);
    writeFileSync(join(cwd, 'rows.csv'), `${rows.join('\n')}\n`);
    const refused = await run(['import', 'rows.csv', '--workers', '2'], { CHATGPT_ADS_API_KEY: 'sk_wrong' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: the endpoint .* refused the configuration \(HTTP 401/m);
    expect(refused.stdout).toMatch(/sent\s+0\n/);
    for (const argv of [
      ['--workers', 'two'],
      ['--workers', '-1'],
      ['--workers', '2', '--dry-run'],
    ]) {
      const usage = await run(['import', 'rows.csv', ...argv]);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(
        /^error: (--workers must be|--dry-run reads every row|option '--workers')/m,
      );
    }
  });

  it('colours only on a terminal, and never under NO_COLOR', async () => {
    const argv = ['send', '--type', 'lead_created', '--id', 'colour_1'];
    expect((await runOnTerminal(argv)).stdout).toContain('\u001b[32m✔\u001b[39m');
    const noColor = await runOnTerminal(argv, { NO_COLOR: '1' });
    expect(noColor.stdout).toContain('✔ Sent');
    expect(noColor.stdout).not.toContain('\u001b[');
    const piped = await run(argv);
    expect(piped.stdout).not.toContain('\u001b[');
    expect((await run(['nope'])).stderr).not.toContain('\u001b[');
  });
});

describe('unreachable endpoint', () => {
  it('send names the endpoint and the cause instead of waiting', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}/v1/events`;
    const result = await run(['send', '--type', 'lead_created'], { CHATGPT_ADS_ENDPOINT: endpoint });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: cannot reach ${endpoint}`);
    expect(result.stderr).toContain('ECONNREFUSED');
  });

  it.each(['0', '2'])(
    'import (--workers %s) stops at once, names the endpoint and the cause, and journals nothing',
    async (workers) => {
      const endpoint = `http://127.0.0.1:${await closedPort()}/v1/events`;
      const rows = ['id,type,timestamp'];
      for (let i = 0; i < 3000; i++) rows.push(`l_${i},lead_created,${recent()}`);
      writeFileSync(join(cwd, 'leads.csv'), `${rows.join('\n')}\n`);
      const result = await run(['import', 'leads.csv', '--workers', workers], {
        CHATGPT_ADS_ENDPOINT: endpoint,
      });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`error: cannot reach ${endpoint}`);
      expect(result.stderr).toContain('ECONNREFUSED');
      expect(result.stdout).toMatch(/sent\s+0\n/);
      expect(existsSync(join(cwd, 'leads.csv.chatgpt-ads-journal'))).toBe(false);
    },
  );

  it('the progress bar leaves nothing behind on the terminal', async () => {
    const rows = ['id,type,timestamp'];
    for (let i = 0; i < 20_000; i++) rows.push(`bar_${i},lead_created,${recent()}`);
    writeFileSync(join(cwd, 'bar.csv'), `${rows.join('\n')}\n`);
    const result = await runOnTerminal(['import', 'bar.csv'], { NO_COLOR: '1' });
    expect(result.code).toBe(0);
    const shown = screen(result.stdout);
    expect(shown.some((line) => /^read\s+20,000$/.test(line))).toBe(true);
    expect(shown.filter((line) => line.includes('rows/s') && line.includes('%'))).toEqual([]);
    expect(shown.filter((line) => line.includes('[#'))).toEqual([]);
  });
});

describe('send', () => {
  it('says where it sent the event, and that the sandbox saw the id before', async () => {
    const first = await run(['send', '--type', 'lead_created', '--id', 'twice_1']);
    expect(first.stdout).toBe(`✔ Sent lead_created twice_1 to ${sandbox.endpoint} (pixel px_conv)\n`);
    const second = await run(['send', '--type', 'lead_created', '--id', 'twice_1']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain(`to ${sandbox.endpoint}`);
    expect(second.stdout).toContain('already had an event with this id');
    const json = JSON.parse(
      (await run(['send', '--type', 'lead_created', '--id', 'twice_1', '--json'])).stdout,
    );
    expect(json).toMatchObject({
      ok: true,
      outcome: 'sent',
      endpoint: sandbox.endpoint,
      pixelId: 'px_conv',
      type: 'lead_created',
      id: 'twice_1',
      duplicate: true,
    });
  });

  it('--json on a refusal and on a usage error', async () => {
    const refused = await run(['send', '--type', 'custom', '--json']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      ok: false,
      outcome: 'refused',
      issues: [expect.anything()],
    });
    const usage = await run(['send', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({
      ok: false,
      error: { kind: 'usage', message: '--type is required' },
    });
  });
});

describe('import', () => {
  it('a rehearsal into the sandbox never makes the real import skip anything', async () => {
    const real = await startSandbox({ port: 0 });
    try {
      writeFileSync(
        join(cwd, 'orders.csv'),
        `id,type,timestamp,amount,currency\no_1,order_created,${recent()},10.00,USD\no_2,order_created,${recent()},20.00,USD\n`,
      );
      const rehearsal = await run(['import', 'orders.csv']);
      expect(rehearsal.stdout).toMatch(/sent\s+2\n/);
      const other = await run(['import', 'orders.csv'], {
        CHATGPT_ADS_ENDPOINT: real.endpoint,
        CHATGPT_ADS_PIXEL_ID: 'px_real',
      });
      expect(other.code).toBe(0);
      expect(other.stdout).toMatch(/sent\s+2\n/);
      expect(
        real
          .events()
          .map((e) => e.event.id)
          .sort(),
      ).toEqual(['o_1', 'o_2']);
      // Same endpoint, another pixel: also a separate journal.
      const pixel = await run(['import', 'orders.csv'], { CHATGPT_ADS_PIXEL_ID: 'px_conv' });
      expect(pixel.stdout).toMatch(/already delivered \(journal\)\s+2\n/);
    } finally {
      await real.close();
    }
  });

  it('names every ignored column and reads it with --map', async () => {
    writeFileSync(
      join(cwd, 'crm.csv'),
      `Ref,Kind,When,Sum,Currency,Mail,Notes\nr_1,lead_created,${recent()},5.00,EUR,a@example.com,call back\n`,
    );
    const plain = await run(['import', 'crm.csv', '--type', 'lead_created', '--dry-run']);
    for (const column of ['"Ref"', '"Kind"', '"When"', '"Sum"', '"Mail"', '"Notes"'])
      expect(plain.stderr).toContain(column);
    expect(plain.stderr).toMatch(/^warning: ignoring 6 column\(s\)/m);
    expect(plain.stderr).toContain('--map');
    const mapped = await run([
      'import',
      'crm.csv',
      '--map',
      'Ref=id,Kind=type,When=timestamp,Sum=amount',
      '--map',
      'Mail=email',
    ]);
    expect(mapped.code).toBe(0);
    expect(mapped.stderr).toContain('"Notes"');
    expect(mapped.stderr).not.toContain('"Ref"');
    expect(sandbox.events()[0]?.event).toMatchObject({
      id: 'r_1',
      type: 'lead_created',
      data: { amount: 500, currency: 'EUR' },
      user: { emails_sha256: [expect.stringMatching(/^[0-9a-f]{64}$/)] },
    });
  });

  it('reads a Shopify orders export as it is, one event per order', async () => {
    const created = new Date(Date.now() - 3_600_000);
    const shopifyTime = `${created.toISOString().slice(0, 19).replace('T', ' ')} +0000`;
    writeFileSync(
      join(cwd, 'orders_export.csv'),
      [
        'Name,Email,Financial Status,Paid at,Currency,Subtotal,Total,Created at,Lineitem quantity,Lineitem name,Billing Zip,Billing Country,Phone,Id',
        `#1001,alex@example.com,paid,${shopifyTime},USD,120.00,129.99,${shopifyTime},1,Beans,94103,US,+14155552671,450789469`,
        '#1001,alex@example.com,,,,,,,2,Mug,,,,',
        `#1002,sam@example.com,paid,${shopifyTime},EUR,10.00,12.50,${shopifyTime},1,Tea,10115,DE,,`,
      ].join('\n'),
    );
    const result = await run(['import', 'orders_export.csv']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Shopify orders');
    expect(result.stderr).toContain('"Lineitem name"');
    expect(result.stdout).toMatch(/sent\s+2\n/);
    expect(result.stdout).toMatch(/further rows of an order\s+1\n/);
    const events = sandbox.events().map((e) => e.event);
    expect(events.find((e) => e.id === 'shopify_order_450789469')).toMatchObject({
      type: 'order_created',
      timestamp_ms: Math.floor(created.getTime() / 1000) * 1000,
      data: { amount: 12999, currency: 'USD' },
    });
    expect(events.find((e) => e.id === '#1002')).toMatchObject({ data: { amount: 1250, currency: 'EUR' } });
  });

  it('reads a Stripe payments export, with Created (UTC) as UTC', async () => {
    const created = new Date(Date.now() - 7_200_000);
    const stripeTime = created.toISOString().slice(0, 19).replace('T', ' ');
    writeFileSync(
      join(cwd, 'unified_payments.csv'),
      `id,Description,Created (UTC),Amount,Amount Refunded,Currency,Status,Customer Email,Card Address Zip,Card Address Country\nch_1,Plan,${stripeTime},49.00,0.00,usd,Paid,pat@example.com,94103,US\n`,
    );
    const result = await run(['import', 'unified_payments.csv'], { TZ: 'America/New_York' });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Stripe payments');
    expect(result.stderr).toContain('"Amount Refunded"');
    expect(sandbox.events()[0]?.event).toMatchObject({
      id: 'ch_1',
      type: 'order_created',
      timestamp_ms: Math.floor(created.getTime() / 1000) * 1000,
      data: { amount: 4900, currency: 'USD' },
    });
  });

  it('detects ; and tab delimiters, and takes --delimiter', async () => {
    for (const [name, delimiter] of [
      ['semi.csv', ';'],
      ['tabs.tsv', '\t'],
    ] as const) {
      writeFileSync(
        join(cwd, name),
        [
          `id${delimiter}type${delimiter}amount${delimiter}currency`,
          `${name}${delimiter}order_created${delimiter}1,50${delimiter}EUR`,
        ].join('\n'),
      );
    }
    const semi = await run(['import', 'semi.csv', '--dry-run', '--json']);
    const parsed = JSON.parse(semi.stdout);
    expect(parsed.delimiter).toBe(';');
    expect(parsed.columns.ignored).toEqual([]);
    expect(parsed.summary).toMatchObject({ read: 1, refused: 1 }); // "1,50" is not a decimal the CLI reads
    const tabs = JSON.parse((await run(['import', 'tabs.tsv', '--dry-run', '--json'])).stdout);
    expect(tabs.delimiter).toBe('\t');
    expect(tabs.columns.mapped).toEqual({ id: 'id', type: 'type', amount: 'amount', currency: 'currency' });
    const forced = JSON.parse(
      (await run(['import', 'semi.csv', '--dry-run', '--json', '--delimiter', ','])).stdout,
    );
    expect(forced.columns.ignored).toEqual(['id;type;amount;currency']);
    expect((await run(['import', 'semi.csv', '--delimiter', '|'])).code).toBe(2);
  });

  it('--dry-run prints the first events as they would be sent', async () => {
    const rows = ['id,type,email,timestamp'];
    for (let i = 0; i < 10; i++) rows.push(`d_${i},lead_created, Person${i}@Example.com ,${recent()}`);
    writeFileSync(join(cwd, 'dry.csv'), `${rows.join('\n')}\n`);
    const result = await run(['import', 'dry.csv', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('First 3 event(s) as they would be sent');
    expect(result.stdout).toContain('"id": "d_0"');
    expect(result.stdout).toContain('"emails_sha256"');
    expect(result.stdout).not.toContain('d_3');
    expect(result.stdout).not.toContain('Person0');
    expect(sandbox.requests()).toEqual([]);
  });

  it('--dry-run previews the first rows that make events, past rows that do not', async () => {
    const rows = ['id,type,timestamp'];
    for (let i = 0; i < 3; i++) rows.push(`bad_${i},not_a_type,${recent()}`);
    for (let i = 0; i < 2; i++) rows.push(`good_${i},lead_created,${recent()}`);
    writeFileSync(join(cwd, 'mixed.csv'), `${rows.join('\n')}\n`);
    const result = await run(['import', 'mixed.csv', '--dry-run']);
    expect(result.stdout).toContain('First 2 event(s) as they would be sent');
    expect(result.stdout).toContain('"id": "good_1"');
  });

  it.each(['0', '2'])('counts every row once, a repeated id included (--workers %s)', async (workers) => {
    const rows = ['id,type,timestamp'];
    for (let i = 0; i < 3000; i++) rows.push(`rep_${i % 5},lead_created,${recent()}`);
    writeFileSync(join(cwd, 'repeated.csv'), `${rows.join('\n')}\n`);
    // An empty --action-source is no default at all: one set of defaults, not one per row.
    const result = await run([
      'import',
      'repeated.csv',
      '--json',
      '--workers',
      workers,
      '--action-source',
      '',
    ]);
    expect(result.code).toBe(0);
    const { summary } = JSON.parse(result.stdout);
    expect(summary.read).toBe(3000);
    expect(summary.sent + summary.sameId).toBe(3000);
    expect(summary.sameId).toBeGreaterThan(0);
    expect(new Set(sandbox.events().map((e) => e.event.id))).toEqual(
      new Set(['rep_0', 'rep_1', 'rep_2', 'rep_3', 'rep_4']),
    );
  });

  it('refuses a journal it cannot write before sending anything', async () => {
    writeFileSync(join(cwd, 'rows.csv'), `id,type,timestamp\nj_1,lead_created,${recent()}\n`);
    const result = await run(['import', 'rows.csv', '--journal', join(cwd, 'missing', 'journal')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: cannot write the journal .*missing\/journal \(ENOENT\)/m);
    expect(sandbox.requests()).toEqual([]);
  });

  it('names a row with the wrong number of columns as such, not as a bad timestamp', async () => {
    writeFileSync(
      join(cwd, 'short.csv'),
      `id,type,timestamp,amount,currency\ns_1,lead_created,${recent()}\ns_2,lead_created,${recent()},1.00,USD,extra\ns_3,lead_created,${recent()},1.00,USD\n`,
    );
    const result = await run(['import', 'short.csv']);
    expect(result.stderr).toContain(
      'refused line 2: has 3 field(s) where the header has 5 (wrong column count',
    );
    expect(result.stderr).toContain(
      'refused line 3: has 6 field(s) where the header has 5 (wrong column count',
    );
    expect(result.stderr).not.toContain('timestamp');
    expect(result.stdout).toMatch(/refused: wrong column count\s+2\n/);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['s_3']);
  });

  it('--strict exits 1 on refused or stale rows; the summary counts by reason', async () => {
    writeFileSync(
      join(cwd, 'mixed.csv'),
      [
        'id,type,timestamp,amount,currency',
        `m_1,order_created,${recent()},1.00,USD`,
        `m_2,order_created,${new Date(Date.now() - 9 * 86_400_000).toISOString()},1.00,USD`,
        `m_3,order_created,${recent()},1.999,USD`,
        `m_4,order_created,${recent()},2.999,USD`,
        `m_5,order_created,yesterday-ish,1.00,USD`,
      ].join('\n'),
    );
    const lenient = await run(['import', 'mixed.csv']);
    expect(lenient.code).toBe(0);
    expect(lenient.stderr).toContain('4 row(s) not sent (refused or stale); --strict makes that exit 1');
    expect(lenient.stdout).toMatch(/refused: bad amount\s+2\n/);
    expect(lenient.stdout).toMatch(/refused: bad timestamp\s+1\n/);
    expect(lenient.stdout).toMatch(/stale: older than 7 days\s+1\n/);
    const strict = await run(['import', 'mixed.csv', '--strict', '--journal', 'other.journal']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('error: --strict: 4 row(s) were refused or stale');
    const json = JSON.parse((await run(['import', 'mixed.csv', '--strict', '--json'])).stdout);
    expect(json).toMatchObject({
      ok: false,
      summary: { read: 5, alreadyDelivered: 1, refused: 3, stale: 1 },
      reasons: expect.arrayContaining([{ kind: 'refused', code: 'bad amount', count: 2 }]),
      problems: expect.arrayContaining([expect.objectContaining({ line: 3, kind: 'stale' })]),
    });
  });
});

describe('outbox', () => {
  async function outboxWithLetters(file: string) {
    const { SqliteOutbox } = await import('@chatgpt-ads/outbox-sqlite');
    const { createConversions } = await import('@chatgpt-ads/core');
    sandbox.setFaults([{ rejectIds: ['bad_1', 'bad_2'] }]);
    const store = new SqliteOutbox({ path: join(cwd, file) });
    const conversions = createConversions({
      ...PIXEL,
      endpoint: sandbox.endpoint,
      outbox: store,
      logger: { warn() {}, error() {} },
    });
    for (const id of ['bad_1', 'bad_2'])
      await conversions.track(
        { type: 'lead_created', id },
        { consent: 'granted', sourceUrl: 'https://s.example/' },
      );
    await conversions.shutdown();
    store.close();
    sandbox.setFaults([]);
  }

  it('refuses a missing file instead of creating an empty one', async () => {
    const result = await run(['outbox', 'list', '--file', 'typo.db']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('no outbox file at');
    expect(existsSync(join(cwd, 'typo.db'))).toBe(false);
  });

  it('purge asks on a terminal, refuses without one unless --yes', async () => {
    await outboxWithLetters('o.db');
    const piped = await run(['outbox', 'purge', '--file', 'o.db']);
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('pass --yes');
    const declined = await runOnTerminal(['outbox', 'purge', '--file', 'o.db'], {}, 'n\n');
    expect(declined.stdout).toContain('Delete 2 dead letter(s)');
    expect(declined.stdout).toContain('Nothing deleted.');
    expect(JSON.parse((await run(['outbox', 'list', '--file', 'o.db', '--json'])).stdout)).toMatchObject({
      ok: true,
      deadLetters: 2,
      letters: [{ id: 'bad_1', reason: 'invalid' }, { id: 'bad_2' }],
    });
    const accepted = await runOnTerminal(['outbox', 'purge', '--file', 'o.db', '--id', 'bad_1'], {}, 'y\n');
    expect(accepted.stdout).toContain('Purged 1 dead letter(s)');
    const yes = await run(['outbox', 'purge', '--file', 'o.db', '--yes', '--json']);
    expect(JSON.parse(yes.stdout)).toMatchObject({ ok: true, action: 'purge', count: 1 });
  });
});

describe('doctor --json', () => {
  it('lists the checks', async () => {
    const result = await run(['doctor', '--json']);
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed).toMatchObject({ ok: true, endpoint: sandbox.endpoint });
    expect(parsed.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(result.stdout).not.toContain(PIXEL.apiKey);
  });
});

describe('check-url', () => {
  let site: Server;
  let base: string;
  beforeAll(async () => {
    site = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const kind = /^\/(keep|drop)\/(\d{3})$/.exec(url.pathname);
      if (kind) {
        const target = kind[1] === 'keep' ? `/landing${url.search}` : '/landing';
        res.writeHead(Number(kind[2]), { location: target }).end();
      } else if (url.pathname === '/meta-keep' || url.pathname === '/meta-drop') {
        const target =
          url.pathname === '/meta-keep' ? `/landing${url.search.replace(/&/g, '&amp;')}` : '/landing';
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end(`<html><head><meta http-equiv="refresh" content="0; url=${target}"></head></html>`);
      } else if (url.pathname === '/script') {
        res
          .writeHead(200, { 'content-type': 'text/html' })
          .end('<script>window.location.href = "/landing";</script>');
      } else res.writeHead(200, { 'content-type': 'text/html' }).end('<p>landing</p>');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));

  it.each([301, 302, 303, 307, 308])(
    'follows a %i redirect that keeps the query, and one that drops it',
    async (status) => {
      const kept = JSON.parse(
        (await run(['check-url', `${base}/keep/${status}?utm_source=chatgpt`, '--json'])).stdout,
      );
      expect(kept).toMatchObject({ ok: true, verdict: 'kept' });
      expect(kept.hops.map((h: { status: number }) => h.status)).toEqual([status, 200]);
      const dropped = await run(['check-url', `${base}/drop/${status}`]);
      expect(dropped.code).toBe(1);
      expect(dropped.stdout).toContain(
        `oppref is lost at hop 2: the HTTP ${status} redirect of hop 1 drops the query string`,
      );
    },
  );

  it('follows a meta refresh, and warns about a script redirect it cannot follow', async () => {
    const kept = JSON.parse((await run(['check-url', `${base}/meta-keep?a=1`, '--json'])).stdout);
    expect(kept).toMatchObject({
      ok: true,
      verdict: 'kept',
      hops: [{ redirect: 'meta-refresh' }, { status: 200 }],
    });
    const dropped = await run(['check-url', `${base}/meta-drop`]);
    expect(dropped.code).toBe(1);
    expect(dropped.stdout).toContain('the meta refresh of hop 1 drops the query string');
    const script = await run(['check-url', `${base}/script`]);
    expect(script.stderr).toContain('redirect with JavaScript');
  });

  it('checks a URL that already carries oppref with that value: no second one, no blamed redirect', async () => {
    const url = `${base}/keep/301?oppref=gAAAAB-real-click&utm_source=chatgpt`;
    const result = await run(['check-url', url]);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('LOST');
    expect(result.stdout.match(/oppref=/g)).toHaveLength(2); // one per hop, never two in one URL
    const json = JSON.parse((await run(['check-url', url, '--json'])).stdout);
    expect(json.hops[0].url).toBe(url);
    expect(json.hops[1].url).toBe(`${base}/landing?oppref=gAAAAB-real-click&utm_source=chatgpt`);
  });
});

describe('sandbox command', () => {
  it('prints the env line to paste and one log line per request', async () => {
    const child = spawn(process.execPath, [BIN, 'sandbox', '--port', '0'], {
      cwd,
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    try {
      await expect.poll(() => output, { timeout: 20_000 }).toContain('export CHATGPT_ADS_ENDPOINT=');
      const endpoint = /CHATGPT_ADS_ENDPOINT=(\S+)/.exec(output)![1]!;
      expect(output).toMatch(
        /export CHATGPT_ADS_ENDPOINT=\S+ CHATGPT_ADS_PIXEL_ID=\S+ CHATGPT_ADS_API_KEY=\S+/,
      );
      // The pasted values work as they are.
      const env = Object.fromEntries(
        [...output.matchAll(/(CHATGPT_ADS_[A-Z_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
      );
      expect((await run(['send', '--type', 'lead_created', '--id', 'logged_1'], env)).code).toBe(0);
      expect((await run(['send', '--type', 'lead_created', '--id', 'logged_1'], env)).code).toBe(0);
      await expect
        .poll(() => output.split('\n').filter((l) => l.includes('POST /v1/events')).length, {
          timeout: 20_000,
        })
        .toBe(2);
      const lines = output.split('\n').filter((l) => l.includes('POST /v1/events'));
      expect(lines[0]).toMatch(
        /^\d{2}:\d{2}:\d{2}\.\d{3}\s+POST \/v1\/events\s+\[200\]\s+1 event\s+pixel px_sandbox$/,
      );
      expect(lines[1]).toContain('1 event (1 duplicate)');
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/events$/);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
