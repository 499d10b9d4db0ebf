// Next.js 15 under `next build` + `next start`: the middleware must see the landing URL as it was
// requested, so a click id ending in "==" (or holding "~") reaches __oppref unchanged.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const fixture = join(import.meta.dirname, '..', 'fixture');
const nextBin = join(import.meta.dirname, '..', 'node_modules', 'next', 'dist', 'bin', 'next');
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
let server: ChildProcess | undefined;
let port = 0;
let log = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address() as { port: number };
      probe.close(() => resolve(address.port));
    });
  });
}

beforeAll(async () => {
  await promisify(execFile)(process.execPath, [nextBin, 'build'], { cwd: fixture, env });
  port = await freePort();
  server = spawn(process.execPath, [nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: fixture,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (chunk) => (log += chunk));
  server.stderr?.on('data', (chunk) => (log += chunk));
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) break;
    } catch {}
    if (i > 300 || server.exitCode !== null) throw new Error(`next start did not come up:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 240_000);
afterAll(() => {
  server?.kill('SIGTERM');
});

function opprefCookieFor(value: string): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: `/?oppref=${value}`, headers: { cookie: '__oaiq_consent=true' } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.headers['set-cookie']?.find((c) => c.startsWith('__oppref='))));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

it.each(['gAAAAB-Zm9vYmFy_x-1Zw==', 'a~b', 'a+b', 'a%2Bb', 'a%27b'])(
  'Next 15 middleware stores ?oppref=%s byte for byte',
  async (value) => {
    expect(await opprefCookieFor(value)).toBe(`__oppref=${value}; Path=/; Max-Age=2592000; SameSite=Lax`);
    expect(log).not.toContain('without the raw request URL');
  },
);
