import {
  type ActionSource,
  buildEvent,
  type ConversionInput,
  createConversions,
  type EventType,
  MoneyError,
  toMinorUnits,
  type UserInput,
} from '@chatgpt-ads/core';
import {
  type CliIO,
  CONNECTION_FLAGS,
  CONNECTION_HELP,
  clientOptions,
  loadConfig,
  parseFlags,
  requireConnection,
  sha256,
  UsageError,
} from '../shared.js';

export const SEND_HELP = `Usage: chatgpt-ads send --type <event> [options]

Builds, validates and sends one conversion. Identifiers are normalized and hashed before sending.

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
  const trimmed = value.trim();
  if (/^\d{13}$/.test(trimmed)) return Number(trimmed);
  if (/^\d{10}$/.test(trimmed)) return Number(trimmed) * 1000;
  const parsed = Date.parse(trimmed);
  if (Number.isNaN(parsed))
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

  let amount: number | undefined;
  if (flags.amount !== undefined) {
    if (!flags.currency) throw new UsageError('--amount needs --currency');
    try {
      amount = toMinorUnits(flags.amount, flags.currency);
    } catch (error) {
      if (error instanceof MoneyError) throw new UsageError(error.message);
      throw error;
    }
  }
  const user: UserInput = {};
  const lists = {
    email: 'email',
    phone: 'phone',
    'external-id': 'externalId',
    'first-name': 'firstName',
    'last-name': 'lastName',
    city: 'city',
    region: 'region',
    'postal-code': 'postalCode',
    country: 'country',
  } as const;
  for (const [flag, field] of Object.entries(lists)) {
    const value = flags[flag as keyof typeof lists];
    if (value) user[field] = value;
  }
  if (flags.ip) user.ipAddress = flags.ip;
  if (flags['user-agent']) user.userAgent = flags['user-agent'];

  const input: ConversionInput = {
    type: flags.type as EventType,
    ...(flags.id ? { id: flags.id } : {}),
    ...(flags['custom-event-name'] ? { customEventName: flags['custom-event-name'] } : {}),
    ...(flags.timestamp ? { timestampMs: parseTimestamp(flags.timestamp) } : {}),
    ...(flags['source-url'] ? { sourceUrl: flags['source-url'] } : {}),
    ...(flags.oppref ? { oppref: flags.oppref } : {}),
    actionSource: (flags['action-source'] ?? (flags['source-url'] ? 'web' : 'offline')) as ActionSource,
    data: {
      ...(amount !== undefined ? { amount } : {}),
      ...(flags.currency ? { currency: flags.currency } : {}),
      ...(flags['plan-id'] ? { planId: flags['plan-id'] } : {}),
    },
    user,
  };
  // A conversion sent by hand is one the operator vouches for: consent is asserted, not read.
  const context = { consent: 'granted' as const };

  if (flags['dry-run']) {
    const built = await buildEvent(input, context, {
      hash: sha256,
      ...(config.defaultCountry ? { defaultCountry: config.defaultCountry } : {}),
    });
    if (!built.ok) return reportIssues(built.issues, io);
    for (const warning of built.warnings) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
    const envelope = { ...(flags['validate-only'] ? { validate_only: true } : {}), events: [built.event] };
    io.stdout(`${JSON.stringify(envelope, null, 2)}\n`);
    return 0;
  }

  const connection = requireConnection(config);
  let message = '';
  const conversions = createConversions(
    clientOptions(connection, io, {
      ...(flags['validate-only'] ? { validateOnly: true } : {}),
      retry: { maxDelayMs: 5_000 },
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
  const result = await conversions.track(input, context);
  if (result.status === 'refused') {
    await conversions.shutdown({ timeoutMs: 0 });
    return reportIssues(result.issues, io);
  }
  if (result.status !== 'queued') throw new Error('unexpected consent skip');
  for (const warning of result.warnings) io.stderr(`warning: ${warning.path}: ${warning.message}\n`);
  const stats = await conversions.shutdown({ timeoutMs: 30_000 });
  if (stats.delivered === 1) {
    io.stdout(`${flags['validate-only'] ? 'Validated' : 'Sent'} ${input.type} ${result.id}\n`);
    return 0;
  }
  if (stats.halted)
    io.stderr(
      `error: the endpoint refused the configuration (HTTP ${stats.halted.status}): ${stats.halted.message}\n`,
    );
  else if (stats.deadLettered > 0) io.stderr(`error: the endpoint refused the event (${message})\n`);
  else io.stderr(`error: not delivered within 30 s (${message || 'no answer'})\n`);
  return 1;
}

function reportIssues(issues: ReadonlyArray<{ path: string; message: string }>, io: CliIO): number {
  io.stderr('error: the conversion is refused:\n');
  for (const issue of issues) io.stderr(`  ${issue.path || '(event)'}: ${issue.message}\n`);
  return 1;
}
