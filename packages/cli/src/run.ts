import { version } from '../package.json';
import { CHECK_URL_HELP, checkUrl } from './commands/check-url.js';
import { DOCTOR_HELP, doctor } from './commands/doctor.js';
import { IMPORT_HELP, importCommand } from './commands/import.js';
import { OUTBOX_HELP, outbox } from './commands/outbox.js';
import { SANDBOX_HELP, sandbox } from './commands/sandbox.js';
import { SEND_HELP, send } from './commands/send.js';
import { type CliIO, closest, colorWanted, paint, printJson, UsageError } from './shared.js';

const COMMANDS = {
  sandbox: {
    run: sandbox,
    help: SANDBOX_HELP,
    summary: 'run the local Conversions API emulator and its inspector page',
  },
  send: { run: send, help: SEND_HELP, summary: 'build, validate and send one conversion' },
  import: {
    run: importCommand,
    help: IMPORT_HELP,
    summary: 'send offline conversions from a CSV or JSONL file',
  },
  doctor: { run: doctor, help: DOCTOR_HELP, summary: 'check the configuration with a validate_only request' },
  outbox: {
    run: outbox,
    help: OUTBOX_HELP,
    summary: 'list, replay or purge the dead letters of a SQLite or PostgreSQL outbox',
  },
  'check-url': {
    run: checkUrl,
    help: CHECK_URL_HELP,
    summary: 'follow a landing URL’s redirects and see whether oppref survives',
  },
} as const;

export const MAIN_HELP = `Usage: chatgpt-ads <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Options for every command:
  --json      one JSON document on stdout instead of text
  -h, --help  the command's options
  --version   the CLI's version

Exit codes: 0 done, 1 failed (the message says why), 2 usage error (a flag, argument or setting to fix).
Run chatgpt-ads help <command> (or chatgpt-ads <command> --help) for its options.`;

/** The CLI's version, from its package.json. */
export const VERSION: string = version;

/**
 * Runs the CLI with the given arguments and returns the exit code: 0 done, 1 failed, 2 usage error.
 *
 * @example
 * const code = await runCli(['doctor'], { env: { CHATGPT_ADS_PIXEL_ID: 'px', CHATGPT_ADS_API_KEY: 'k' } });
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const env = io.env ?? process.env;
  const full: CliIO = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
    fetch: globalThis.fetch,
    color: {
      stdout: colorWanted(io.stdout ? false : process.stdout.isTTY, env),
      stderr: colorWanted(io.stderr ? false : process.stderr.isTTY, env),
    },
    ...io,
  };
  const json = argv.includes('--json');
  const c = paint(full, 'stderr');
  const fail = (kind: 'usage' | 'failed', message: string, hint?: string): number => {
    if (json) printJson(full, { ok: false, error: { kind, message } });
    full.stderr(`${c.red('error:')} ${message}\n${hint ? `${hint}\n` : ''}`);
    return kind === 'usage' ? 2 : 1;
  };
  const [first, ...rest] = argv;
  if (first === '--version' || first === '-v' || first === 'version') {
    if (json) printJson(full, { version: VERSION });
    else full.stdout(`${VERSION}\n`);
    return 0;
  }
  if (!first) {
    full.stderr(`${MAIN_HELP}\n`);
    return 2;
  }
  if (first === '--help' || first === '-h') {
    full.stdout(`${MAIN_HELP}\n`);
    return 0;
  }
  const unknown = (name: string) => {
    const guess = closest(name, Object.keys(COMMANDS));
    return fail(
      'usage',
      `unknown command "${name}"${guess ? `. Did you mean "${guess}"?` : ''}`,
      'Run chatgpt-ads --help for the list of commands.',
    );
  };
  if (first === 'help') {
    const topic = rest.find((arg) => !arg.startsWith('-'));
    if (!topic) {
      full.stdout(`${MAIN_HELP}\n`);
      return 0;
    }
    const command = COMMANDS[topic as keyof typeof COMMANDS];
    if (!command) return unknown(topic);
    full.stdout(`${command.help}\n`);
    return 0;
  }
  const command = COMMANDS[first as keyof typeof COMMANDS];
  if (!command)
    return first.startsWith('-')
      ? fail('usage', `unknown option ${first}`, 'Run chatgpt-ads --help for usage.')
      : unknown(first);
  try {
    return await command.run(rest, full);
  } catch (error) {
    if (error instanceof UsageError)
      return fail('usage', error.message, `Run chatgpt-ads ${first} --help for usage.`);
    return fail('failed', error instanceof Error ? error.message : String(error));
  }
}
