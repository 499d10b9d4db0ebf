// Core pipeline throughput: validate + normalize + hash (email, phone) + serialize one event,
// beside the floor (node:crypto SHA-256 of the same two normalized strings + JSON.stringify of the
// final event). Prints medians and the ratio; writes results/pipeline.json.
// Usage: pnpm bench [--smoke]
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { buildEvent } from '@chatgpt-ads/core';
import { Bench } from 'tinybench';

const smoke = process.argv.includes('--smoke');
const nodeHash = (value) => createHash('sha256').update(value).digest('hex');
const context = {
  consent: 'granted',
  oppref: 'gAAAAB-click-1',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  sourceUrl: 'https://shop.example/checkout?step=3',
};
let n = 0;
const input = () => ({
  type: 'order_created',
  id: `order_${++n}`,
  data: { amount: 12999, currency: 'USD', contents: [{ id: 'sku_1', quantity: 1, amount: 12999 }] },
  user: { email: ` Buyer${n}@Example.com `, phone: '+1 (415) 555-2671' },
});
const sample = await buildEvent(input(), context);
if (!sample.ok) throw new Error('benchmark input is refused');
const finalEvent = sample.event;

const bench = new Bench({ time: smoke ? 200 : 3_000, warmupTime: smoke ? 50 : 500 });
bench
  .add('floor: node:crypto x2 + JSON.stringify', () => {
    const email = createHash('sha256').update(`buyer${++n}@example.com`).digest('hex');
    const phone = createHash('sha256').update('14155552671').digest('hex');
    return JSON.stringify({
      ...finalEvent,
      user: { ...finalEvent.user, emails_sha256: [email], phone_numbers_sha256: [phone] },
    });
  })
  .add('@chatgpt-ads/core buildEvent + JSON.stringify (Web Crypto)', async () => {
    const result = await buildEvent(input(), context);
    return JSON.stringify(result.ok ? result.event : null);
  })
  .add('@chatgpt-ads/core buildEvent + JSON.stringify (hash: node:crypto)', async () => {
    const result = await buildEvent(input(), context, { hash: nodeHash });
    return JSON.stringify(result.ok ? result.event : null);
  });
await bench.run();

const rows = bench.tasks.map((task) => ({
  task: task.name,
  'events/s': Math.round(task.result.throughput.mean),
  'median µs': Number((task.result.latency.p50 * 1000).toFixed(2)),
  'p99 µs': Number((task.result.latency.p99 * 1000).toFixed(2)),
  samples: task.result.latency.samplesCount,
}));
console.table(rows);
const ratio = rows[2]['events/s'] / rows[0]['events/s'];
console.log(`Web Crypto / floor: ${(rows[1]['events/s'] / rows[0]['events/s']).toFixed(2)}`);
console.log(`node:crypto hash / floor: ${ratio.toFixed(2)} (target ≥ 0.50: within 2× of the floor)`);
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(
  new URL('./results/pipeline.json', import.meta.url),
  JSON.stringify(
    { date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, smoke, rows, ratio },
    null,
    2,
  ),
);
