export { type Hop, traceRedirects } from './commands/check-url.js';
export { columnMapping, type ImportSummary, rowToInput } from './commands/import.js';
export { runCli } from './run.js';
export type { CliConfig, CliIO } from './shared.js';
