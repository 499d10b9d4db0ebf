// What every adapter does with its options: keep its own keys, check everything, read the rest of
// the client's options from the environment, and make the client (or take the one given).
import { type Conversions, createConversions } from './client.js';
import type { ConversionsOptions } from './config.js';
import {
  checkConversionsOptions,
  checkKeys,
  type OptionCheck,
  splitOptions,
  withEnvironment,
} from './options.js';

/**
 * An adapter's options: the client's (with `pixelId` and `apiKey` optional, read from the
 * environment when absent) or `conversions`, a client made elsewhere; plus the adapter's own.
 *
 * @example
 * type ExpressOptions = AdapterOptions<{ nonce?: (req: Request) => string | undefined }>;
 */
export type AdapterOptions<Own extends object = object> = (
  | (Omit<ConversionsOptions, 'pixelId' | 'apiKey'> & { pixelId?: string; apiKey?: string })
  | { conversions: Conversions }
) &
  Own;

/**
 * Makes an adapter's client. Every option is checked once: the adapter's own against `rules`, the
 * client's by core (a typo anywhere throws {@link ConversionsConfigError}, naming the adapter's
 * options among the known ones). `pixelId`, `apiKey`, `endpoint` and `debug` not given in code come
 * from `env` ({@link ENVIRONMENT}). With `conversions` given, the client is used as it is and any
 * client option beside it is refused (it would be ignored). `given` says which happened: a client
 * the adapter made is the adapter's to shut down.
 *
 * @example
 * // env: the runtime's environment variables (Node's, a worker's bindings)
 * const { conversions } = adapterClient(options, { nonce: optionChecks.function }, env);
 */
export function adapterClient(
  options: object | undefined,
  rules: Readonly<Record<string, OptionCheck | null>>,
  env: Readonly<Record<string, string | undefined>> = {},
): { conversions: Conversions; given: boolean } {
  if (options && 'conversions' in options) {
    checkKeys(options, '', { ...rules, conversions: null });
    return { conversions: (options as { conversions: Conversions }).conversions, given: true };
  }
  const ownKeys = Object.keys(rules);
  const merged = withEnvironment((options ?? {}) as ConversionsOptions, env);
  checkConversionsOptions(merged, ownKeys);
  const { own, client } = splitOptions(merged, ownKeys);
  checkKeys(own, '', rules);
  return { conversions: createConversions(client as ConversionsOptions), given: false };
}
