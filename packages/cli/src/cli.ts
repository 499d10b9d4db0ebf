import { createInterface } from 'node:readline/promises';
import { runCli } from './run.js';
import { colorWanted } from './shared.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => controller.abort());
process.exitCode = await runCli(process.argv.slice(2), {
  signal: controller.signal,
  color: {
    stdout: colorWanted(process.stdout.isTTY, process.env),
    stderr: colorWanted(process.stderr.isTTY, process.env),
  },
  // Questions are asked only where someone can answer them.
  ...(process.stdin.isTTY
    ? {
        confirm: async (question: string) => {
          const rl = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
          } finally {
            rl.close();
          }
        },
      }
    : {}),
});
