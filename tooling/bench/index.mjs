// pnpm bench [--smoke]: every benchmark in turn; each prints its table and writes results/<name>.json.
import { run as backlog } from './backlog.mjs';
import { run as delivery } from './delivery.mjs';
import { machine, smoke } from './lib.mjs';
import { run as outboxPostgres } from './outbox-postgres.mjs';
import { run as pipeline } from './pipeline.mjs';
import { run as requestPath } from './request-path.mjs';
import { run as track } from './track.mjs';

const started = performance.now();
console.log(`# chatgpt-ads benchmarks${smoke ? ' (smoke: a few seconds each)' : ''}\n\n${machine()}`);
// The pipeline first: the request-path table prints its µs per event beside the conversion routes.
const { coreMicrosPerEvent } = await pipeline();
await requestPath({ pipelineUs: coreMicrosPerEvent });
await track();
await delivery();
await backlog();
await outboxPostgres();
console.log(
  `\nAll benchmarks ran in ${((performance.now() - started) / 1000).toFixed(0)} s; results in tooling/bench/results/.`,
);
