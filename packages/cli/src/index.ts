export { type Hop, traceRedirects, withOppref } from './commands/check-url.js';
export {
  type ColumnPlan,
  columnMapping,
  detectDelimiter,
  type ImportSummary,
  planColumns,
  rowToInput,
} from './commands/import.js';
export { runCli, VERSION } from './run.js';
export type { CliConfig, CliIO } from './shared.js';
