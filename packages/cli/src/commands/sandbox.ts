import { startSandbox } from '@chatgpt-ads/sandbox';
import { type CliIO, parseFlags, UsageError } from '../shared.js';

export const SANDBOX_HELP = `Usage: chatgpt-ads sandbox [--port 8787] [--host 127.0.0.1] [--allow-host <name>…] [--pixel-id <id> --api-key <key>]

Runs a local emulator of the Conversions API with a live inspector page. Point your server's
endpoint at it. Without --pixel-id/--api-key it accepts any pixel and any key.

The inspector and its data answer only to localhost, 127.0.0.1 and [::1]; --allow-host adds a name
(e.g. --host 0.0.0.0 --allow-host sandbox when other containers reach it as http://sandbox:8787).`;

export async function sandbox(argv: string[], io: CliIO): Promise<number> {
  const { values: flags } = parseFlags(argv, {
    help: { type: 'boolean', short: 'h' },
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-host': { type: 'string', multiple: true },
    'pixel-id': { type: 'string' },
    'api-key': { type: 'string' },
  });
  if (flags.help) {
    io.stdout(`${SANDBOX_HELP}\n`);
    return 0;
  }
  const port = Number(flags.port ?? io.env.PORT ?? 8787);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number, not ${flags.port}`);
  if (Boolean(flags['pixel-id']) !== Boolean(flags['api-key']))
    throw new UsageError('--pixel-id and --api-key go together');
  let running: Awaited<ReturnType<typeof startSandbox>>;
  try {
    running = await startSandbox({
      port,
      ...(flags.host ? { host: flags.host } : {}),
      ...(flags['allow-host'] ? { allowedHosts: flags['allow-host'] } : {}),
      ...(flags['pixel-id'] ? { pixels: [{ pixelId: flags['pixel-id'], apiKey: flags['api-key']! }] } : {}),
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      io.stderr(`error: port ${port} is in use; pick another with --port (0 picks a free one)\n`);
      return 1;
    }
    throw error;
  }
  io.stdout(
    `ChatGPT Ads sandbox\n  inspector  ${running.url}\n  endpoint   ${running.endpoint}\n  pixel      ${running.pixelScriptUrl}\n\n` +
      `Set endpoint: '${running.endpoint}' in createConversions. Ctrl-C stops.\n`,
  );
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await running.close();
  return 0;
}
