// 2. track() cost: the enqueue path a request handler waits for (validate, normalize, hash, queue),
// with and without identifiers to hash. The endpoint answers at once, in-process.
import { createConversions, sha256Hex } from '@chatgpt-ads/core';
import { Bench } from 'tinybench';
import { heading, save, smoke, table } from './lib.mjs';

const context = {
  consent: 'granted',
  oppref: 'gAAAAB-bench',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0',
  sourceUrl: 'https://shop.example/checkout',
};

export async function run() {
  heading('track() latency (enqueue path)');
  const ok = async () => new Response('{}', { status: 200 });
  const clients = {
    plain: createConversions({ pixelId: 'px', apiKey: 'sk', fetch: ok }),
    node: createConversions({ pixelId: 'px', apiKey: 'sk', fetch: ok }),
    web: createConversions({ pixelId: 'px', apiKey: 'sk', fetch: ok, hash: sha256Hex }),
  };
  let n = 0;
  const order = () => ({ type: 'order_created', id: `o${++n}`, data: { amount: 12999, currency: 'USD' } });
  const withIds = () => ({
    ...order(),
    user: { email: `buyer${n}@example.com`, phone: `+1 415 555 ${String(1000 + (n % 9000))}` },
  });
  const bench = new Bench({ time: smoke ? 200 : 3000, warmupTime: smoke ? 50 : 500 });
  bench
    .add('no identifiers', () => clients.plain.track(order(), context))
    .add('email + phone, default hash (node:crypto on Node)', () => clients.node.track(withIds(), context))
    .add('email + phone, hash: sha256Hex (Web Crypto, as on edge runtimes)', () =>
      clients.web.track(withIds(), context),
    );
  await bench.run();
  const rows = bench.tasks.map((task) => ({
    case: task.name,
    'p50 µs': Number((task.result.latency.p50 * 1000).toFixed(1)),
    'p99 µs': Number((task.result.latency.p99 * 1000).toFixed(1)),
    'mean µs': Number((task.result.latency.mean * 1000).toFixed(1)),
    samples: task.result.latency.samplesCount,
  }));
  for (const client of Object.values(clients)) await client.shutdown({ timeoutMs: 5000 });
  table(rows);
  save('track', { rows });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
