// The CLI README's Usage section as a new user follows it, with the packed `chatgpt-ads` binary in a
// fresh npm project: `chatgpt-ads sandbox` started as written, the env line it prints pasted, then
// every command of the section run in a shell with orders.csv beside it (check-url's shop.example is
// answered inside the binary's process by a preloaded fetch: this machine has no network to reach
// it); then every --json output is held to the JSON shapes the README documents.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

function words(line) {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

/**
 * @param {string} root the repository
 * @param {string} dir a fresh npm project with the cli, core and sandbox tarballs installed
 * @param {() => Promise<number>} freePort
 */
export async function checkCliReadme(root, dir, freePort) {
  const readme = readFileSync(join(root, 'packages/cli/README.md'), 'utf8');
  const usage = readme.slice(readme.indexOf('## Usage'), readme.indexOf('## Options'));
  const shapes = /## JSON output[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme)[1];
  /** The property names the README documents for one `type X = {…}` (nested objects included). */
  const documented = (name) =>
    new Set(
      [
        ...(new RegExp(`type ${name} =([\\s\\S]*?)\\n\\n`).exec(`${shapes}\n\n`)?.[1] ?? '').matchAll(
          /([A-Za-z]+)\??:/g,
        ),
      ].map((m) => m[1]),
    );
  const sendKeys = documented('Send');
  const csv = /```csv\n([\s\S]*?)```/.exec(usage)[1];
  // The sample rows carry fixed dates; make them recent so they are not stale.
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  writeFileSync(join(dir, 'orders.csv'), csv.replace(/2026-11-25T/g, `${yesterday}T`));
  const bin = join(dir, 'node_modules/.bin/chatgpt-ads');
  const lines = usage.split('\n').filter((line) => line.startsWith('chatgpt-ads '));
  const [sandboxLine, ...commands] = lines;
  if (!sandboxLine?.startsWith('chatgpt-ads sandbox --port 8787'))
    throw new Error(`the Usage section starts with ${sandboxLine}`);
  // The README's port may be taken here: the same command with a free one.
  const port = await freePort();
  const sandbox = spawn(bin, [...words(sandboxLine).slice(1, -1), String(port)], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let printed = '';
  sandbox.stdout.on('data', (chunk) => (printed += chunk));
  try {
    for (let i = 0; !/^\s*export .+$/m.test(printed); i++) {
      if (i > 300 || sandbox.exitCode !== null) throw new Error(`chatgpt-ads sandbox printed:\n${printed}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The line the README shows, and the line the sandbox printed to paste, name the same variables.
    const pasted = /^\s*export (.+)$/m.exec(printed)[1];
    const shownLine = /^export (.+)$/m.exec(usage)[1];
    const names = (line) => line.split(' ').map((pair) => pair.split('=')[0]);
    if (names(pasted).join() !== names(shownLine).join())
      throw new Error(`the README exports ${names(shownLine)}, the sandbox prints ${names(pasted)}`);
    // check-url fetches https://shop.example/…: answered in the binary's own process.
    writeFileSync(
      join(dir, 'local-shop.mjs'),
      `const real = globalThis.fetch;
globalThis.fetch = (input, init) =>
  String(input?.url ?? input).startsWith('https://shop.example/')
    ? Promise.resolve(new Response('<p>landing</p>', { status: 200 }))
    : real(input, init);
`,
    );
    const env = {
      ...process.env,
      NODE_OPTIONS: `--import=${pathToFileURL(join(dir, 'local-shop.mjs')).href}`,
      ...Object.fromEntries(pasted.split(' ').map((pair) => pair.split('='))),
    };
    const endpoint = env.CHATGPT_ADS_ENDPOINT;
    const outputs = [];
    for (const line of commands) {
      const argv = words(line.replace(/\s+#.*$/, '')).slice(1);
      try {
        outputs.push(execFileSync(bin, argv, { cwd: dir, env, encoding: 'utf8', stdio: 'pipe' }));
      } catch (error) {
        throw new Error(`${line} exited with ${error.status}:\n${error.stdout}${error.stderr}`);
      }
    }
    // What the README shows send printing, with this sandbox's address.
    const shown = /```text\n(✔ Sent .*)\n```/.exec(usage)[1];
    const expected = `${shown.replace('http://127.0.0.1:8787/v1/events', endpoint)}\n`;
    if (outputs[2] !== expected) throw new Error(`send printed ${outputs[2]}, the README shows ${expected}`);
    const sendJson = JSON.parse(outputs.at(-1));
    const undocumented = Object.keys(sendJson).filter((key) => !sendKeys.has(key));
    if (undocumented.length > 0) throw new Error(`send --json printed undocumented keys: ${undocumented}`);
    if (!outputs[5]?.includes('shop.example')) throw new Error(`check-url printed ${outputs[5]}`);
    const events = (await (await fetch(new URL('/_sandbox/events', endpoint))).json()).data;
    const ids = events.map((e) => e.event.id).sort();
    if (ids.join() !== 'lead_42,lead_43,order_2001,order_2002')
      throw new Error(`the sandbox received ${ids}`);
    const jpy = events.find((e) => e.event.id === 'order_2002')?.event.data.amount;
    if (jpy !== 8900) throw new Error(`order_2002 arrived with amount ${jpy}`);
    // Then every --json output (these send more events) carries only keys the README's shapes document.
    writeFileSync(join(dir, 'rows.csv'), `id,type,timestamp\nr_1,lead_created,${new Date().toISOString()}\n`);
    for (const [type, argv] of [
      ['Send', ['send', '--type', 'lead_created', '--id', 'j_1']],
      ['Send', ['send', '--type', 'lead_created', '--dry-run']],
      ['Import', ['import', 'rows.csv']],
      ['Import', ['import', 'rows.csv', '--dry-run']],
      ['Doctor', ['doctor']],
      ['Version', ['--version']],
    ]) {
      const output = JSON.parse(execFileSync(bin, [...argv, '--json'], { cwd: dir, env, encoding: 'utf8' }));
      const keys = documented(type);
      const extra = [
        ...Object.keys(output),
        ...(type === 'Import' ? Object.keys(output.summary) : []),
      ].filter((key) => !keys.has(key));
      if (extra.length > 0) throw new Error(`${argv.join(' ')} --json printed undocumented keys: ${extra}`);
    }
    console.log(
      `ok   the CLI README's ${commands.length} Usage commands run with the packed binary, and every --json output has only documented keys`,
    );
  } finally {
    sandbox.kill('SIGINT');
  }
}
