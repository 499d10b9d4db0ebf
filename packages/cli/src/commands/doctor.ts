import { DEFAULT_ENDPOINT, ENVIRONMENT } from '@chatgpt-ads/core';
import { postEvents } from '@chatgpt-ads/core/wire';
import {
  type CliIO,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  checkEndpoint,
  loadConfig,
  paint,
  parseFlags,
  printJson,
  UsageError,
} from '../shared.js';

export const DOCTOR_HELP = `Usage: chatgpt-ads doctor [options]

Checks the configuration and sends one validate_only request (nothing is stored), then says what
is wrong in plain words: a missing variable, a wrong key, an unknown pixel, or no network.
Exit code 0 when all is well, 1 when the endpoint refuses or cannot be reached, 2 when the
configuration itself is incomplete or invalid (nothing is sent then).

${CONNECTION_HELP}`;

export async function doctor(argv: string[], io: CliIO): Promise<number> {
  const { values: flags } = parseFlags(argv, CONNECTION_FLAGS);
  if (flags.help) {
    io.stdout(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const config = await loadConfig(flags, io);
  const endpoint = config.endpoint ?? DEFAULT_ENDPOINT;
  const json = Boolean(flags.json);
  const checks: Array<{ ok: boolean; message: string }> = [];
  const c = paint(io, 'stdout');
  const line = (good: boolean, text: string) => {
    checks.push({ ok: good, message: text });
    if (!json) io.stdout(`${good ? c.green('✔') : c.red('✘')} ${text}\n`);
  };
  const finish = (code: 0 | 1 | 2) => {
    if (json) printJson(io, { ok: code === 0, endpoint, checks });
    else
      io.stdout(
        code === 0
          ? '\nAll good.\n'
          : code === 2
            ? '\nFix the lines marked ✘, then run chatgpt-ads doctor again.\n'
            : '\nSee the line marked ✘.\n',
      );
    const failed = checks.find((check) => !check.ok);
    if (failed) io.stderr(`${paint(io, 'stderr').red('error:')} ${failed.message}\n`);
    return code;
  };

  line(
    Boolean(config.pixelId),
    config.pixelId
      ? `pixel id: ${config.pixelId}`
      : `pixel id: missing (set ${ENVIRONMENT.pixelId} or --pixel-id)`,
  );
  // The key itself is never printed, not even in part.
  line(
    Boolean(config.apiKey),
    config.apiKey
      ? `API key: set (${config.apiKey.length} characters)`
      : `API key: missing (set ${ENVIRONMENT.apiKey})`,
  );
  let endpointProblem: string | undefined;
  try {
    checkEndpoint(config.endpoint);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    endpointProblem = error.message;
  }
  line(!endpointProblem, endpointProblem ? `endpoint: ${endpointProblem}` : `endpoint: ${endpoint}`);
  if (!config.pixelId || !config.apiKey || endpointProblem) return finish(2);

  const event = {
    id: `doctor_${crypto.randomUUID()}`,
    type: 'page_viewed',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://example.com/chatgpt-ads-doctor',
    data: { type: 'contents' },
  };
  const outcome = await postEvents({
    fetch: io.fetch,
    endpoint,
    pixelId: config.pixelId,
    apiKey: config.apiKey,
    body: JSON.stringify({ validate_only: true, events: [event] }),
    timeoutMs: 10_000,
    now: Date.now,
  });
  switch (outcome.kind) {
    case 'delivered':
      line(true, `validate_only request accepted (HTTP ${outcome.status}): the pixel id and key work`);
      break;
    case 'halt':
      if (outcome.status === 401 || outcome.status === 403)
        line(false, `the endpoint rejected the API key (HTTP ${outcome.status}): ${outcome.message}`);
      else if (outcome.status === 404)
        line(
          false,
          `the endpoint does not know pixel ${config.pixelId}, or conversions are not enabled for the account (HTTP 404)`,
        );
      else line(false, `unexpected answer (HTTP ${outcome.status}): ${outcome.message}`);
      break;
    case 'retry':
      line(
        false,
        outcome.status === undefined
          ? `cannot reach ${endpoint}: ${outcome.message} (no network, a proxy or a firewall?)`
          : `the endpoint is unavailable (HTTP ${outcome.status}): ${outcome.message}; try again later`,
      );
      break;
    default:
      line(false, `the test event was refused (HTTP ${outcome.status}): ${outcome.message}`);
  }
  return finish(checks.every((check) => check.ok) ? 0 : 1);
}
