// The client under test, in its own process: node client.mjs '<json config>'
// It tracks `rate` events a second for `seconds`, writing each tracked id to `journal` first (so the
// drill knows what was accepted even if this process is killed), then flushes and prints its stats.
import { appendFileSync } from 'node:fs';
import { createConversions, MemoryOutbox } from '@chatgpt-ads/core';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';

const config = JSON.parse(process.argv[2]);
const outbox = config.sqlite ? new SqliteOutbox({ path: config.sqlite, leaseMs: 5_000 }) : new MemoryOutbox();
const conversions = createConversions({
  pixelId: 'px_drill',
  apiKey: 'sk_drill',
  endpoint: config.endpoint,
  outbox,
  batch: { flushIntervalMs: 200, maxEvents: config.maxEvents ?? 1000 },
  retry: { baseDelayMs: 100, maxDelayMs: 2_000, timeoutMs: 1_000 },
  logger: { warn() {}, error() {} },
});
const context = {
  consent: 'granted',
  ip: '203.0.113.7',
  userAgent: 'drill',
  sourceUrl: 'https://shop.example/checkout',
};

let stopping = false;
process.once('SIGTERM', async () => {
  stopping = true;
  const stats = await conversions.shutdown({ timeoutMs: 15_000 });
  report(stats);
  process.exit(0);
});

function report(stats) {
  process.stdout.write(`${JSON.stringify({ stats })}\n`);
}

const started = Date.now();
let n = 0;
while (!stopping && Date.now() - started < config.seconds * 1000) {
  const due = Math.floor(((Date.now() - started) / 1000) * config.rate);
  while (n < due && !stopping) {
    const id = `${config.prefix}_${n}`;
    // Some scenarios age part of the events: just inside the 7-day window at accept time.
    const timestampMs = config.ageMs && n % 2 === 0 ? Date.now() - config.ageMs : undefined;
    const result = await conversions.track(
      {
        type: 'order_created',
        id,
        data: { amount: 1000 + n, currency: 'USD' },
        user: { email: `b${n}@example.com` },
        ...(timestampMs ? { timestampMs } : {}),
      },
      context,
    );
    if (result.status === 'queued') appendFileSync(config.journal, `${id}\n`);
    if (n++ === 0) process.stdout.write('started\n');
  }
  await new Promise((resolve) => setTimeout(resolve, 5));
}
if (!stopping) {
  process.stdout.write('tracked\n');
  if (config.afterTracking === 'wait') await new Promise(() => {});
  const stats = await conversions.shutdown({ timeoutMs: config.flushTimeoutMs ?? 120_000 });
  report(stats);
  if (config.sqlite) outbox.close();
}
