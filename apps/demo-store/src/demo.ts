// `pnpm demo`: the sandbox plus the demo store, on free ports if the usual ones are taken.
// `pnpm demo --walk`: two scripted visitors go through the funnel over HTTP, the first with the pixel,
// the second with it blocked as by an ad blocker; the sandbox's records and the conversions only the
// server reported are printed, and everything stops.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { fromMinorUnits } from '@chatgpt-ads/core';
import { type Sandbox, type StoredEvent, startSandbox } from '@chatgpt-ads/sandbox';
import { createStore } from './store.js';

export interface RunningDemo {
  sandbox: Sandbox;
  storeUrl: string;
  /** Where the store listens: 127.0.0.1 unless HOST (or `host`) says otherwise. */
  storeAddress: AddressInfo;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startDemo(
  options: { storePort?: number; sandboxPort?: number; host?: string; log?: (line: string) => void } = {},
): Promise<RunningDemo> {
  const log = options.log ?? (() => {});
  // A demo is for this machine: other hosts on the network reach it only when asked for (HOST=0.0.0.0).
  const host = options.host ?? process.env.HOST ?? '127.0.0.1';
  let sandbox: Sandbox;
  try {
    sandbox = await startSandbox({ port: options.sandboxPort ?? 8787 });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    log(`port ${options.sandboxPort ?? 8787} is in use; the sandbox takes a free port instead`);
    sandbox = await startSandbox({ port: 0 });
  }
  const { app, ads } = createStore({ endpoint: sandbox.endpoint, pixelScriptUrl: sandbox.pixelScriptUrl });
  const server = await listen(app, options.storePort ?? 3000, host).catch(
    async (error: { code?: string }) => {
      if (error.code !== 'EADDRINUSE') throw error;
      log(`port ${options.storePort ?? 3000} is in use; the store takes a free port instead`);
      return listen(app, 0, host);
    },
  );
  const storeAddress = server.address() as AddressInfo;
  return {
    sandbox,
    storeUrl: `http://localhost:${storeAddress.port}`,
    storeAddress,
    flush: async () => {
      await ads.conversions.flush();
    },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await ads.conversions.shutdown();
      await sandbox.close();
    },
  };
}

function listen(app: ReturnType<typeof createStore>['app'], port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}

/** A browser-less visitor: keeps cookies, follows redirects, and plays the pixel's part. */
class Visitor {
  readonly cookies = new Map<string, string>();
  constructor(
    private readonly base: string,
    private readonly sandbox: Sandbox,
  ) {}

  async go(path: string, form?: Record<string, string>): Promise<string> {
    let url = new URL(path, this.base).href;
    let init: RequestInit = form
      ? {
          method: 'POST',
          body: new URLSearchParams(form),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }
      : {};
    for (let hop = 0; hop < 5; hop++) {
      const response = await fetch(url, {
        ...init,
        redirect: 'manual',
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: this.cookieHeader(),
          'user-agent': 'chatgpt-ads demo walker',
        },
      });
      this.keep(response.headers.getSetCookie());
      const html = await response.text();
      const location = response.headers.get('location');
      if (!location) {
        await this.playPixel(html, url);
        return html;
      }
      url = new URL(location, url).href;
      init = {};
    }
    throw new Error('too many redirects');
  }

  private cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(setCookies: string[]): void {
    for (const cookie of setCookies) {
      const [pair = '', ...attributes] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a),
      );
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
  }

  // What the pixel does on the page: a measure call becomes a pixel_sdk event with the same id.
  private async playPixel(html: string, pageUrl: string): Promise<void> {
    const start = html.indexOf('oaiq("measure",');
    if (start === -1) return;
    const end = html.indexOf(');</script>', start);
    const [event, data, options] = JSON.parse(`[${html.slice(start + 'oaiq("measure",'.length, end)}]`);
    const pid = /"pixelId":"([^"]+)"/.exec(html)?.[1] ?? '';
    const page = new URL(pageUrl);
    await fetch(`${this.sandbox.url}/v1/sdk/events?pid=${encodeURIComponent(pid)}`, {
      method: 'POST',
      body: JSON.stringify({
        event,
        data,
        event_id: options.event_id,
        oppref: this.cookies.get('__oppref'),
        source_url: `${page.origin}${page.pathname}`,
        timestamp_ms: Date.now(),
      }),
    });
  }
}

/**
 * Walks the funnel: land from an ad, accept consent, send a lead, book, buy. With `blockPixel` the
 * visitor first turns on the store's "block the pixel" switch, as an ad blocker would. Returns the
 * sandbox's events.
 *
 * @example
 * const events = await walk(demo, 'demo-click-2', { blockPixel: true });
 */
export async function walk(
  demo: RunningDemo,
  oppref = 'demo-click-1',
  options: { blockPixel?: boolean } = {},
): Promise<StoredEvent[]> {
  const visitor = new Visitor(demo.storeUrl, demo.sandbox);
  await visitor.go(`/?oppref=${oppref}`);
  if (options.blockPixel) await visitor.go('/pixel', { pixel: 'blocked', back: `/?oppref=${oppref}` });
  await visitor.go('/consent', { choice: 'accept', back: `/?oppref=${oppref}` });
  await visitor.go('/lead', { name: 'Alex Rivera', email: 'alex@example.com', phone: '+1 (415) 555-2671' });
  await visitor.go('/book', { email: 'alex@example.com', day: 'Saturday' });
  await visitor.go('/cart/add', { sku: 'grinder' });
  await visitor.go('/cart/add', { sku: 'beans-ethiopia' });
  await visitor.go('/checkout', {
    email: 'alex@example.com',
    firstName: 'Alex',
    lastName: 'Rivera',
    country: 'US',
  });
  await demo.flush();
  return demo.sandbox.events();
}

/**
 * Conversions only the server reported: the server's copy came first and no pixel copy arrived.
 * These are the ones the pixel alone would have lost.
 *
 * @example
 * for (const e of recoveredByServer(demo.sandbox.events())) console.log(e.event.type, e.event.id);
 */
export function recoveredByServer(events: readonly StoredEvent[]): StoredEvent[] {
  const seenByPixel = new Set(events.filter((e) => e.channel === 'pixel_sdk').map((e) => e.key));
  return events.filter(
    (e) => e.channel === 'server_to_server' && e.duplicateOf === undefined && !seenByPixel.has(e.key),
  );
}

/** The sandbox's records as a small table. */
export function eventTable(events: readonly StoredEvent[]): string {
  const bySeq = new Map(events.map((e) => [e.seq, e]));
  const recovered = new Set(recoveredByServer(events));
  const dedup = (e: StoredEvent): string => {
    if (e.duplicateOf === undefined) return recovered.has(e) ? 'first, recovered by the server' : 'first';
    const first = bySeq.get(e.duplicateOf);
    return first
      ? `duplicate of the ${first.channel === 'pixel_sdk' ? 'pixel' : 'server'} copy`
      : 'duplicate';
  };
  return table([
    ['type', 'id', 'channel', 'dedup', 'oppref'],
    ...events.map((e) => [
      e.event.type,
      e.event.id,
      e.channel,
      dedup(e),
      typeof e.event.oppref === 'string' ? e.event.oppref : '-',
    ]),
  ]);
}

function table(rows: string[][], indent = ''): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows
    .map((r) =>
      r
        .map((cell, i) => String(cell).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => indent + line)
    .join('\n');
}

function orderValue(event: StoredEvent): string {
  const data = (event.event.data ?? {}) as { amount?: unknown; currency?: unknown };
  return typeof data.amount === 'number' && typeof data.currency === 'string'
    ? `${fromMinorUnits(data.amount, data.currency)} ${data.currency}`
    : '-';
}

/**
 * `pnpm demo [--walk] [--port N] [--sandbox-port N]`. Without `--walk` the servers keep running until
 * Ctrl-C; with it they stop when the walk ends, so it prints no URL (none would answer).
 *
 * @example
 * await main(['--walk', '--port', '0', '--sandbox-port', '0'], (line) => lines.push(line));
 */
export async function main(
  args: string[] = process.argv.slice(2),
  print: (line: string) => void = (line) => console.log(line),
): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { walk: { type: 'boolean' }, port: { type: 'string' }, 'sandbox-port': { type: 'string' } },
  });
  const demo = await startDemo({
    ...(values.port ? { storePort: Number(values.port) } : {}),
    ...(values['sandbox-port'] ? { sandboxPort: Number(values['sandbox-port']) } : {}),
    log: print,
  });
  if (values.walk) {
    try {
      print('\nChatGPT Ads demo: two visitors arrive from a ChatGPT ad and buy.\n');
      print('Visitor 1, pixel allowed: every conversion is reported by the pixel and by the server.\n');
      const first = (await walk(demo, 'demo-click-1')).filter((e) => e.event.oppref === 'demo-click-1');
      print(eventTable(first));
      print('\nVisitor 2, pixel blocked (the store\'s "block the pixel" switch, as an ad blocker would):\n');
      const all = await walk(demo, 'demo-click-2', { blockPixel: true });
      print(eventTable(all.filter((e) => e.event.oppref === 'demo-click-2')));
      const recovered = recoveredByServer(all);
      print(
        `\nRecovered by the server (the pixel never reported ${recovered.length === 1 ? 'it' : 'them'}):`,
      );
      print(
        table(
          [
            ['type', 'id', 'value', 'oppref'],
            ...recovered.map((e) => [e.event.type, e.event.id, orderValue(e), String(e.event.oppref ?? '-')]),
          ],
          '  ',
        ),
      );
      print(
        '\nWith the pixel, each conversion arrives twice with one id: the first copy counts, the other is ' +
          'deduplicated.\nWithout it, only the server reports them, and they still count.',
      );
    } finally {
      await demo.close();
    }
    print('\nThe walk is over and its store and sandbox have stopped. Run `pnpm demo` to click through the');
    print('store yourself (it has the same "block the pixel" switch) and watch the sandbox\'s inspector.');
    return;
  }
  print(
    `\nChatGPT Ads demo\n  store     ${demo.storeUrl}\n  sandbox   ${demo.sandbox.url}   (inspector: everything the store sends)\n`,
  );
  print(`Open ${demo.storeUrl}/?oppref=demo-click-1 to arrive as if from a ChatGPT ad. Ctrl-C stops.`);
  const stop = async () => {
    await demo.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
