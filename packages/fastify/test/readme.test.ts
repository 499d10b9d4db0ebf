// Runs the Usage example of README.md as written (with PORT=0 and the sandbox as endpoint).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import type { FastifyInstance } from 'fastify';
import { expect, it, vi } from 'vitest';

const packageDir = join(import.meta.dirname, '..');

it('the README example captures the click id, tracks the order and delivers it on close', async () => {
  const sandbox = await startSandbox({ port: 0 });
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
  vi.stubEnv('PORT', '0');
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf('## Usage')))?.[1];
  expect(code).toContain('app.register(chatgptAds');
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const file = join(packageDir, 'test-output', 'readme-usage.ts');
  writeFileSync(
    file,
    `${code!.replaceAll("'@chatgpt-ads/fastify'", "'../src/index.js'")}\nexport { app };\n`,
  );
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = signals.map((signal) => process.listeners(signal));
  const { app } = (await import(/* @vite-ignore */ file)) as { app: FastifyInstance };
  // The example listens on localhost, as Fastify does by default.
  const url = `http://localhost:${(app.server.address() as AddressInfo).port}`;

  const landing = await fetch(`${url}/?oppref=gAAAAB-readme`, { headers: { cookie: '__oaiq_consent=true' } });
  const cookie = landing.headers.getSetCookie()[0]!.split(';')[0]!;
  expect(cookie).toBe('__oppref=gAAAAB-readme');
  const thanks = await fetch(`${url}/checkout`, {
    method: 'POST',
    headers: { cookie: `__oaiq_consent=true; ${cookie}`, 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'Alex@Example.com' }),
  });
  expect(thanks.headers.get('content-type')).toMatch(/^text\/html/);
  expect(await thanks.text()).toContain('"event_id":"order_1001"');

  // close() resolves once what was queued is delivered.
  await app.close();
  expect(sandbox.events()).toHaveLength(1);
  expect(sandbox.events()[0]?.event).toMatchObject({
    id: 'order_1001',
    oppref: 'gAAAAB-readme',
    data: { amount: 12999, currency: 'USD' },
    user: { emails_sha256: ['6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110'] },
  });
  // The example's own signal listeners, added once each.
  signals.forEach((signal, i) => {
    const added = process.listeners(signal).filter((listener) => !before[i]!.includes(listener));
    expect(added).toHaveLength(1);
    for (const listener of added) process.off(signal, listener);
  });
  vi.unstubAllEnvs();
  await sandbox.close();
});
