#!/usr/bin/env node
// The quick starts as a new user meets them: every publishable package is packed (`pnpm pack`),
// the tarballs are installed with plain npm into fresh projects outside the workspace, and each
// README's quick start is pasted verbatim, compiled with `tsc --strict` and run against the
// sandbox (itself from its tarball). With the pixel's consent cookie one conversion arrives with
// the landing's oppref; without it nothing arrives and the log says why. Any `workspace:` leak,
// file missing from `files`, wrong export condition or peer range fails here. Every README and
// docs/ block is compiled in one more fresh project; the core README's blocks are run and checked
// for what they do (core-readme-check.ts), and the CLI README's commands run with the packed
// binary against the sandbox it starts (cli-readme.mjs).
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { checkCliReadme } from './cli-readme.mjs';

const root = new URL('../..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'chatgpt-ads-quickstart-'));
const tarballs = join(work, 'tarballs');
const OPPREF = 'gAAAAB-Zm9vYmFy_x-1Zw==';
let failures = 0;

// What the core check (core-readme-check.ts) needs from blocks that do not export it themselves.
const CHECKED_EXPORTS = {
  'packages-core-README-md-2.ts': 'export { conversions };',
  'packages-core-README-md-3.ts': 'export { oneTrust };',
};

function run(command, args, cwd) {
  execFileSync(command, args, {
    cwd,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, CI: 'true' },
  });
}

function tarball(name) {
  const file = readdirSync(tarballs).find((f) => f.startsWith(`chatgpt-ads-${name}-`));
  if (!file) throw new Error(`no tarball for @chatgpt-ads/${name}`);
  return join(tarballs, file);
}

// Every ts/tsx block under a heading whose first line names its file (`// app/page.tsx`).
function fileBlocks(readmePath, heading = '## Usage') {
  const readme = readFileSync(readmePath, 'utf8');
  const section = readme.slice(readme.indexOf(heading), readme.indexOf('\n## ', readme.indexOf(heading) + 1));
  return [...section.matchAll(/```tsx?\n\/\/ ([\w./-]+)\n([\s\S]*?)```/g)].map((m) => ({
    path: m[1],
    code: m[2],
  }));
}

// The first ```ts block after a heading: the quick start as a user copies it.
function usageBlock(readmePath, heading = '## Usage') {
  const readme = readFileSync(readmePath, 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme.slice(readme.indexOf(heading)))?.[1];
  if (!block) throw new Error(`${readmePath} has no ts block under ${heading}`);
  return block;
}

function freePort() {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function send(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    // A raw request line: the oppref goes out exactly as written.
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: url.slice(target.origin.length),
        method,
        headers,
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode,
            setCookies: res.headers['set-cookie'] ?? [],
            contentType: res.headers['content-type'],
            text,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function project(name, dependencies, compilerOptions = {}) {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: `quickstart-${name}`, private: true, type: 'module' }),
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        outDir: 'dist',
        skipLibCheck: true,
        experimentalDecorators: true,
        ignoreDeprecations: '6.0',
        ...compilerOptions,
      },
      include: ['*.ts'],
    }),
  );
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...dependencies], dir);
  return dir;
}

async function check(name, dir, scenario, command = ['dist/app.js'], nodeOptions = []) {
  const { startSandbox } = await import(
    pathToFileURL(join(dir, 'node_modules/@chatgpt-ads/sandbox/dist/index.js')).href
  );
  const sandbox = await startSandbox({ port: 0 });
  const port = await freePort();
  let log = '';
  const app = spawn(
    process.execPath,
    [
      ...nodeOptions,
      ...command,
      ...(command[0] === 'dist/app.js' ? [] : ['-p', String(port), '-H', '127.0.0.1']),
    ],
    {
      cwd: dir,
      env: {
        ...process.env,
        PORT: String(port),
        CHATGPT_ADS_PIXEL_ID: 'px_quickstart',
        CHATGPT_ADS_API_KEY: 'sk_quickstart',
        CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
        NEXT_TELEMETRY_DISABLED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  app.stdout.on('data', (chunk) => (log += chunk));
  app.stderr.on('data', (chunk) => (log += chunk));
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        await send(`${url}/`);
        break;
      } catch {}
      if (i > 600 || app.exitCode !== null) throw new Error(`the ${name} quick start did not start:\n${log}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // A scenario may return a check of the events that arrived (delivered when the app stops).
    const verify = await scenario(url, sandbox);
    const exited =
      app.exitCode !== null || app.signalCode !== null
        ? Promise.resolve()
        : new Promise((resolve) => app.once('exit', resolve));
    app.kill('SIGTERM');
    let stopTimer;
    const stopped = await Promise.race([
      exited.then(() => true),
      new Promise((resolve) => {
        stopTimer = setTimeout(() => resolve(false), 30_000);
      }),
    ]);
    clearTimeout(stopTimer);
    if (!stopped) throw new Error(`the ${name} quick start did not stop within 30 s of SIGTERM:\n${log}`);
    const events = sandbox.events();
    const problems = [];
    if (events.length !== 1) problems.push(`expected 1 conversion, the sandbox has ${events.length}`);
    if (events[0]?.event.oppref !== OPPREF) problems.push(`oppref arrived as ${events[0]?.event.oppref}`);
    if (!log.includes('no consent signal under opt-in')) problems.push('no consent hint in the log');
    if (log.includes('sk_quickstart')) problems.push('the API key appears in the log');
    if (typeof verify === 'function') problems.push(...verify(events, log));
    if (problems.length > 0) throw new Error(`${problems.join('; ')}\n${log}`);
    console.log(
      `ok   ${name}: one conversion with oppref ${OPPREF}; without consent nothing, and the log said why`,
    );
  } catch (error) {
    failures++;
    console.log(`FAIL ${name}: ${error instanceof Error ? error.message : error}`);
    app.kill('SIGKILL');
  } finally {
    await sandbox.close();
  }
}

// Runs one compiled README block with the sandbox as its endpoint; `arrived` judges the events.
async function runBlock(dir, file, arrived, env = {}) {
  const { startSandbox } = await import(
    pathToFileURL(join(dir, 'node_modules/@chatgpt-ads/sandbox/dist/index.js')).href
  );
  const sandbox = await startSandbox({ port: 0 });
  try {
    // Not execFileSync: the sandbox answers from this process, which must keep running meanwhile.
    const child = spawn(process.execPath, [join('dist', file)], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        CHATGPT_ADS_PIXEL_ID: 'px_docs',
        CHATGPT_ADS_API_KEY: 'sk_docs',
        CHATGPT_ADS_ENDPOINT: sandbox.endpoint,
        ...env,
      },
    });
    const code = await new Promise((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('exit', (status) => {
        clearTimeout(timer);
        resolve(status);
      });
    });
    if (code !== 0) throw new Error(`${file} exited with ${code}`);
    if (!arrived(sandbox.events())) throw new Error(`${file} ran, but its conversion did not arrive`);
    console.log(`ok   ${file} runs as written and its conversion arrives`);
  } finally {
    await sandbox.close();
  }
}

// The order of the Express, Fastify and Hono READMEs' examples, as it must arrive: its id, the
// landing's click id, its amount and the hash of the normalized email ('Alex@Example.com').
function readmeOrderArrived([arrived]) {
  const event = arrived?.event;
  const want = {
    id: 'order_1001',
    oppref: OPPREF,
    amount: 12999,
    currency: 'USD',
    email: '6db61e6dcbcf2390e4a46af426f26a133a3bee45021422fc7ae86e9136f14110',
  };
  const got = {
    id: event?.id,
    oppref: event?.oppref,
    amount: event?.data?.amount,
    currency: event?.data?.currency,
    email: event?.user?.emails_sha256?.[0],
  };
  return JSON.stringify(got) === JSON.stringify(want)
    ? []
    : [`the order arrived as ${JSON.stringify(got)}, not ${JSON.stringify(want)}`];
}

// The thanks page of those examples: HTML whose pixel carries the order's id as its event_id.
function readmeThanksPage(thanks) {
  if (!/^text\/html/.test(thanks.contentType ?? ''))
    throw new Error(`the thanks page is ${thanks.contentType}, not HTML`);
  if (!thanks.text.includes('"event_id":"order_1001"'))
    throw new Error(`the thanks page's pixel does not carry event_id order_1001: ${thanks.text}`);
}

// Each example closes on SIGTERM and Ctrl-C, with one listener each.
function oneListenerPerSignal(log) {
  return log.includes('signal listeners: SIGTERM 1, SIGINT 1')
    ? []
    : [
        `the example did not register one SIGTERM and one SIGINT listener: ${/signal listeners: .*/.exec(log)?.[0]}`,
      ];
}

// The Fastify and Hono examples: the same visit and checks as Express's, and their signal listeners
// counted by a preload (tooling/quickstart/signal-counter.cjs).
async function checkWithSignals(name, dir) {
  writeFileSync(
    join(dir, 'signal-counter.cjs'),
    readFileSync(join(root, 'tooling/quickstart/signal-counter.cjs')),
  );
  await check(
    name,
    dir,
    async (url) => {
      readmeThanksPage(await landingAndConversion(url, '/checkout', '{"email":"Alex@Example.com"}'));
      return (events, log) => [...readmeOrderArrived(events), ...oneListenerPerSignal(log)];
    },
    undefined,
    ['--require', './signal-counter.cjs'],
  );
}

async function landingAndConversion(url, path, body) {
  const consent = '__oaiq_consent=true';
  const landing = await send(`${url}/?oppref=${OPPREF}`, { headers: { cookie: consent } });
  const cookie = landing.setCookies.find((c) => c.startsWith('__oppref='))?.split(';')[0];
  if (cookie !== `__oppref=${OPPREF}`)
    throw new Error(
      `landing (${landing.status}) wrote ${cookie ?? 'no __oppref cookie'}: ${landing.setCookies.join(' | ')}`,
    );
  const json = { 'content-type': 'application/json' };
  const granted = await send(`${url}${path}`, {
    method: 'POST',
    headers: { ...json, cookie: `${consent}; ${cookie}` },
    body,
  });
  if (granted.status >= 400) throw new Error(`${path} answered ${granted.status}`);
  // The same visit without any consent signal: no cookie written, nothing sent.
  const unknown = await send(`${url}/?oppref=${OPPREF}`);
  if (unknown.setCookies.some((c) => c.startsWith('__oppref=')))
    throw new Error('a cookie was written without consent');
  await send(`${url}${path}`, { method: 'POST', headers: { ...json, cookie }, body });
  return granted;
}

try {
  console.log(`packing into ${tarballs}`);
  run('pnpm', ['-r', '--filter', './packages/*', 'pack', '--pack-destination', tarballs], root);
  const tools = ['typescript@6.0.3', '@types/node@^20.19.0'];

  const express = project('express', [
    tarball('core'),
    tarball('express'),
    tarball('sandbox'),
    'express@^5.3.0',
    '@types/express@^5',
    ...tools,
  ]);
  writeFileSync(join(express, 'app.ts'), usageBlock(join(root, 'packages/express/README.md')));
  run('npx', ['tsc', '-p', '.'], express);
  // The README's example as a visitor meets it: the thanks page's pixel shares the order's id, and
  // the order arrives with its amount and the normalized email's hash.
  await check('Express', express, async (url) => {
    readmeThanksPage(await landingAndConversion(url, '/checkout', '{"email":"Alex@Example.com"}'));
    return readmeOrderArrived;
  });

  const nest = project('nestjs', [
    tarball('core'),
    tarball('nestjs'),
    tarball('sandbox'),
    '@nestjs/common@^12',
    '@nestjs/core@^12',
    '@nestjs/platform-express@^12',
    'reflect-metadata',
    'rxjs@^7',
    '@types/express@^5',
    ...tools,
  ]);
  writeFileSync(join(nest, 'app.ts'), usageBlock(join(root, 'packages/nestjs/README.md')));
  run('npx', ['tsc', '-p', '.'], nest);
  await check('NestJS', nest, (url) => landingAndConversion(url, '/leads', '{"email":"alex@example.com"}'));

  const fastify = project('fastify', [
    tarball('core'),
    tarball('fastify'),
    tarball('sandbox'),
    'fastify@^5.12.8',
    ...tools,
  ]);
  writeFileSync(join(fastify, 'app.ts'), usageBlock(join(root, 'packages/fastify/README.md')));
  run('npx', ['tsc', '-p', '.'], fastify);
  await checkWithSignals('Fastify', fastify);

  const hono = project(
    'hono',
    [
      tarball('core'),
      tarball('hono'),
      tarball('sandbox'),
      'hono@^4.13.19',
      '@hono/node-server@^2.1.9',
      ...tools,
    ],
    // Nothing in Hono's types loads Node's, and TypeScript 6 includes no @types by default: a Hono
    // project on Node names them in its tsconfig, as this does.
    { types: ['node'] },
  );
  writeFileSync(join(hono, 'app.ts'), usageBlock(join(root, 'packages/hono/README.md')));
  run('npx', ['tsc', '-p', '.'], hono);
  await checkWithSignals('Hono', hono);

  // Every other TypeScript block of every README and guide, type-checked with tsc --strict against
  // the packed packages (the runnable ones run above, or in core-readme-check.ts and cli-readme.mjs).
  const docs = project('docs', [
    ...readdirSync(tarballs).map((file) => join(tarballs, file)),
    'express@^5.3.0',
    '@types/express@^5',
    '@nestjs/common@^12',
    '@nestjs/core@^12',
    '@nestjs/platform-express@^12',
    '@nestjs/config@^12',
    'fastify@^5.12.8',
    'hono@^4.13.19',
    '@hono/node-server@^2.1.9',
    'reflect-metadata',
    'rxjs@^7',
    '@shopify/shopify-api@13.1.0',
    '@iabtechlabtcf/core',
    'pg@^8.23.1',
    '@types/pg@^8.23.1',
    ...tools,
  ]);
  const markdown = [
    'README.md',
    ...readdirSync(join(root, 'packages')).map((name) => `packages/${name}/README.md`),
    ...readdirSync(join(root, 'docs')).map((name) => `docs/${name}`),
  ].filter((file) => file.endsWith('.md') && existsSync(join(root, file)));
  const counts = [];
  for (const file of markdown) {
    const blocks = [...readFileSync(join(root, file), 'utf8').matchAll(/```(ts|tsx)\n([\s\S]*?)```/g)]
      .map((m) => m[2])
      .filter((code) => !/^\/\/ [\w./-]+\.(?:tsx?|mjs)\n/.test(code));
    blocks.forEach((code, index) => {
      const name = `${file.replace(/[^A-Za-z0-9]+/g, '-')}-${index + 1}.ts`;
      // `export {}` makes each block its own module, as it is in the user's project; a block the
      // core check below drives also hands it what the block made.
      writeFileSync(join(docs, name), `${code}\n${CHECKED_EXPORTS[name] ?? 'export {};'}\n`);
    });
    counts.push(`${file}: ${blocks.length}`);
  }
  // The core README's blocks are also checked for what they do (core-readme-check.ts), with the
  // consent cookies made by the CMPs' own formats.
  writeFileSync(
    join(docs, 'core-readme-check.ts'),
    readFileSync(join(root, 'tooling/quickstart/core-readme-check.ts')),
  );
  writeFileSync(
    join(docs, 'consent-fixtures.ts'),
    readFileSync(join(root, 'tooling/consent-fixtures/index.ts')),
  );
  run('npx', ['tsc', '-p', '.'], docs);
  execFileSync(process.execPath, [join('dist', 'core-readme-check.js')], { cwd: docs, stdio: 'inherit' });
  await checkCliReadme(root, docs, freePort);
  // The blocks that are whole programs also run, against a sandbox from its tarball.
  await runBlock(docs, 'packages-core-README-md-1.js', (events) =>
    events.some((e) => e.event.id === 'order_1001'),
  );
  // The other core blocks are modules (a request handler, a consent configuration) or print what
  // they find (the wire validator): each must load and run from the tarballs without an error.
  for (const block of [2, 3, 4]) await runBlock(docs, `packages-core-README-md-${block}.js`, () => true);
  await runBlock(docs, 'packages-sandbox-README-md-1.js', () => true);
  await runBlock(docs, 'packages-outbox-sqlite-README-md-1.js', (events) =>
    events.some((e) => e.event.id === 'lead_42'),
  );
  // The PostgreSQL outbox's Usage and transactional examples, on a throwaway server (the machine's
  // binaries as an unprivileged user, or PGlite; tooling/postgres prints which).
  const { startPostgres } = await import('../postgres/index.js');
  const postgres = await startPostgres();
  try {
    for (const [index, id] of [
      [1, 'lead_42'],
      [2, 'order_1001'],
    ]) {
      const database = await postgres.createDatabase(`quickstart_${index}`);
      await runBlock(
        docs,
        `packages-outbox-postgres-README-md-${index}.js`,
        (events) => events.some((e) => e.event.id === id),
        { DATABASE_URL: database },
      );
    }
  } finally {
    await postgres.stop();
  }
  console.log(
    `ok   documentation blocks type-check (tsc --strict): ${counts.join(', ')}; the Next.js README's file blocks build as the app below`,
  );

  const next = join(work, 'next');
  mkdirSync(next, { recursive: true });
  writeFileSync(join(next, 'package.json'), JSON.stringify({ name: 'quickstart-next', private: true }));
  // create-next-app's TypeScript settings, strict.
  writeFileSync(
    join(next, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        lib: ['dom', 'dom.iterable', 'esnext'],
        skipLibCheck: true,
        strict: true,
        noEmit: true,
        esModuleInterop: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        resolveJsonModule: true,
        isolatedModules: true,
        jsx: 'preserve',
        plugins: [{ name: 'next' }],
      },
      include: ['next-env.d.ts', '**/*.ts', '**/*.tsx', '.next/types/**/*.ts'],
      exclude: ['node_modules'],
    }),
  );
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--loglevel=error',
      tarball('core'),
      tarball('next'),
      tarball('sandbox'),
      'next@^16.4',
      'react@^19',
      'react-dom@^19',
      'server-only',
      '@types/react@^19',
      '@types/react-dom@^19',
      ...tools,
    ],
    next,
  );
  const files = fileBlocks(join(root, 'packages/next/README.md'));
  if (files.length < 5) throw new Error(`the Next.js README has ${files.length} file blocks`);
  for (const { path, code } of files) {
    mkdirSync(join(next, path, '..'), { recursive: true });
    writeFileSync(join(next, path), code);
  }
  // No CHATGPT_ADS_* variable is set: the build must not need secrets.
  const buildEnv = Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !key.startsWith('CHATGPT_ADS_')),
  );
  execFileSync(process.execPath, ['node_modules/next/dist/bin/next', 'build'], {
    cwd: next,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...buildEnv, NEXT_TELEMETRY_DISABLED: '1' },
  });
  await check(
    'Next.js',
    next,
    async (url, sandbox) => {
      await landingAndConversion(url, '/api/orders', '{}');
      const thanks = await send(`${url}/thanks?order=order_42`, {
        headers: { cookie: '__oaiq_consent=true' },
      });
      if (!thanks.text.includes('order_42')) throw new Error('the thanks page has no pixel for the order');
      if (thanks.text.includes('bzrcdn.openai.com') || !thanks.text.includes(new URL(sandbox.endpoint).host))
        throw new Error("the thanks page does not load the sandbox's stand-in pixel");
    },
    ['node_modules/next/dist/bin/next', 'start'],
  );
} catch (error) {
  failures++;
  console.log(`FAIL ${error instanceof Error ? error.message : error}`);
} finally {
  if (failures === 0) rmSync(work, { recursive: true, force: true });
}
console.log(
  `${failures === 0 ? 'quick starts: all delivered' : `quick starts: ${failures} failed (files kept in ${work})`}`,
);
process.exit(failures === 0 ? 0 : 1);
