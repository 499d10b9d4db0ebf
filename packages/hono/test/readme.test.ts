// Runs the Usage example of README.md as written (with PORT=0 and the sandbox as endpoint).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { expect, it, vi } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('the README example captures the click id, tracks the order and delivers it on SIGTERM', async () => {
  const sandbox = await startSandbox({ port: 0 });
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
  vi.stubEnv('PORT', '0');
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1];
  expect(code).toContain('app.use(ads)');
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const file = join(packageDir, 'test-output', 'readme-usage.ts');
  writeFileSync(
    file,
    `${code!.replaceAll("'@chatgpt-ads/hono'", "'../src/index.js'")}\nexport { server };\n`,
  );
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = signals.map((signal) => process.listeners(signal));
  const { server } = (await import(/* @vite-ignore */ file)) as { server: Server };
  await new Promise((resolve) => (server.listening ? resolve(null) : server.once('listening', resolve)));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const landing = await fetch(`${url}/?oppref=gAAAAB-readme`, { headers: { cookie: '__oaiq_consent=true' } });
  const cookie = landing.headers.getSetCookie()[0]!.split(';')[0]!;
  expect(cookie).toBe('__oppref=gAAAAB-readme');
  const thanks = await fetch(`${url}/checkout`, {
    method: 'POST',
    headers: { cookie: `__oaiq_consent=true; ${cookie}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'Alex@Example.com' }),
  });
  expect(await thanks.text()).toContain('"event_id":"order_1001"');

  // The example's own SIGTERM listener (one per signal) closes the server and delivers the queue.
  const added = signals.map((signal, i) =>
    process.listeners(signal).filter((listener) => !before[i]!.includes(listener)),
  );
  expect(added.map((listeners) => listeners.length)).toEqual([1, 1]);
  const closed = new Promise((resolve) => server.once('close', resolve));
  (added[0]![0] as () => void)();
  await closed;
  await expect.poll(() => sandbox.events().length).toBe(1);
  expect(sandbox.events()[0]?.event).toMatchObject({
    id: 'order_1001',
    oppref: 'gAAAAB-readme',
    data: { amount: 12999, currency: 'USD' },
    user: { emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'] },
  });
  signals.forEach((signal, i) => {
    for (const listener of added[i]!) process.off(signal, listener);
  });
  vi.unstubAllEnvs();
  await sandbox.close();
});
