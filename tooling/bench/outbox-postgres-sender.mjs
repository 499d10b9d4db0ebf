// One of the senders of the shared-outbox benchmark:
//   node outbox-postgres-sender.mjs <endpoint> <prefix> <count> <memory|postgres> [database url]
// Tracks <count> events as fast as it can, then shuts down (delivering what is left) and prints its stats.
import { createHash } from 'node:crypto';
import { createConversions, MemoryOutbox } from '@chatgpt-ads/core';
import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';

const [endpoint, prefix, count, kind, url] = process.argv.slice(2);
const outbox =
  kind === 'postgres' ? new PostgresOutbox({ connectionString: url }) : new MemoryOutbox({ capacity: 1e6 });
const conversions = createConversions({
  pixelId: 'px_bench',
  apiKey: 'sk_bench',
  endpoint,
  outbox,
  hash: (value) => createHash('sha256').update(value).digest('hex'),
  logger: { warn() {}, error() {} },
});
const started = performance.now();
const context = {
  consent: 'granted',
  ip: '203.0.113.7',
  userAgent: 'bench',
  sourceUrl: 'https://shop.example/checkout',
};
for (let i = 0; i < Number(count); i++) {
  const result = await conversions.track(
    {
      type: 'order_created',
      id: `${prefix}_${i}`,
      data: { amount: 1299, currency: 'USD' },
      user: { email: `b${i}@example.com` },
    },
    context,
  );
  if (result.status !== 'queued') throw new Error(`${prefix}_${i}: ${JSON.stringify(result)}`);
}
const tracked = performance.now();
const stats = await conversions.shutdown({ timeoutMs: 600_000 });
if (kind === 'postgres') await outbox.close();
const seconds = { tracking: (tracked - started) / 1000, shutdown: (performance.now() - tracked) / 1000 };
process.stdout.write(`${JSON.stringify({ ...stats, seconds })}\n`);
