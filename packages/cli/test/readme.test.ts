// Runs every chatgpt-ads command of the README's Usage section (all but the long-running sandbox),
// with the README's orders.csv, against a real sandbox.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
const usage = readme.slice(readme.indexOf('## Usage'), readme.indexOf('## Commands'));

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
  expect(commands.map((c) => c[0])).toEqual(['doctor', 'send', 'send', 'import', 'check-url']);

  const env = {
    OPENAI_ADS_PIXEL_ID: 'px_123',
    OPENAI_CONVERSIONS_API_KEY: 'sk_readme',
    CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
  };
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
  }
  const ids = sandbox.events().map((e) => e.event.id);
  expect(ids.sort()).toEqual(['lead_42', 'order_2001', 'order_2002']);
  const jpy = sandbox.events().find((e) => e.event.id === 'order_2002')?.event.data as { amount: number };
  expect(jpy.amount).toBe(8900);
  await sandbox.close();
});
