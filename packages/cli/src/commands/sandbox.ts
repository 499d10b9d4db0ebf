import { ENVIRONMENT } from '@chatgpt-ads/core';
import { type Sandbox, type StoredRequest, startSandbox } from '@chatgpt-ads/sandbox';
import { type CliIO, paint, parseFlags, UsageError } from '../shared.js';

export const SANDBOX_HELP = `Usage: chatgpt-ads sandbox [--port 8787] [--host 127.0.0.1] [--allow-host <name>…] [--pixel-id <id> --api-key <key>] [--quiet] [--json]

Runs a local emulator of the Conversions API with a live inspector page. Point your server's
endpoint at it: it prints the environment line to paste. Without --pixel-id/--api-key it accepts
any pixel and any key. Each request it answers is logged on one line: time, method, path, status,
events (and duplicates), pixel, and the reason when it was refused.

Options:
  --port <n>          port to listen on (default 8787, or PORT; 0 picks a free one)
  --host <address>    interface to bind (default 127.0.0.1)
  --allow-host <name> host name, besides loopback ones, the inspector answers to (repeatable)
  --pixel-id <id>     accept only this pixel …
  --api-key <key>     … with this key (the two go together)
  --quiet             no line per request
  --json              one JSON object per line: {"type":"listening",…} then {"type":"request",…}

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
    quiet: { type: 'boolean', short: 'q' },
    json: { type: 'boolean' },
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
  const json = Boolean(flags.json);
  const env = {
    [ENVIRONMENT.endpoint]: running.endpoint,
    [ENVIRONMENT.pixelId]: flags['pixel-id'] ?? 'px_sandbox',
    // A key given on the command line is not echoed: the user has it, a log need not.
    [ENVIRONMENT.apiKey]: flags['api-key'] ? '<your --api-key>' : 'sk_sandbox',
  };
  const envLine = `export ${Object.entries(env)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ')}`;
  if (json)
    io.stdout(
      `${JSON.stringify({
        type: 'listening',
        url: running.url,
        endpoint: running.endpoint,
        pixelScriptUrl: running.pixelScriptUrl,
        env,
      })}\n`,
    );
  else {
    const c = paint(io, 'stdout');
    io.stdout(
      `${c.bold('ChatGPT Ads sandbox')}\n  inspector  ${running.url}\n  endpoint   ${running.endpoint}\n  pixel      ${running.pixelScriptUrl}\n\n` +
        `Paste this in the shell or .env of the server (and of chatgpt-ads send/import/doctor):\n  ${envLine}\n\n` +
        `${flags['pixel-id'] ? '' : 'Any pixel id and any non-empty key are accepted. '}Ctrl-C stops.\n\n`,
    );
  }
  const stopLog = flags.quiet ? () => {} : logRequests(running, io, json);
  await new Promise<void>((resolve) => {
    if (io.signal?.aborted) resolve();
    io.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  stopLog();
  await running.close();
  return 0;
}

/**
 * Prints one line per request the sandbox answered, in the order they finished. The sandbox is read
 * through its public `requests()`/`events()` a few times a second, so its own code stays untouched.
 */
function logRequests(running: Sandbox, io: CliIO, json: boolean): () => void {
  let last: StoredRequest | undefined;
  const c = paint(io, 'stdout');
  const print = () => {
    const requests = running.requests();
    // Requests are kept in the order they finished; everything after the last one printed is new.
    // After a reset (from the inspector), the last one is gone and every request listed is new.
    const from = last ? requests.lastIndexOf(last) + 1 : 0;
    const fresh = requests.slice(from);
    if (fresh.length === 0) return;
    last = fresh.at(-1);
    const duplicatesBySeq = new Map<number, number>();
    for (const event of running.events())
      if (event.duplicateOf !== undefined)
        duplicatesBySeq.set(event.requestSeq, (duplicatesBySeq.get(event.requestSeq) ?? 0) + 1);
    for (const request of fresh) {
      const duplicates = duplicatesBySeq.get(request.seq) ?? 0;
      if (json) {
        io.stdout(
          `${JSON.stringify({
            type: 'request',
            time: new Date(request.receivedAt).toISOString(),
            method: request.method,
            path: request.path,
            status: request.status,
            events: request.eventCount,
            duplicates,
            pixelId: request.pixelId ?? null,
            validateOnly: request.validateOnly,
            ...(request.error ? { error: request.error.message } : {}),
            ...(request.fault ? { fault: request.fault } : {}),
          })}\n`,
        );
        continue;
      }
      const status = String(request.status || 'reset');
      const colored = request.status >= 200 && request.status < 300 ? c.green(status) : c.red(status);
      const time = new Date(request.receivedAt).toISOString().slice(11, 23);
      const notes = [
        `${request.eventCount} event${request.eventCount === 1 ? '' : 's'}${duplicates ? ` (${duplicates} duplicate${duplicates === 1 ? '' : 's'})` : ''}`,
        `pixel ${request.pixelId ?? '-'}`,
        ...(request.validateOnly ? ['validate_only'] : []),
        ...(request.fault ? [`fault: ${request.fault}`] : []),
        ...(request.error ? [c.red(request.error.message)] : []),
      ];
      io.stdout(
        `${c.dim(time)}  ${request.method.padEnd(4)} ${request.path.padEnd(15)} [${colored}]  ${notes.join('  ')}\n`,
      );
    }
  };
  const timer = setInterval(print, 200);
  return () => {
    clearInterval(timer);
    print();
  };
}
