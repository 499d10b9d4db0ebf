// 1. Request-path overhead per adapter: the same route with and without the integration (capture +
// consent + track of one event per request, delivered to the sandbox), driven by autocannon on
// loopback in alternating rounds within one run.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '@chatgpt-ads/sandbox';
import autocannon from 'autocannon';
import { heading, median, save, smoke, startChild, stopChild } from './lib.mjs';

const ADAPTERS = [
  ['Express 5', 'servers/express.mjs'],
  ['NestJS 12', 'servers/nest.mjs'],
];

// Next.js: the built example app under `next start`, /api/orders (withConversions + track) against
// /api/baseline-orders (the same handler without the integration).
async function nextRow(sandbox, rounds, seconds) {
  const appDir = fileURLToPath(new URL('../../apps/example-next/', import.meta.url));
  const port = 3900 + Math.floor(Math.random() * 90);
  const child = spawn(
    process.execPath,
    [`${appDir}node_modules/next/dist/bin/next`, 'start', '-p', String(port), '-H', '127.0.0.1'],
    {
      cwd: appDir,
      env: {
        ...process.env,
        NEXT_TELEMETRY_DISABLED: '1',
        CHATGPT_ADS_PIXEL_ID: 'px',
        CHATGPT_ADS_API_KEY: 'sk',
        CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
        CHATGPT_ADS_PIXEL_SCRIPT: sandbox.pixelScriptUrl,
      },
      stdio: 'ignore',
    },
  );
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/api/baseline-orders`, { method: 'POST' })).ok) break;
    } catch {}
    if (i > 300) throw new Error('next start did not come up (build apps/example-next first)');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const samples = { baseline: [], integrated: [] };
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['baseline', 'integrated'] : ['integrated', 'baseline'];
    for (const mode of order) {
      const result = await autocannon({
        url: `${base}/api/${mode === 'baseline' ? 'baseline-orders' : 'orders'}`,
        method: 'POST',
        connections: 50,
        duration: seconds,
        headers: { cookie: 'demo_consent=granted; __oppref=gAAAAB-bench', 'user-agent': 'autocannon' },
      });
      if (result.non2xx > 0 || result.errors > 0)
        throw new Error(`Next ${mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      samples[mode].push({ rps: result.requests.average, p99: result.latency.p99 });
    }
  }
  child.kill('SIGTERM');
  const baseRps = median(samples.baseline.map((s) => s.rps));
  const intRps = median(samples.integrated.map((s) => s.rps));
  return {
    adapter: 'Next.js 16 (route handler)',
    'baseline req/s': Math.round(baseRps),
    'integrated req/s': Math.round(intRps),
    'ratio (≥ 0.95)': Number((intRps / baseRps).toFixed(3)),
    'baseline p99 ms': median(samples.baseline.map((s) => s.p99)),
    'integrated p99 ms': median(samples.integrated.map((s) => s.p99)),
  };
}

export async function run() {
  heading('Request-path overhead (autocannon, 50 connections, alternating rounds)');
  const rounds = smoke ? 1 : 3;
  const seconds = smoke ? 1 : 5;
  const sandbox = await startSandbox({ port: 0, maxStored: 10_000 });
  const rows = [];
  for (const [name, script] of ADAPTERS) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const servers = {
      baseline: await startChild(path, ['baseline', sandbox.endpoint]),
      integrated: await startChild(path, ['integrated', sandbox.endpoint]),
    };
    const samples = { baseline: [], integrated: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['baseline', 'integrated'] : ['integrated', 'baseline'];
      for (const mode of order) {
        const result = await autocannon({
          url: `http://127.0.0.1:${servers[mode].port}/product?utm_source=chatgpt&oppref=gAAAAB-bench`,
          connections: 50,
          duration: seconds,
          headers: { cookie: '__oaiq_consent=true', 'user-agent': 'autocannon' },
        });
        if (result.non2xx > 0 || result.errors > 0)
          throw new Error(`${name} ${mode}: ${result.non2xx} non-2xx, ${result.errors} errors`);
        samples[mode].push({ rps: result.requests.average, p99: result.latency.p99 });
      }
    }
    await stopChild(servers.baseline.child);
    await stopChild(servers.integrated.child);
    const baseRps = median(samples.baseline.map((s) => s.rps));
    const intRps = median(samples.integrated.map((s) => s.rps));
    rows.push({
      adapter: name,
      'baseline req/s': Math.round(baseRps),
      'integrated req/s': Math.round(intRps),
      'ratio (≥ 0.95)': Number((intRps / baseRps).toFixed(3)),
      'baseline p99 ms': median(samples.baseline.map((s) => s.p99)),
      'integrated p99 ms': median(samples.integrated.map((s) => s.p99)),
    });
  }
  rows.push(await nextRow(sandbox, rounds, seconds));
  const delivered = sandbox.events().length;
  await sandbox.close();
  console.table(rows);
  console.log(
    `(${rounds} round(s) of ${seconds} s per mode; medians; events delivered to the sandbox: ${delivered.toLocaleString('en-US')}+)`,
  );
  save('request-path', { rows });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
