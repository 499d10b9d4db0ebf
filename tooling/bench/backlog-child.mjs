import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConversions, MemoryOutbox } from '@chatgpt-ads/core';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';

const count = Number(process.argv[2]);
const kind = process.argv[3] ?? 'memory';
const file = join(mkdtempSync(join(tmpdir(), 'backlog-')), 'outbox.db');
const heap = () => process.memoryUsage().heapUsed / 2 ** 20;
const mb = () => {
  globalThis.gc();
  return process.memoryUsage().rss / 2 ** 20;
};
// Port 9 on loopback refuses connections: every send fails and is retried later.
const conversions = createConversions({
  pixelId: 'px',
  apiKey: 'sk',
  endpoint: 'http://127.0.0.1:9/v1/events',
  outbox: kind === 'sqlite' ? new SqliteOutbox({ path: file }) : new MemoryOutbox({ capacity: count }),
  retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 },
  logger: { warn() {}, error() {} },
});
const before = mb();
const heapBefore = heap();
const context = {
  consent: 'granted',
  oppref: 'gAAAAB-backlog',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  sourceUrl: 'https://shop.example/checkout',
};
for (let i = 0; i < count; i++) {
  await conversions.track(
    {
      type: 'order_created',
      id: `order_${i}`,
      data: { amount: 12999, currency: 'USD', contents: [{ id: 'sku_1', quantity: 1 }] },
      user: { email: `b${i}@example.com`, phone: `+1 415 555 ${String(i % 10_000).padStart(4, '0')}` },
    },
    context,
  );
}
await new Promise((resolve) => setTimeout(resolve, 200));
const after = mb();
const stats = conversions.stats();
console.log(
  JSON.stringify({
    outbox: kind,
    'events queued': stats.queued,
    'RSS before MB': Math.round(before),
    'RSS with backlog MB': Math.round(after),
    'per event bytes': Math.round(((after - before) * 2 ** 20) / stats.queued),
    'heap per event bytes': Math.round(((heap() - heapBefore) * 2 ** 20) / stats.queued),
    'file MB':
      kind === 'sqlite' ? Math.round((statSync(file).size + statSync(`${file}-wal`).size) / 2 ** 20) : 0,
  }),
);
process.exit(0);
