// One worker thread of a large `import`: it builds, hashes and delivers the rows the command routes
// to it, and reports every outcome back; the command keeps the journal, the counts and the lines.
import { parentPort, workerData } from 'node:worker_threads';
import { createSender, type Problem, type Row, type RowDefaults } from './import-sender.js';
import type { CliConfig } from './shared.js';

/** What the command gives each worker when it starts. */
export interface WorkerSetup {
  connection: CliConfig & { pixelId: string; apiKey: string };
  endpoint: string;
  journal: string[];
}

/** A message from the command: rows to send, or the end of the file with the time left to deliver. */
export type ToWorker =
  | { type: 'rows'; rows: Row[]; defaults: RowDefaults }
  | { type: 'finish'; timeoutMs: number };

/** A message to the command. `done` acknowledges one `rows` message, with its counts and problems. */
export type FromWorker =
  | { type: 'delivered'; ids: string[] }
  | { type: 'failed'; problem: Problem }
  | {
      type: 'done';
      alreadyDelivered: number;
      noConsent: number;
      sameId: number;
      problems: Problem[];
      stopped: boolean;
    }
  | { type: 'halted'; message: string }
  | { type: 'finished'; notSent: number; unreachable?: { endpoint: string; cause: string; code?: string } };

const QUEUE_BOUND = 5_000;
const port = parentPort;
if (!port) throw new Error('import-worker runs as a worker thread of `chatgpt-ads import`');
const setup = workerData as WorkerSetup;
const post = (message: FromWorker) => port.postMessage(message);

// Per `rows` message: what its rows came to, sent back with the acknowledgement.
let counts = { alreadyDelivered: 0, noConsent: 0, sameId: 0, problems: [] as Problem[] };
const sender = createSender(
  {
    connection: setup.connection,
    endpoint: setup.endpoint,
    journal: new Set(setup.journal),
    dryRun: false,
    fetch: globalThis.fetch,
  },
  {
    delivered: (ids) => post({ type: 'delivered', ids }),
    // Failures come from deliveries, after their rows were acknowledged: each is sent on its own.
    problem: (problem) =>
      problem.kind === 'failed' ? post({ type: 'failed', problem }) : counts.problems.push(problem),
    alreadyDelivered: () => counts.alreadyDelivered++,
    noConsent: () => counts.noConsent++,
    sameId: () => counts.sameId++,
    halted: (message) => post({ type: 'halted', message }),
  },
);

port.on('message', async (message: ToWorker) => {
  if (message.type === 'rows') {
    await Promise.all(message.rows.map((row) => sender.handle(row, message.defaults)));
    // Keep memory flat: a full queue is delivered before the rows are acknowledged. Five batches'
    // worth keeps every request full while each worker stays small (the command's peak is the sum).
    if (sender.queued() >= QUEUE_BOUND) await sender.catchUp();
    post({ type: 'done', ...counts, stopped: sender.stopped() });
    counts = { alreadyDelivered: 0, noConsent: 0, sameId: 0, problems: [] };
    return;
  }
  const { notSent, unreachable } = await sender.finish(message.timeoutMs);
  post({ type: 'finished', notSent, ...(unreachable ? { unreachable } : {}) });
  port.close();
});
