import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultPlan } from './faults.js';
import type { SandboxStore } from './store.js';

/**
 * What every route of one sandbox shares. Handlers take it as an argument instead of closing over
 * `startSandbox`, so each channel can live in its own module and read the same clock.
 */
export interface SandboxState {
  readonly store: SandboxStore;
  readonly faults: FaultPlan;
  /** The sandbox's clock (the `now` option): every timestamp it writes or checks comes from here. */
  readonly now: () => number;
  readonly maxBodyBytes: number;
  /** Accepted keys by pixel id; `undefined` when any pixel and any non-empty key are accepted. */
  readonly keysByPixel: ReadonlyMap<string, string> | undefined;
  /** Lower-cased host names, besides loopback ones, that the local-only routes answer to. */
  readonly allowedHosts: ReadonlySet<string>;
  /** Waits `ms`; `close()` cancels the wait, so an injected latency never holds the process open. */
  delay(ms: number): Promise<void>;
}

/** One request as a route's handler receives it. */
export interface RouteCall {
  readonly state: SandboxState;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
}

/** Answers one route; a rejection becomes a 500 in the server. */
export type Handler = (call: RouteCall) => void | Promise<void>;
