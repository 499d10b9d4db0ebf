import { buildEvent, ConversionsConfigError, createConversions } from '@chatgpt-ads/core';
import { type FlatRecord, readTimestamp, recordToInput } from '../record.js';
import {
  type CliIO,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  clientOptions,
  endpointOf,
  loadConfig,
  paint,
  parseFlags,
  printJson,
  requireConnection,
  sha256,
  UsageError,
  unreachableMessage,
  watchEndpoint,
} from '../shared.js';

export const SEND_HELP = `Usage: chatgpt-ads send --type <event> [options]

Builds, validates and sends one conversion. Identifiers are normalized and hashed before sending.
Prints where it sent the event and what the endpoint answered (and when the sandbox saw the id
before: OpenAI keeps the first copy of an event id and ignores the others).

Event:
  --type <event>              order_created, lead_created, …, or custom
  --id <id>                   event id (default: a new UUID); reuse the pixel's event_id to pair them
  --custom-event-name <name>  required with --type custom
  --timestamp <when>          ISO 8601 or epoch ms (default: now; at most 7 days ago)
  --amount <decimal>          e.g. 129.99 (converted to minor units with --currency)
  --currency <ISO 4217>       e.g. USD, JPY
  --plan-id <id>              for subscription_created / trial_started
  --action-source <source>    web, offline, phone_call, … (default: web with --source-url, else offline)
  --source-url <url>          page of the conversion (sent as origin + path)
  --oppref <value>            ChatGPT click id, passed through byte for byte
User (repeatable where it makes sense):
  --email, --phone, --external-id, --first-name, --last-name, --city, --region, --postal-code, --country,
  --ip, --user-agent
Output:
  --dry-run                   print the wire JSON and send nothing
  --validate-only             ask the API to validate without storing (validate_only)
  --json                      print the outcome as JSON (see the README for the shape)

${CONNECTION_HELP}`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  type: { type: 'string' },
  id: { type: 'string' },
  'custom-event-name': { type: 'string' },
  timestamp: { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string' },
  'plan-id': { type: 'string' },
  'action-source': { type: 'string' },
  'source-url': { type: 'string' },
  oppref: { type: 'string' },
  email: { type: 'string', multiple: true },
  phone: { type: 'string', multiple: true },
  'external-id': { type: 'string', multiple: true },
  'first-name': { type: 'string', multiple: true },
  'last-name': { type: 'string', multiple: true },
  city: { type: 'string', multiple: true },
  region: { type: 'string', multiple: true },
  'postal-code': { type: 'string', multiple: true },
  country: { type: 'string', multiple: true },
  ip: { type: 'string' },
  'user-agent': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'validate-only': { type: 'boolean' },
} as const;

/** Parses `--timestamp`: ISO 8601, epoch milliseconds, or epoch seconds. */
export function parseTimestamp(value: string): number {
  const parsed = readTimestamp(value);
  if (parsed === undefined)
    throw new UsageError(`cannot read timestamp "${value}": use ISO 8601 or epoch milliseconds`);
  return parsed;
}

export async function send(argv: string[], io: CliIO): Promise<number> {
  const { values: flags } = parseFlags(argv, FLAGS);
  if (flags.help) {
    io.stdout(`${SEND_HELP}\n`);
    return 0;
  }
  if (!flags.type) throw new UsageError('--type is required');
  const config = await loadConfig(flags, io);

  // The flags are a flat record (`--postal-code` is the postal_code field), mapped as import maps a row.
  const record: FlatRecord = {};
  for (const [flag, value] of Object.entries(flags))
    if (typeof value === 'string' || Array.isArray(value)) record[flag.replaceAll('-', '_')] = value;
  const mapped = recordToInput(record);
  if (!mapped.ok)
    throw new UsageError(
      mapped.code === 'amount without currency' ? '--amount needs --currency' : mapped.reason,
    );
  const { input } = mapped;
  // A conversion sent by hand is one the operator vouches for: consent is asserted, not read.
  const context = { consent: 'granted' as const };

  const json = Boolean(flags.json);
  if (flags['dry-run']) {
    const built = await buildEvent(input, context, {
      hash: sha256,
      ...(config.defaultCountry ? { defaultCountry: config.defaultCountry } : {}),
    });
    if (!built.ok) return reportIssues(built.issues, io, json, { type: input.type });
    const envelope = { ...(flags['validate-only'] ? { validate_only: true } : {}), events: [built.event] };
    if (json) {
      printJson(io, {
        ok: true,
        outcome: 'dry-run',
        type: input.type,
        id: built.event.id,
        request: envelope,
        warnings: built.warnings,
      });
      return 0;
    }
    for (const warning of built.warnings) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
    io.stdout(`${JSON.stringify(envelope, null, 2)}\n`);
    return 0;
  }

  const connection = requireConnection(config);
  const endpoint = endpointOf(connection);
  const timeoutMs = 10_000;
  const watch = watchEndpoint(io.fetch, endpoint, timeoutMs);
  let message = '';
  let conversions: ReturnType<typeof createConversions>;
  try {
    conversions = createConversions(
      clientOptions(connection, io, {
        fetch: watch.fetch,
        ...(flags['validate-only'] ? { validateOnly: true } : {}),
        retry: { maxDelayMs: 5_000, timeoutMs },
        hooks: {
          deadLettered: (letter) => {
            message = `${letter.reason}: ${letter.message}`;
          },
          retried: (retry) => {
            message = retry.message;
          },
        },
      }),
    );
  } catch (error) {
    if (error instanceof ConversionsConfigError) throw new UsageError(error.message);
    throw error;
  }
  const result = await conversions.track(input, context);
  if (result.status === 'refused') {
    await conversions.shutdown({ timeoutMs: 0 });
    return reportIssues(result.issues, io, json, { type: input.type, endpoint });
  }
  if (result.status !== 'queued') throw new Error('unexpected consent skip');
  const done = conversions.shutdown({ timeoutMs: 30_000 });
  const unreachable = await Promise.race([done.then(() => undefined), watch.unreachable]);
  const stats = unreachable ? await conversions.shutdown({ timeoutMs: 0 }) : await done;
  const where = { endpoint, pixelId: connection.pixelId, type: input.type, id: result.id };
  const warnings = result.warnings;
  if (!unreachable && stats.delivered === 1) {
    const body = watch.responses.at(-1) as { duplicates?: unknown } | undefined;
    const duplicate = typeof body?.duplicates === 'number' ? body.duplicates > 0 : undefined;
    const validated = Boolean(flags['validate-only']);
    if (json) {
      printJson(io, {
        ok: true,
        outcome: validated ? 'validated' : 'sent',
        ...where,
        ...(duplicate !== undefined ? { duplicate } : {}),
        warnings,
      });
      return 0;
    }
    for (const warning of warnings) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
    const c = paint(io, 'stdout');
    io.stdout(
      `${c.green('✔')} ${validated ? 'Validated' : 'Sent'} ${input.type} ${result.id} to ${endpoint} (pixel ${connection.pixelId})\n`,
    );
    if (duplicate)
      io.stdout(
        `  ${c.yellow('note:')} the endpoint already had an event with this id: it keeps the first copy and ignores this one\n`,
      );
    return 0;
  }
  const reason = unreachable
    ? unreachableMessage(unreachable)
    : stats.halted
      ? `the endpoint ${endpoint} refused the configuration (HTTP ${stats.halted.status}): ${stats.halted.message}`
      : stats.deadLettered > 0
        ? `the endpoint ${endpoint} refused the event (${message})`
        : `not delivered to ${endpoint} within 30 s (${message || 'no answer'})`;
  if (json)
    printJson(io, { ok: false, outcome: 'failed', ...where, error: { kind: 'failed', message: reason } });
  io.stderr(`${paint(io, 'stderr').red('error:')} ${reason}\n`);
  return 1;
}

function reportIssues(
  issues: ReadonlyArray<{ path: string; message: string; code?: string }>,
  io: CliIO,
  json: boolean,
  where: Record<string, string>,
): number {
  if (json)
    printJson(io, {
      ok: false,
      outcome: 'refused',
      ...where,
      issues,
      error: { kind: 'failed', message: 'the conversion is refused' },
    });
  io.stderr(`${paint(io, 'stderr').red('error:')} the conversion is refused:\n`);
  for (const issue of issues) io.stderr(`  ${issue.path || '(event)'}: ${issue.message}\n`);
  return 1;
}
