// 4. Delivery efficiency: a steady 2,000 events/s for 30 s through one client into the sandbox
// (HTTP requests per 1,000 events, delay from track() to the sandbox), then a bulk import of
// 1,000,000 generated rows through the CLI (events/s, peak RSS of the CLI process).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConversions } from '@chatgpt-ads/core';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { heading, percentile, save, smoke } from './lib.mjs';

const nodeHash = (value) => createHash('sha256').update(value).digest('hex');

async function steady(sandbox) {
  const rate = 2000;
  const seconds = smoke ? 3 : 30;
  const conversions = createConversions({
    pixelId: 'px',
    apiKey: 'sk',
    endpoint: sandbox.endpoint,
    hash: nodeHash,
    logger: { warn() {}, error() {} },
  });
  const trackedAt = new Map();
  const context = {
    consent: 'granted',
    ip: '203.0.113.7',
    userAgent: 'bench',
    sourceUrl: 'https://shop.example/checkout',
  };
  const started = Date.now();
  let sent = 0;
  // 20 events every 10 ms, kept on schedule against the wall clock.
  while (Date.now() - started < seconds * 1000) {
    const due = Math.floor(((Date.now() - started) / 1000) * rate);
    while (sent < due) {
      const id = `steady_${sent++}`;
      trackedAt.set(id, Date.now());
      await conversions.track(
        {
          type: 'order_created',
          id,
          data: { amount: 1299, currency: 'USD' },
          user: { email: `b${sent}@example.com` },
        },
        context,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await conversions.shutdown();
  const delays = sandbox
    .events()
    .filter((e) => trackedAt.has(e.event.id))
    .map((e) => e.receivedAt - trackedAt.get(e.event.id))
    .sort((a, b) => a - b);
  const requests = sandbox.requests().filter((r) => r.channel === 'server_to_server').length;
  return {
    events: sent,
    delivered: delays.length,
    'requests / 1,000 events (≤ 1.1)': Number(((requests / sent) * 1000).toFixed(2)),
    'delay p50 ms': percentile(delays, 50),
    'delay p99 ms': percentile(delays, 99),
  };
}

async function bulkImport(sandbox) {
  const rows = smoke ? 20_000 : 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'chatgpt-ads-bench-'));
  const file = join(dir, 'orders.csv');
  const out = createWriteStream(file);
  out.write('id,type,timestamp,amount,currency,email,phone,country\n');
  const now = Date.now();
  for (let i = 0; i < rows; i++) {
    const line = `bulk_${i},order_created,${now - (i % 86_400) * 1000},${(i % 500) + 1}.99,USD,buyer${i}@example.com,+1 415 555 ${String(i % 10_000).padStart(4, '0')},US\n`;
    if (!out.write(line)) await new Promise((resolve) => out.once('drain', resolve));
  }
  await new Promise((resolve) => out.end(resolve));
  const cli = createRequire(import.meta.url)
    .resolve('@chatgpt-ads/cli/package.json')
    .replace(/package\.json$/, 'dist/cli.js');
  const reporter = fileURLToPath(new URL('./report-rss.cjs', import.meta.url));
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise((resolve) => {
    const child = spawn(process.execPath, ['--require', reporter, cli, 'import', file], {
      env: {
        ...process.env,
        OPENAI_ADS_PIXEL_ID: 'px',
        OPENAI_CONVERSIONS_API_KEY: 'sk',
        CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const seconds = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`import failed (${code}): ${stderr.slice(-500)}`);
  const sent = Number(/sent\s+([\d,]+)/.exec(stdout)?.[1]?.replaceAll(',', '') ?? 0);
  const peakKb = Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1] ?? 0);
  return {
    rows,
    sent,
    'events/s (≥ 50,000)': Math.round(sent / seconds),
    'peak RSS MB (≤ 300)': Math.round(peakKb / 1024),
    seconds: Number(seconds.toFixed(1)),
  };
}

export async function run() {
  const sandbox = await startSandbox({ port: 0, maxStored: 1_100_000 });
  heading(`Delivery at a steady 2,000 events/s for ${smoke ? 3 : 30} s`);
  const steadyRow = await steady(sandbox);
  console.table([steadyRow]);
  sandbox.reset();
  heading(`Bulk import through the CLI (${smoke ? '20,000' : '1,000,000'} rows)`);
  const importRow = await bulkImport(sandbox);
  console.table([importRow]);
  await sandbox.close();
  save('delivery', { steady: steadyRow, import: importRow });
  return { steady: steadyRow, import: importRow };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
