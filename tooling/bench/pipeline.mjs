// 3. Core pipeline throughput on one core: validate + normalize + hash email and phone + serialize,
// beside (a) the floor: node:crypto SHA-256 of the same two normalized strings + JSON.stringify of
// the final event, and (b) Meta's facebook-nodejs-business-sdk building and normalizing an
// equivalent server event with the same identifiers. Every iteration uses a new email and phone.
import { createHash } from 'node:crypto';
import { buildEvent } from '@chatgpt-ads/core';
import bizSdk from 'facebook-nodejs-business-sdk';
import { Bench } from 'tinybench';
import { heading, save, smoke } from './lib.mjs';

const { CustomData, ServerEvent, UserData, Content } = bizSdk;
const nodeHash = (value) => createHash('sha256').update(value).digest('hex');
const context = {
  consent: 'granted',
  oppref: 'gAAAAB-click-1',
  ip: '203.0.113.7',
  userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
  sourceUrl: 'https://shop.example/checkout?step=3',
};

export async function run() {
  heading('Core pipeline throughput (one core)');
  let n = 0;
  const identity = () => {
    n++;
    return { email: ` Buyer${n}@Example.com `, phone: `+1 (415) 555-${String(1000 + (n % 9000))}` };
  };
  const input = (user) => ({
    type: 'order_created',
    id: `order_${n}`,
    data: { amount: 12999, currency: 'USD', contents: [{ id: 'sku_1', quantity: 1, amount: 12999 }] },
    user,
  });
  const sample = await buildEvent(input(identity()), context, { hash: nodeHash });
  if (!sample.ok) throw new Error('benchmark input is refused');
  const finalEvent = sample.event;

  const bench = new Bench({ time: smoke ? 200 : 3000, warmupTime: smoke ? 50 : 500 });
  bench
    .add('floor: node:crypto ×2 + JSON.stringify', () => {
      const { email, phone } = identity();
      const user = {
        ...finalEvent.user,
        emails_sha256: [nodeHash(email.trim().toLowerCase())],
        phone_numbers_sha256: [nodeHash(phone.replace(/\D/g, ''))],
      };
      return JSON.stringify({ ...finalEvent, id: `order_${n}`, user });
    })
    .add('@chatgpt-ads/core, hash: node:crypto (adapters)', async () => {
      const result = await buildEvent(input(identity()), context, { hash: nodeHash });
      return JSON.stringify(result.ok ? result.event : null);
    })
    .add('@chatgpt-ads/core, Web Crypto (default)', async () => {
      const result = await buildEvent(input(identity()), context);
      return JSON.stringify(result.ok ? result.event : null);
    })
    .add("Meta's facebook-nodejs-business-sdk", () => {
      const { email, phone } = identity();
      const user = new UserData()
        .setEmail(email)
        .setPhone(phone)
        .setClientIpAddress(context.ip)
        .setClientUserAgent(context.userAgent);
      const data = new CustomData()
        .setValue(129.99)
        .setCurrency('usd')
        .setContents([new Content().setId('sku_1').setQuantity(1).setItemPrice(129.99)]);
      const event = new ServerEvent()
        .setEventName('Purchase')
        .setEventId(`order_${n}`)
        .setEventTime(Math.floor(Date.now() / 1000))
        .setActionSource('website')
        .setEventSourceUrl(context.sourceUrl)
        .setUserData(user)
        .setCustomData(data);
      return JSON.stringify({ data: [event.normalize()] });
    });
  await bench.run();
  const rate = (task) => task.result.throughput.mean;
  const [floor, core, coreWeb, meta] = bench.tasks;
  const rows = bench.tasks.map((task) => ({
    pipeline: task.name,
    'events/s': Math.round(rate(task)),
    'median µs': Number((task.result.latency.p50 * 1000).toFixed(2)),
    'p99 µs': Number((task.result.latency.p99 * 1000).toFixed(2)),
  }));
  console.table(rows);
  const ratios = {
    'core (node:crypto) / floor (target ≥ 0.5)': Number((rate(core) / rate(floor)).toFixed(2)),
    'core (node:crypto) / Meta SDK (target ≥ 2)': Number((rate(core) / rate(meta)).toFixed(2)),
    'core (Web Crypto) / Meta SDK': Number((rate(coreWeb) / rate(meta)).toFixed(2)),
  };
  console.table(ratios);
  save('pipeline', { rows, ratios });
  return { rows, ratios };
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
