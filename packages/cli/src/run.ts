import { CHECK_URL_HELP, checkUrl } from './commands/check-url.js';
import { DOCTOR_HELP, doctor } from './commands/doctor.js';
import { IMPORT_HELP, importCommand } from './commands/import.js';
import { OUTBOX_HELP, outbox } from './commands/outbox.js';
import { SANDBOX_HELP, sandbox } from './commands/sandbox.js';
import { SEND_HELP, send } from './commands/send.js';
import { type CliIO, UsageError } from './shared.js';

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
    summary: 'list, replay or purge the dead letters of a SQLite outbox',
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

Run chatgpt-ads <command> --help for its options.`;

/**
 * Runs the CLI with the given arguments and returns the exit code (0 ok, 1 failed, 2 usage).
 *
 * @example
 * const code = await runCli(['doctor'], { env: { OPENAI_ADS_PIXEL_ID: 'px', OPENAI_CONVERSIONS_API_KEY: 'k' } });
 */
export async function runCli(argv: readonly string[], io: Partial<CliIO> = {}): Promise<number> {
  const full: CliIO = {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
    fetch: globalThis.fetch,
    ...io,
  };
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    full.stdout(`${MAIN_HELP}\n`);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name as keyof typeof COMMANDS];
  if (!command) {
    full.stderr(`chatgpt-ads: unknown command "${name}"\n\n${MAIN_HELP}\n`);
    return 2;
  }
  try {
    return await command.run(rest, full);
  } catch (error) {
    if (error instanceof UsageError) {
      full.stderr(`chatgpt-ads ${name}: ${error.message}\nRun chatgpt-ads ${name} --help for usage.\n`);
      return 2;
    }
    full.stderr(`chatgpt-ads ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
