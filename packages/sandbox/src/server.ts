import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Fault, FaultPlan } from './faults.js';
import { json } from './http.js';
import { dispatch } from './routes.js';
import type { SandboxState } from './state.js';
import { SandboxStore, type StoredEvent, type StoredRequest } from './store.js';

/**
 * A pixel the sandbox accepts, with its Conversions API key.
 *
 * @example
 * const pixel: SandboxPixel = { pixelId: 'px_test', apiKey: 'sk_test' };
 */
export interface SandboxPixel {
  pixelId: string;
  apiKey: string;
}

/**
 * Options of {@link startSandbox}.
 *
 * @example
 * await startSandbox({ port: 0, pixels: [{ pixelId: 'px_test', apiKey: 'sk_test' }] });
 */
export interface SandboxOptions {
  /** Port to listen on; 0 picks a free one. Default 8787. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Accepted pixels and keys: an unknown pixel gets 404, a wrong key 401. Default: any pixel, any non-empty key. */
  pixels?: readonly SandboxPixel[];
  /** Faults to inject from the start (see {@link Fault}). */
  faults?: readonly Fault[];
  /** Request bodies above this size get 413. Default 4 MiB. */
  maxBodyBytes?: number;
  /** Most events and requests kept for listing (dedup keys are always kept). Default 200,000. */
  maxStored?: number;
  /** Clock for timestamps and the 7-day window. Default `Date.now`. */
  now?: () => number;
  /**
   * Host names, besides loopback ones, that the inspector, the `/_sandbox/*` routes and the monitoring
   * endpoint answer to: e.g. `['sandbox']` when other containers reach it as `http://sandbox:8787`.
   * Default none: only `localhost`, `127.0.0.0/8` and `[::1]`, so a web page that rebinds its own
   * domain to this machine cannot read what the sandbox recorded.
   */
  allowedHosts?: readonly string[];
}

/**
 * A running sandbox.
 *
 * @example
 * const sandbox = await startSandbox({ port: 0 });
 * const conversions = createConversions({ pixelId: 'px_test', apiKey: 'sk_test', endpoint: sandbox.endpoint });
 * // … exercise your app …
 * expect(sandbox.events().map((e) => e.event.type)).toContain('order_created');
 * await sandbox.close();
 */
export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:8787`; the inspector page is served here. */
  url: string;
  /** The Conversions API endpoint to configure as `endpoint`. */
  endpoint: string;
  /** The stand-in pixel script to give to `renderPixel({ scriptUrl })`. */
  pixelScriptUrl: string;
  events(): StoredEvent[];
  requests(): StoredRequest[];
  reset(): void;
  /** Replaces the injected faults. */
  setFaults(faults: readonly Fault[]): void;
  close(): Promise<void>;
}

const DEFAULT_PORT = 8787;

/**
 * Starts the Conversions API emulator: `POST /v1/events` with OpenAI's validation, all-or-nothing
 * batches and first-wins dedup across server and pixel, the stand-in pixel, the monitoring
 * endpoint, a JSON API for tests, fault injection and the inspector page.
 *
 * @example
 * const sandbox = await startSandbox({ port: 0 });
 * console.log(`inspector: ${sandbox.url}`);
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { state, cancelDelays } = createState(options);
  // Tracked so close() ends hung and streaming responses instead of waiting for their clients.
  const openResponses = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    openResponses.add(res);
    res.on('close', () => openResponses.delete(res));
    dispatch(state, req, res).catch((error: unknown) => {
      if (!res.headersSent)
        json(res, 500, { error: { message: `sandbox error: ${String(error)}`, type: 'server_error' } });
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    endpoint: `${url}/v1/events`,
    pixelScriptUrl: `${url}/sdk/oaiq.min.js`,
    events: () => state.store.events(),
    requests: () => state.store.requests(),
    reset: () => state.store.reset(),
    setFaults: (list) => state.faults.set(list),
    close: () =>
      new Promise<void>((resolve) => {
        cancelDelays();
        for (const res of openResponses) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function createState(options: SandboxOptions): { state: SandboxState; cancelDelays(): void } {
  const now = options.now ?? Date.now;
  const faults = new FaultPlan(now);
  faults.set(options.faults ?? []);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const state: SandboxState = {
    store: new SandboxStore(options.maxStored ?? 200_000),
    faults,
    now,
    maxBodyBytes: options.maxBodyBytes ?? 4 * 1024 * 1024,
    keysByPixel: options.pixels ? new Map(options.pixels.map((p) => [p.pixelId, p.apiKey])) : undefined,
    allowedHosts: new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase())),
    delay: (ms) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, ms);
        timers.add(timer);
      }),
  };
  return {
    state,
    cancelDelays: () => {
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
