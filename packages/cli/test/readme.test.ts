// Runs every chatgpt-ads command of the README's Usage section (all but the long-running sandbox),
// with the README's env line and orders.csv, against a real sandbox; checks the output shown there
// and that --json prints only the keys the README's JSON shapes document.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const usage = readme.slice(readme.indexOf('## Usage'), readme.indexOf('## Options'));
const shapes = /## JSON output[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)![1]!;

/** The property names the README documents for one `type X = {…}` (nested objects included). */
function documentedKeys(name: string): Set<string> {
  const body = new RegExp(`type ${name} =([\\s\\S]*?)\\n\\n`).exec(`${shapes}\n\n`)![1]!;
  return new Set([...body.matchAll(/([A-Za-z]+)\??:/g)].map((m) => m[1]!));
}

function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

it('the README usage commands work', async () => {
  const sandbox = await startSandbox({ port: 0 });
  const cwd = mkdtempSync(join(tmpdir(), 'chatgpt-ads-readme-'));
  const csv = /```csv\n([\s\S]*?)```/.exec(usage)?.[1];
  // The sample rows carry fixed dates; make them recent so they are not stale.
  writeFileSync(
    join(cwd, 'orders.csv'),
    csv!.replace(/2026-11-25T/g, `${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}T`),
  );
  const site = 'https://shop.example/landing?utm_source=chatgpt';
  const commands = usage
    .split('\n')
    .filter((line) => line.startsWith('chatgpt-ads ') && !line.startsWith('chatgpt-ads sandbox'))
    .map((line) => words(line.replace(/\s+#.*$/, '')).slice(1));
  expect(commands.map((c) => c[0])).toEqual([
    'doctor',
    'send',
    'send',
    'import',
    'import',
    'check-url',
    'send',
  ]);

  // The line the sandbox prints, as pasted, with the test sandbox's own port.
  const exported = /^export (.+)$/m.exec(usage)![1]!;
  const env: Record<string, string> = Object.fromEntries(
    exported.split(' ').map((pair) => pair.split('=') as [string, string]),
  );
  expect(Object.keys(env)).toEqual(['CHATGPT_ADS_ENDPOINT', 'CHATGPT_ADS_PIXEL_ID', 'CHATGPT_ADS_API_KEY']);
  env.CHATGPT_ADS_ENDPOINT = sandbox.endpoint;
  const outputs: string[] = [];
  // check-url must not leave the machine: answer its request locally.
  const localFetch: typeof fetch = async (input, init) =>
    String(input).startsWith('https://shop.example/')
      ? new Response('<p>landing</p>', { status: 200 })
      : fetch(input, init);
  for (const argv of commands) {
    let out = '';
    const code = await runCli(argv, {
      env,
      cwd,
      isTTY: false,
      fetch: localFetch,
      stdout: (t) => (out += t),
      stderr: (t) => (out += t),
    });
    expect({ argv, code, out }).toMatchObject({ code: 0 });
    if (argv[0] === 'check-url') expect(argv[1]).toBe(site);
    outputs.push(out);
  }
  // What the README shows send printing, with this sandbox's address.
  const shown = /```text\n(✔ Sent .*)\n```/.exec(usage)![1]!;
  expect(outputs[2]).toBe(`${shown.replace('http://127.0.0.1:8787/v1/events', sandbox.endpoint)}\n`);
  const sendJson = JSON.parse(outputs[6]!);
  for (const key of Object.keys(sendJson)) expect(documentedKeys('Send')).toContain(key);
  const ids = sandbox.events().map((e) => e.event.id);
  expect(ids.sort()).toEqual(['lead_42', 'lead_43', 'order_2001', 'order_2002']);
  const jpy = sandbox.events().find((e) => e.event.id === 'order_2002')?.event.data as { amount: number };
  expect(jpy.amount).toBe(8900);
  await sandbox.close();
});

it('the README documents every key the --json outputs print', async () => {
  const sandbox = await startSandbox({ port: 0 });
  const cwd = mkdtempSync(join(tmpdir(), 'chatgpt-ads-readme-json-'));
  writeFileSync(join(cwd, 'rows.csv'), `id,type,timestamp\nr_1,lead_created,${new Date().toISOString()}\n`);
  const env = {
    CHATGPT_ADS_PIXEL_ID: 'px_1',
    CHATGPT_ADS_API_KEY: 'sk_1',
    CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
  };
  const json = async (argv: string[]) => {
    let out = '';
    await runCli([...argv, '--json'], {
      env,
      cwd,
      isTTY: false,
      stdout: (t) => (out += t),
      stderr: () => {},
    });
    return JSON.parse(out) as Record<string, unknown>;
  };
  const cases: Array<[string, string[]]> = [
    ['Send', ['send', '--type', 'lead_created', '--id', 'j_1']],
    ['Send', ['send', '--type', 'lead_created', '--dry-run']],
    ['Import', ['import', 'rows.csv']],
    ['Import', ['import', 'rows.csv', '--dry-run']],
    ['Doctor', ['doctor']],
    ['Version', ['--version']],
  ];
  for (const [type, argv] of cases) {
    const output = await json(argv);
    const documented = documentedKeys(type);
    for (const key of Object.keys(output))
      expect({ type, key, documented: documented.has(key) }).toEqual({ type, key, documented: true });
    if (type === 'Import')
      for (const key of Object.keys(output.summary as object)) expect(documented).toContain(key);
  }
  await sandbox.close();
});
