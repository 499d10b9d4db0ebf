// What the CLI prints and keeps when its input is broken: config files with syntax errors (never
// echo the key), CSV files that stop parsing halfway, files that are not UTF-8, and the objects that
// hold the key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';
import { clientOptions, loadConfig } from '../src/shared.js';

const SECRET = 'sk_live_SECRETVALUE_0123456789';
const PIXEL = { pixelId: 'px_hard', apiKey: 'sk_hard_key' };
let sandbox: Sandbox;
let cwd: string;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pixels: [PIXEL] });
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  cwd = mkdtempSync(join(tmpdir(), 'chatgpt-ads-cli-hard-'));
});

async function cli(argv: string[], env: Record<string, string> = {}) {
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
  });
  return { code, stdout, stderr, all: stdout + stderr };
}

describe('config files with errors never print their content', () => {
  it.each([
    ['an unquoted key', `{\n  "pixelId": "px_1",\n  "apiKey": ${SECRET}\n}\n`, 'line 3, column 13'],
    ['a trailing comma', `{\n  "apiKey": "${SECRET}",\n}\n`, 'line 3, column 1'],
    ['an unterminated string', `{ "apiKey": "${SECRET}\n}`, 'line 1, column'],
    ['a single-quoted value', `{"apiKey": '${SECRET}'}`, 'line 1, column 12'],
  ])('JSON with %s: names the file, line and column only', async (_name, text, where) => {
    writeFileSync(join(cwd, 'chatgpt-ads.config.json'), text);
    const result = await cli(['doctor']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(cwd, 'chatgpt-ads.config.json')} is not valid JSON`);
    expect(result.stderr).toContain(where);
    for (const fragment of [SECRET.slice(0, 10), 'SECRETVALUE', '0123456789']) {
      expect(result.all).not.toContain(fragment);
    }
  });

  it.each([
    ['a bare identifier (ReferenceError)', `export default { apiKey: ${SECRET} };\n`],
    ['an unterminated string (SyntaxError)', `export default {\n  apiKey: '${SECRET}\n};\n`],
    ['a typo in a keyword', `export defualt { apiKey: '${SECRET}' };\n`],
  ])('an .mjs config with %s: names the file and the error kind only', async (_name, text) => {
    writeFileSync(join(cwd, 'chatgpt-ads.config.mjs'), text);
    const result = await cli(['doctor']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(cwd, 'chatgpt-ads.config.mjs')} could not be loaded`);
    expect(result.stderr).toMatch(/Error/);
    for (const fragment of [SECRET.slice(0, 10), 'SECRETVALUE', '0123456789']) {
      expect(result.all).not.toContain(fragment);
    }
  });
});

describe('the objects holding the key', () => {
  it('the loaded config and the client options show [redacted] in inspect and JSON.stringify', async () => {
    const io = { env: {}, cwd } as Parameters<typeof loadConfig>[1];
    const config = await loadConfig({ 'api-key': SECRET, 'pixel-id': 'px_1' }, io);
    expect(config.apiKey).toBe(SECRET);
    expect(Object.keys(config)).not.toContain('apiKey');
    const options = clientOptions({ pixelId: 'px_1', apiKey: SECRET }, { fetch });
    expect(options.apiKey).toBe(SECRET);
    for (const object of [config, options]) {
      for (const output of [
        inspect(object),
        inspect(object, { showHidden: true, depth: 5 }),
        JSON.stringify(object),
        JSON.stringify({ nested: object }),
        `${JSON.stringify(Object.entries(object))}`,
      ]) {
        expect(output).not.toContain('SECRETVALUE');
      }
    }
    expect(JSON.stringify(config)).toContain('"apiKey":"[redacted]"');
    expect(inspect(config)).toContain("apiKey: '[redacted]'");
  });
});

function csvRows(count: number, from = 0): string {
  const day = new Date(Date.now() - 3_600_000).toISOString();
  let out = '';
  for (let i = from; i < from + count; i++) out += `lead_created,lead_${i},${day},user${i}@example.com\n`;
  return out;
}

describe('import stops on a file it cannot read, and still delivers and reports what came before', () => {
  it('a bad quote at line 30,002: the 30,000 rows before it are sent, the summary names the line, exit 1', async () => {
    const file = join(cwd, 'leads.csv');
    writeFileSync(
      file,
      `type,id,timestamp,email\n${csvRows(30_000)}lead_created,"lead_bad"x,${new Date().toISOString()},private"person@example.com\n${csvRows(10, 40_000)}`,
    );
    const result = await cli(['import', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stopped reading at line 30002');
    expect(result.stdout).toMatch(/read\s+30,000/);
    expect(result.stdout).toMatch(/sent\s+30,000/);
    expect(result.all).not.toContain('private');
    const delivered = new Set(sandbox.events().map((e) => e.event.id));
    expect(delivered.size).toBe(30_000);
    expect(delivered.has('lead_29999')).toBe(true);
    expect(delivered.has('lead_40000')).toBe(false);
  });

  it('a Latin-1 CSV is refused with the line of the first byte that is not UTF-8, nothing hashed wrong', async () => {
    const file = join(cwd, 'latin1.csv');
    const header = 'type,id,timestamp,email,first_name\n';
    const day = new Date(Date.now() - 3_600_000).toISOString();
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(
          `${header}lead_created,l1,${day},a@example.com,Ana\nlead_created,l2,${day},b@example.com,`,
        ),
        Buffer.from('Jos\xe9\n', 'latin1'),
        Buffer.from(`lead_created,l3,${day},c@example.com,Zoe\n`),
      ]),
    );
    const result = await cli(['import', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 3 is not valid UTF-8/);
    expect(result.stderr).toContain('Latin-1');
    // Nothing from the offending line reached the endpoint with a replacement character.
    expect(sandbox.events().map((e) => e.event.id)).not.toContain('l2');
  });

  it('a Latin-1 line deep in a large CSV: rows in earlier chunks are delivered, the line is named', async () => {
    const file = join(cwd, 'big-latin1.csv');
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`type,id,timestamp,email,first_name\n`),
        Buffer.from(
          csvRows(5_000)
            .split('\n')
            .filter(Boolean)
            .map((line) => `${line},Ana\n`)
            .join(''),
        ),
        Buffer.from(`lead_created,lead_latin,${new Date().toISOString()},z@example.com,Ren\xe9e\n`, 'latin1'),
      ]),
    );
    const result = await cli(['import', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 5002 is not valid UTF-8/);
    const delivered = sandbox.events().map((e) => e.event.id);
    expect(delivered).not.toContain('lead_latin');
    expect(delivered.length).toBeGreaterThan(0);
    expect(result.stdout).toMatch(new RegExp(`sent\\s+${delivered.length.toLocaleString('en-US')}`));
  });

  it('a JSONL file that is not UTF-8 is refused with its line', async () => {
    const file = join(cwd, 'leads.jsonl');
    const day = new Date(Date.now() - 3_600_000).toISOString();
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(`{"type":"lead_created","id":"j1","timestamp":"${day}","email":"a@example.com"}\n`),
        Buffer.from(
          `{"type":"lead_created","id":"j2","timestamp":"${day}","first_name":"Fran\xe7ois"}\n`,
          'latin1',
        ),
      ]),
    );
    const result = await cli(['import', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line 2 is not valid UTF-8/);
  });

  it('a UTF-8 file with a BOM and multi-byte names split across chunks reads cleanly', async () => {
    const file = join(cwd, 'utf8.csv');
    const day = new Date(Date.now() - 3_600_000).toISOString();
    let body = '\ufefftype,id,timestamp,email,first_name\n';
    for (let i = 0; i < 3_000; i++)
      body += `lead_created,u${i},${day},u${i}@example.com,Zoë José 日本 ${i}\n`;
    writeFileSync(file, body);
    const result = await cli(['import', file]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(new Set(sandbox.events().map((e) => e.event.id)).size).toBe(3_000);
  });
});

describe('sandbox command', () => {
  it('--allow-host opens the inspector routes to that name, and to no other', async () => {
    const controller = new AbortController();
    let output = '';
    const running = runCli(['sandbox', '--port', '0', '--allow-host', 'sandbox'], {
      stdout: (t) => {
        output += t;
      },
      signal: controller.signal,
    });
    await expect.poll(() => output).toContain('inspector');
    const inspector = new URL(/inspector\s+(\S+)/.exec(output)![1]!);
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        request(
          { host: inspector.hostname, port: inspector.port, path: '/_sandbox/events', headers: { host } },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
          .on('error', reject)
          .end();
      });
    expect(await status(`sandbox:${inspector.port}`)).toBe(200);
    expect(await status(`evil.example:${inspector.port}`)).toBe(403);
    controller.abort();
    expect(await running).toBe(0);
  });
});
