// Serves the built example with `next start` on a free port, pointed at a sandbox.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const CANARY_KEY = 'sk_example_next_SECRET_CANARY';
const appDir = join(import.meta.dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export async function startNext(sandbox: { endpoint: string; pixelScriptUrl: string }) {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [join(appDir, 'node_modules/next/dist/bin/next'), 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: appDir,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        CHATGPT_ADS_PIXEL_ID: 'px_example_next',
        CHATGPT_ADS_API_KEY: CANARY_KEY,
        CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
        CHATGPT_ADS_PIXEL_SCRIPT: sandbox.pixelScriptUrl,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout?.on('data', (chunk) => (log += chunk));
  child.stderr?.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/lead`)).ok) break;
    } catch {}
    if (i > 200 || child.exitCode !== null) throw new Error(`next start did not come up:\n${log}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    log: () => log,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
