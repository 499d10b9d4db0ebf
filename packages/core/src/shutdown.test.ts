// What a process that exits right after shutdown() leaves behind for the others sharing its outbox.
import { describe, expect, it } from 'vitest';
import { createConversions } from './client.js';
import type { Logger } from './config.js';
import { MemoryOutbox, type Outbox, type OutboxRecord } from './outbox.js';

const context = { consent: 'granted' as const, sourceUrl: 'https://shop.example/' };

function quiet() {
  const lines: string[] = [];
  const logger: Logger = { warn: (m) => lines.push(m), error: (m) => lines.push(m) };
  return { lines, logger };
}

describe('shutdown()', () => {
  it('puts back a batch whose claim was answered after shutdown began, and never sends it', async () => {
    let requests = 0;
    const fetch = async () => {
      requests++;
      return new Response('{}', { status: 200 });
    };
    const outbox = new MemoryOutbox();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const claim = outbox.claim.bind(outbox);
    let claimed = 0;
    outbox.claim = async (limits) => {
      await gate; // a slow database
      const records = await claim(limits);
      claimed += records.length;
      return records;
    };
    const { logger } = quiet();
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      endpoint: 'http://127.0.0.1:9/v1/events',
      fetch,
      logger,
      outbox,
      batch: { maxEvents: 1 },
    });
    expect((await conversions.track({ type: 'lead_created', id: 'late_claim' }, context)).status).toBe(
      'queued',
    );
    const stopped = conversions.shutdown({ timeoutMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 50)); // shutdown's deadline has passed
    open();
    await stopped;
    expect(claimed).toBe(1);
    expect(requests).toBe(0);
    expect(await outbox.size()).toBe(1); // back in the outbox, for the next process
  });

  it('returns only after the batch in flight is answered, and claims nothing after it', async () => {
    const order: string[] = [];
    let answer: () => void = () => undefined;
    const fetch = async () => {
      order.push('request sent');
      await new Promise<void>((resolve) => {
        answer = resolve;
      });
      order.push('endpoint answered');
      return new Response('{}', { status: 200 });
    };
    const outbox = new MemoryOutbox();
    const claims: number[] = [];
    const claim = outbox.claim.bind(outbox);
    outbox.claim = async (limits) => {
      const records = await claim(limits);
      claims.push(records.length);
      return records;
    };
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      endpoint: 'http://127.0.0.1:9/v1/events',
      fetch,
      outbox,
      batch: { maxEvents: 1, concurrency: 1, flushIntervalMs: 0 },
      logger: quiet().logger,
    });
    await conversions.track({ type: 'lead_created', id: 'a' }, context);
    await conversions.track({ type: 'lead_created', id: 'b' }, context);
    await expect.poll(() => order).toEqual(['request sent']);
    const stopped = conversions.shutdown({ timeoutMs: 1 }).then(() => order.push('shutdown returned'));
    // The deadline has passed; the request is still out.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual(['request sent']);
    answer();
    await stopped;
    expect(order).toEqual(['request sent', 'endpoint answered', 'shutdown returned']);
    // "b" was never claimed by the closed client: it stays for the next process, not half-sent.
    expect(claims.filter((n) => n > 0)).toEqual([1]);
    expect(await outbox.size()).toBe(1);
  });

  it('does not count a backlog that other processes delivered as still queued', async () => {
    // A shared outbox that held 5 events at start; another process holds their leases and sends them.
    let size = 5;
    const shared: Outbox = {
      append: async () => 'appended',
      claim: async () => [] as OutboxRecord[],
      ack: async () => undefined,
      release: async () => undefined,
      deadLetter: async () => undefined,
      size: async () => size,
      deadLetters: async () => [],
      replay: async () => 0,
      pending: async () => [],
    };
    const { logger, lines } = quiet();
    const conversions = createConversions({
      pixelId: 'px',
      apiKey: 'sk',
      endpoint: 'http://127.0.0.1:9/v1/events',
      fetch: async () => new Response('{}'),
      outbox: shared,
      logger,
    });
    await expect.poll(() => conversions.stats().queued).toBe(5);
    size = 0; // the other process delivered them
    const stats = await conversions.shutdown({ timeoutMs: 100 });
    expect(stats.queued).toBe(0);
    expect(stats.handledElsewhere).toBe(5);
    expect(lines.join('\n')).not.toContain('still queued');
  });
});
