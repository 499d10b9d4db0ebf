// Runs the conformance app inside a real Edge runtime VM (`edge-runtime`'s EdgeRuntime, the VM
// behind `@edge-runtime/vm`) and serves it over HTTP on 127.0.0.1.
//
// 1. `bundleEdgeApp` bundles ./app.ts with the adapter's source, `hono` and `@chatgpt-ads/core` into
//    one script for a Web-standard platform; any Node built-in (`node:*` or a bare `crypto`, `buffer`…)
//    fails the build, as it would fail on the edge.
// 2. `startEdgeApp` puts the suite's options on the VM's global, evaluates the script (the middleware
//    is made inside the VM, so a wrong option throws from there), and serves it with edge-runtime's
//    own request handler: the request line's path and query reach the VM's fetch handler unchanged.
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ConversionsOptions } from '@chatgpt-ads/core';
import type { ConformanceApp } from '@tooling/conformance';
import { createHandler, EdgeRuntime } from 'edge-runtime';
import { build, type Plugin } from 'esbuild';
import type { EdgeAppHandle } from './app.js';

const NODE_BUILTINS = new Set(builtinModules);

// Edge runtimes have no Node built-ins: an import of one fails the build instead of being bundled or shimmed.
const refuseNodeBuiltins: Plugin = {
  name: 'refuse-node-builtins',
  setup(build) {
    build.onResolve({ filter: /.*/ }, (args) => {
      const name = args.path.startsWith('node:') ? args.path : args.path.split('/')[0]!;
      if (!name.startsWith('node:') && !NODE_BUILTINS.has(name)) return undefined;
      return {
        errors: [{ text: `Node built-in "${args.path}" imported by ${args.importer || 'the entry'}` }],
      };
    });
  },
};

/** Bundles an entry (default: the conformance app) into one script for an Edge runtime. */
export async function bundleEdgeApp(
  entry: { file: string } | { contents: string } = {
    file: fileURLToPath(new URL('./app.ts', import.meta.url)),
  },
): Promise<string> {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const result = await build({
    ...('file' in entry
      ? { entryPoints: [entry.file] }
      : { stdin: { contents: entry.contents, resolveDir: here, loader: 'ts' as const } }),
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    // The export conditions edge bundlers use (wrangler: workerd, worker, browser).
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    plugins: [refuseNodeBuiltins],
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

let conformanceBundle: Promise<string> | undefined;

/** The running app, with what the edge tests look at beyond the suite's contract. */
export interface EdgeApp extends ConformanceApp {
  /** The VM the app runs in. */
  runtime: EdgeRuntime;
  /** Settles when every promise handed to a FetchEvent's waitUntil so far has settled. */
  settled(): Promise<unknown>;
}

export async function startEdgeApp(options: ConversionsOptions): Promise<EdgeApp> {
  conformanceBundle ??= bundleEdgeApp();
  const script = await conformanceBundle;
  const runtime = new EdgeRuntime({
    extend: (context) => Object.assign(context, { __conformanceOptions: options }),
  });
  runtime.evaluate(script);
  const app = runtime.evaluate('globalThis.__conformanceApp') as EdgeAppHandle;

  // edge-runtime's handler: a Node request becomes runtime.dispatchFetch(url, { method, headers, body })
  // with the URL built from the request line as sent, and the response is written back header for
  // header (Set-Cookie one by one). Its waitUntil() gathers each FetchEvent's waitUntil promises.
  const { handler, waitUntil } = createHandler({ runtime });
  const server = createServer((req, res) => {
    // What an edge platform adds to every request (Cloudflare's CF-Connecting-IP): the socket's
    // address, replacing any value the client sent.
    req.headers['cf-connecting-ip'] = req.socket.remoteAddress;
    handler(req, res).catch((error: unknown) => res.destroy(error as Error));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    runtime,
    settled: waitUntil,
    // The sends already handed to waitUntil finish, then the client shuts down inside the VM
    // (delivering anything still queued), then the server stops.
    close: async () => {
      await waitUntil();
      await app.shutdown();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    exposed: () => app.exposed(),
  };
}
