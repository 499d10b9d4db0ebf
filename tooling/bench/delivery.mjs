// 4. Delivery: a steady 2,000 events/s for 30 s through one client into the counting sink (HTTP
// requests per 1,000 events, delay from track() to the sink), then a bulk import of generated CSV
// rows through the CLI (`chatgpt-ads import`, 1,000,000 rows; 20,000 in smoke) to the counting sink
// (in one thread, and with one worker thread per core)
// and to the sandbox (which validates every event as OpenAI would, on the same cores): rows/s and the
// CLI's peak RSS (process.resourceUsage().maxRSS, printed by report-rss.cjs as the CLI exits).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createConversions } from '@chatgpt-ads/core';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { against, heading, percentile, save, smoke, startChild, stopChild, table } from './lib.mjs';

const cores = availableParallelism();
const sinkScript = fileURLToPath(new URL('./servers/counting-sink.mjs', import.meta.url));
const IMPORT_GOAL = { rowsPerSecond: 100_000, peakMb: 200 };

async function steady() {
  const sink = await startChild(sinkScript, ['--times']);
  const rate = 2000;
  const seconds = smoke ? 3 : 30;
  const conversions = createConversions({
    pixelId: 'px',
    apiKey: 'sk',
    endpoint: `http://127.0.0.1:${sink.port}/v1/events`,
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
  const base = `http://127.0.0.1:${sink.port}`;
  const counts = await (await fetch(`${base}/count`)).json();
  const times = await (await fetch(`${base}/times`)).json();
  await stopChild(sink.child);
  const delays = Object.entries(times)
    .filter(([id]) => trackedAt.has(id))
    .map(([id, at]) => at - trackedAt.get(id))
    .sort((a, b) => a - b);
  const perThousand = (counts.requests / sent) * 1000;
  return {
    events: sent,
    delivered: counts.distinct,
    'requests / 1,000 events': against(perThousand.toFixed(2), perThousand <= 1.1),
    goal: '≤ 1.1',
    'delay p50 ms': percentile(delays, 50),
    'delay p99 ms': percentile(delays, 99),
  };
}

async function writeCsv(rows) {
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
  return { dir, file };
}

/** `chatgpt-ads import <file> --json` against `endpoint`: seconds, the summary, peak RSS. */
async function importTo(file, endpoint, journal, extra = []) {
  const cli = createRequire(import.meta.url)
    .resolve('@chatgpt-ads/cli/package.json')
    .replace(/package\.json$/, 'dist/cli.js');
  const reporter = fileURLToPath(new URL('./report-rss.cjs', import.meta.url));
  const started = performance.now();
  const { code, stdout, stderr } = await new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--require', reporter, cli, 'import', file, '--journal', journal, '--json', ...extra],
      {
        env: {
          ...process.env,
          OPENAI_ADS_PIXEL_ID: 'px',
          OPENAI_CONVERSIONS_API_KEY: 'sk',
          CHATGPT_ADS_ENDPOINT: endpoint,
        },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`import failed (${code}): ${stderr.slice(-500)}`);
  const summary = JSON.parse(stdout.slice(stdout.indexOf('{'))).summary;
  const peakKb = Number(/peak-rss-kb (\d+)/.exec(stderr)?.[1] ?? 0);
  return { seconds, summary, peakMb: peakKb / 1024 };
}

async function bulkImport() {
  const rows = smoke ? 20_000 : 1_000_000;
  const { dir, file } = await writeCsv(rows);
  const results = [];
  try {
    // The same file to the sink in one thread (the default on fewer than four cores) and through
    // worker threads (one per core), each with a fresh sink and journal.
    for (const [label, extra] of [
      ['counting sink, one thread (--workers 0)', ['--workers', '0']],
      [`counting sink, ${cores} worker threads (--workers ${cores})`, ['--workers', String(cores)]],
    ]) {
      const sink = await startChild(sinkScript, []);
      const endpoint = `http://127.0.0.1:${sink.port}/v1/events`;
      const toSink = await importTo(file, endpoint, join(dir, `sink-${extra[1]}.journal`), extra);
      const counts = await (await fetch(`http://127.0.0.1:${sink.port}/count`)).json();
      await stopChild(sink.child);
      results.push({ endpoint: label, ...toSink, received: counts.distinct, goal: true });
    }

    const sandbox = await startSandbox({ port: 0, maxStored: rows + 10_000 });
    const toSandbox = await importTo(file, sandbox.endpoint, join(dir, 'sandbox.journal'));
    const received = sandbox.events().length;
    await sandbox.close();
    results.push({
      endpoint: 'sandbox (validates every event, same cores)',
      ...toSandbox,
      received,
      goal: false,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results.map(({ endpoint, seconds, summary, peakMb, received, goal }) => {
    const perSecond = Math.round(summary.sent / seconds);
    return {
      endpoint,
      rows,
      sent: summary.sent,
      received: received,
      'rows/s': goal
        ? against(perSecond.toLocaleString('en-US'), perSecond >= IMPORT_GOAL.rowsPerSecond)
        : perSecond,
      'rows/s goal': goal ? '≥ 100,000' : '—',
      'peak RSS MB': goal ? against(Math.round(peakMb), peakMb <= IMPORT_GOAL.peakMb) : Math.round(peakMb),
      'RSS goal': goal ? '≤ 200' : '—',
      seconds: Number(seconds.toFixed(1)),
      "CLI's own seconds": Number(summary.seconds.toFixed(1)),
    };
  });
}

export async function run() {
  heading(`Delivery at a steady 2,000 events/s for ${smoke ? 3 : 30} s (counting sink)`);
  const steadyRow = await steady();
  table([steadyRow]);
  heading(`Bulk import through the CLI (${smoke ? '20,000' : '1,000,000'} rows; CLI start to exit)`);
  const importRows = await bulkImport();
  table(importRows);
  save('delivery', { steady: steadyRow, import: importRows });
  return { steady: steadyRow, import: importRows };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
