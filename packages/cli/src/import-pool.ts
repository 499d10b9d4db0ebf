// Worker threads for a large `import`: parsing stays in the command's thread, which routes each row
// by its event id to one worker (so a repeated id meets its first copy in one queue, and the journal
// entries of that id are that worker's) and keeps the journal file, the counts and the line numbers;
// building, hashing and delivery run in the workers.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type Problem, type Row, type RowDefaults, rowId } from './import-sender.js';
import type { FromWorker, ToWorker, WorkerSetup } from './import-worker.js';
import type { Unreachable } from './shared.js';

/** Rows per message: large enough that posting costs little per row, small enough to keep memory flat. */
const CHUNK = 512;
/** Messages a worker may have waiting, so reading never runs far ahead of sending. */
const IN_FLIGHT = 2;
const YOUNG_GENERATION_MB = 16;

/** Where the pool reports, as the in-thread sender does. */
export interface PoolReport {
  delivered(ids: string[]): void;
  problem(problem: Problem): void;
  alreadyDelivered(count: number): void;
  noConsent(count: number): void;
  sameId(count: number): void;
  halted(message: string): void;
}

/**
 * Whether the worker's file is where the pool looks for it: not when an app bundled the CLI into
 * one file, which then imports in one thread unless `--workers` asks otherwise.
 *
 * @example
 * const count = workerFileFound() ? 2 : 0;
 */
export function workerFileFound(): boolean {
  return existsSync(fileURLToPath(workerFile()));
}

// Run from the sources (the package's own tests) the worker is the built one beside them.
function workerFile(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/import-worker.js', import.meta.url)
    : new URL('./import-worker.js', import.meta.url);
}

// FNV-1a: a cheap, stable spread of ids over the workers.
function route(key: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % count;
}

interface Lane {
  worker: Worker;
  rows: Row[];
  defaults: RowDefaults | undefined;
  inFlight: number;
  freed: (() => void) | undefined;
  /** Said 'finished': its exit is expected. */
  over: boolean;
  finished: Promise<{ notSent: number; unreachable?: Unreachable }>;
}

/**
 * Starts `count` workers sending to one endpoint.
 *
 * @example
 * const pool = startPool(2, { connection, endpoint, journal: [...journal] }, report);
 * await pool.send(row, defaults);
 * const { notSent } = await pool.finish(60_000);
 */
export function startPool(
  count: number,
  setup: Omit<WorkerSetup, 'journal'> & { journal: ReadonlySet<string> },
  report: PoolReport,
) {
  // Each worker gets the delivered ids that route to it, and so holds a share of the journal.
  const journals: string[][] = Array.from({ length: count }, () => []);
  for (const id of setup.journal) journals[route(id, count)]!.push(id);
  let stopped = false;
  let finishing = false;
  let failure: Error | undefined;
  const lanes: Lane[] = journals.map((journal) => {
    // A smaller young generation than V8's default per worker, as each isolate grows its own: a
    // 1M-row import's peak memory with two workers was 384 MB with the default, ~320 MB with this
    // (192 MB in one thread), at the same speed.
    const worker = new Worker(workerFile(), {
      workerData: { ...setup, journal } satisfies WorkerSetup,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    });
    const lane = {
      worker,
      rows: [],
      defaults: undefined,
      inFlight: 0,
      freed: undefined,
      over: false,
    } as unknown as Lane;
    lane.finished = new Promise((resolve, reject) => {
      worker.on('message', (message: FromWorker) => {
        if (message.type === 'delivered') report.delivered(message.ids);
        else if (message.type === 'failed') report.problem(message.problem);
        else if (message.type === 'halted') {
          stopped = true;
          report.halted(message.message);
        } else if (message.type === 'done') {
          report.alreadyDelivered(message.alreadyDelivered);
          report.noConsent(message.noConsent);
          report.sameId(message.sameId);
          for (const problem of message.problems) report.problem(problem);
          if (message.stopped) stopped = true;
          lane.inFlight--;
          lane.freed?.();
        } else if (message.type === 'finished') {
          if (message.unreachable) stopped = true;
          lane.over = true;
          resolve(message);
        }
      });
      // A worker that dies loses the rows it held: the import fails, saying so, never quietly.
      worker.on('error', (error) => {
        failure ??= error;
        stopped = true;
        reject(error);
        lane.freed?.();
      });
      worker.on('exit', (code) => {
        if (finishing || lane.over) return;
        failure ??= new Error(`an import worker stopped (exit code ${code}) before its rows were sent`);
        stopped = true;
        reject(failure);
        lane.freed?.();
      });
    });
    lane.finished.catch(() => {});
    return lane;
  });

  function post(lane: Lane): void {
    if (lane.rows.length === 0) return;
    const message: ToWorker = { type: 'rows', rows: lane.rows, defaults: lane.defaults ?? {} };
    lane.worker.postMessage(message);
    lane.inFlight++;
    lane.rows = [];
  }

  async function room(lane: Lane): Promise<void> {
    while (lane.inFlight >= IN_FLIGHT && !failure)
      await new Promise<void>((resolve) => {
        lane.freed = resolve;
      });
    if (failure) throw failure;
  }

  async function drained(lane: Lane): Promise<void> {
    while (lane.inFlight > 0 && !failure)
      await new Promise<void>((resolve) => {
        lane.freed = resolve;
      });
    if (failure) throw failure;
  }

  return {
    /** Queues a row for its worker; waits when that worker is behind. */
    async send(row: Row, defaults: RowDefaults): Promise<void> {
      const id = rowId(row.values);
      const lane = lanes[route(id, count)]!;
      // One set of defaults per message: a change (a later JSONL line naming an export) starts another.
      if (lane.defaults !== defaults) {
        if (lane.rows.length > 0) {
          await room(lane);
          post(lane);
        }
        lane.defaults = defaults;
      }
      lane.rows.push({ ...row, id });
      if (lane.rows.length >= CHUNK) {
        await room(lane);
        post(lane);
      }
    },
    /** Whether sending stopped in some worker: the endpoint is unreachable or refused the configuration. */
    stopped: () => stopped,
    /** Stops every worker at once (after a failure; `finish` stops them itself). */
    close: async (): Promise<void> => {
      finishing = true;
      await Promise.all(lanes.map((lane) => lane.worker.terminate()));
    },
    /** Sends the rows still buffered, then lets every worker deliver within `timeoutMs`. */
    async finish(timeoutMs: number): Promise<{ notSent: number; unreachable?: Unreachable }> {
      for (const lane of lanes) {
        await room(lane);
        post(lane);
      }
      for (const lane of lanes) await drained(lane);
      const finish: ToWorker = { type: 'finish', timeoutMs: stopped ? 0 : timeoutMs };
      for (const lane of lanes) lane.worker.postMessage(finish);
      try {
        const results = await Promise.all(lanes.map((lane) => lane.finished));
        const unreachable = results.find((result) => result.unreachable)?.unreachable;
        return {
          notSent: results.reduce((sum, result) => sum + result.notSent, 0),
          ...(unreachable ? { unreachable } : {}),
        };
      } finally {
        finishing = true;
        // Idle keep-alive connections would hold a worker (and so the process) open a while longer.
        await Promise.all(lanes.map((lane) => lane.worker.terminate()));
      }
    },
  };
}
