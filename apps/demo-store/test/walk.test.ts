import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventTable, main, type RunningDemo, recoveredByServer, startDemo, walk } from '../src/demo.js';

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

it('a visitor who blocks the pixel still converts: the server alone reports it, and it is recovered', async () => {
  demo.sandbox.reset();
  const events = await walk(demo, 'walk-blocked-3', { blockPixel: true });
  expect(events.map((e) => e.channel)).toEqual(['server_to_server', 'server_to_server', 'server_to_server']);
  expect(recoveredByServer(events).map((e) => e.event.type)).toEqual([
    'lead_created',
    'appointment_scheduled',
    'order_created',
  ]);
  expect(events.every((e) => e.event.oppref === 'walk-blocked-3')).toBe(true);
});

it('pnpm demo --walk: two visitors, the second with the pixel blocked; prints the recovered conversions and no URL of a stopped server', async () => {
  const lines: string[] = [];
  await main(['--walk', '--port', '0', '--sandbox-port', '0'], (line) => lines.push(line));
  const output = lines.join('\n');
  expect(output).toContain('Visitor 1, pixel allowed');
  expect(output).toContain('Visitor 2, pixel blocked');
  const recovered = output.slice(output.indexOf('Recovered by the server'));
  expect(recovered).toMatch(/^ {2}order_created +order_\w+ +107\.99 USD +demo-click-2$/m);
  expect(recovered).toMatch(/^ {2}lead_created +lead_\w+ +- +demo-click-2$/m);
  expect(output).toMatch(
    /^order_created +order_\w+ +server_to_server +first, recovered by the server +demo-click-2$/m,
  );
  expect(recovered).not.toContain('demo-click-1');
  // The walk stops its servers before it returns: any address it printed would refuse connections.
  expect(output).not.toMatch(/https?:\/\//);
  expect(output).toContain('have stopped');
});
