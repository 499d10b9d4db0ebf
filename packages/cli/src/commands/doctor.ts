import { postEvents } from '@chatgpt-ads/core';
import { type CliIO, CONNECTION_FLAGS, CONNECTION_HELP, loadConfig, parseFlags } from '../shared.js';

export const DOCTOR_HELP = `Usage: chatgpt-ads doctor [options]

Checks the configuration and sends one validate_only request (nothing is stored), then says what
is wrong in plain words: a missing variable, a wrong key, an unknown pixel, or no network.

${CONNECTION_HELP}`;

const DEFAULT_ENDPOINT = 'https://bzr.openai.com/v1/events';

export async function doctor(argv: string[], io: CliIO): Promise<number> {
  const { values: flags } = parseFlags(argv, CONNECTION_FLAGS);
  if (flags.help) {
    io.stdout(`${DOCTOR_HELP}\n`);
    return 0;
  }
  const config = await loadConfig(flags, io);
  const endpoint = config.endpoint ?? DEFAULT_ENDPOINT;
  let ok = true;
  const line = (good: boolean, text: string) => {
    if (!good) ok = false;
    io.stdout(`${good ? '✔' : '✘'} ${text}\n`);
  };

  line(
    Boolean(config.pixelId),
    config.pixelId
      ? `pixel id: ${config.pixelId}`
      : 'pixel id: missing (set OPENAI_ADS_PIXEL_ID or --pixel-id)',
  );
  // The key itself is never printed, not even in part.
  line(
    Boolean(config.apiKey),
    config.apiKey
      ? `API key: set (${config.apiKey.length} characters)`
      : 'API key: missing (set OPENAI_CONVERSIONS_API_KEY)',
  );
  let validUrl = true;
  try {
    new URL(endpoint);
  } catch {
    validUrl = false;
  }
  line(validUrl, validUrl ? `endpoint: ${endpoint}` : `endpoint: "${endpoint}" is not a URL`);
  if (!config.pixelId || !config.apiKey || !validUrl) {
    io.stdout('\nFix the lines marked ✘, then run chatgpt-ads doctor again.\n');
    return 1;
  }

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
          ? `cannot reach ${new URL(endpoint).host}: ${outcome.message} (no network, a proxy or a firewall?)`
          : `the endpoint is unavailable (HTTP ${outcome.status}): ${outcome.message}; try again later`,
      );
      break;
    default:
      line(false, `the test event was refused (HTTP ${outcome.status}): ${outcome.message}`);
  }
  io.stdout(ok ? '\nAll good.\n' : '\nSee the line marked ✘.\n');
  return ok ? 0 : 1;
}
