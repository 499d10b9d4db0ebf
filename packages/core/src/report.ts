import type { ConversionHooks, ResolvedOptions } from './config.js';

/**
 * How the client's parts speak: log lines (one per reason per process unless `debug`), debug lines,
 * and the app's hooks (a throwing hook is logged and ignored).
 *
 * @example
 * const report = createReporter(resolveOptions({ pixelId, apiKey }));
 * report.explain('skipped:unknown:none', 'skipped: no consent signal …');
 */
export interface Reporter {
  /** Says `message` once per `reason` per process (every time under `debug`). */
  explain(reason: string, message: string): void;
  debug(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  hook<K extends keyof ConversionHooks>(name: K, info: Parameters<NonNullable<ConversionHooks[K]>>[0]): void;
}

/**
 * The reporter of one client.
 *
 * @example
 * const report = createReporter(settings);
 * report.hook('delivered', { ids: ['o1'], status: 200 });
 */
export function createReporter(settings: Pick<ResolvedOptions, 'logger' | 'hooks' | 'debug'>): Reporter {
  const { logger, hooks } = settings;
  const explained = new Set<string>();
  // A logger's own debug level always gets these; with `debug: true` a logger without one (the
  // console default) prints them as warnings, so CHATGPT_ADS_DEBUG=1 shows every decision.
  const debug = (message: string) => {
    if (logger.debug) logger.debug(message);
    else if (settings.debug) logger.warn(message);
  };
  return {
    explain(reason, message) {
      if (settings.debug) debug(message);
      else if (!explained.has(reason)) {
        explained.add(reason);
        logger.warn(message);
      }
    },
    debug,
    warn: (message) => logger.warn(message),
    error: (message) => logger.error(message),
    hook(name, info) {
      try {
        (hooks[name] as ((arg: typeof info) => void) | undefined)?.(info);
      } catch (error) {
        logger.warn(`hook ${name} threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  };
}
