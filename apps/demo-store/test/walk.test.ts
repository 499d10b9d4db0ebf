import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventTable, type RunningDemo, startDemo, walk } from '../src/demo.js';

let demo: RunningDemo;
beforeAll(async () => {
  demo = await startDemo({ storePort: 0, sandboxPort: 0 });
});
afterAll(() => demo.close());

it('the walk sends each conversion once from the server and once from the pixel, with one id and the oppref', async () => {
  const events = await walk(demo, 'walk-click-7');
  const byId = new Map<string, typeof events>();
  for (const e of events) byId.set(e.event.id, [...(byId.get(e.event.id) ?? []), e]);
  expect([...byId.values()].map((copies) => copies[0]!.event.type).sort()).toEqual([
    'appointment_scheduled',
    'lead_created',
    'order_created',
  ]);
  for (const copies of byId.values()) {
    expect(copies.map((c) => c.channel).sort()).toEqual(['pixel_sdk', 'server_to_server']);
    expect(copies.filter((c) => c.duplicateOf === undefined)).toHaveLength(1);
    expect(copies.every((c) => c.event.oppref === 'walk-click-7')).toBe(true);
  }
  const order = events.find(
    (e) => e.event.type === 'order_created' && e.channel === 'server_to_server',
  )!.event;
  expect(order).toMatchObject({
    data: {
      type: 'contents',
      amount: 8900 + 1899,
      currency: 'USD',
      contents: [
        { id: 'beans-ethiopia', quantity: 1, amount: 1899, content_type: 'product' },
        { id: 'grinder', quantity: 1, amount: 8900, content_type: 'product' },
      ],
    },
    source_url: `${demo.storeUrl}/checkout`,
  });
  const table = eventTable(events);
  expect(table.split('\n')[0]).toMatch(/^type\s+id\s+channel\s+dedup\s+oppref$/);
  expect(table.split('\n')).toHaveLength(7);
});
