// Throwaway PostgreSQL servers for tests, drills and benchmarks. A real cluster from the machine's
// binaries when there are any; PGlite (a real Postgres engine in WebAssembly) behind a socket otherwise.
// Either way the engine that ran is printed: a test never skips silently.
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the PostgreSQL server binaries are: PATH, /usr/local/bin, then the newest /usr/lib/postgresql/<v>/bin. */
export function findPostgresBinaries() {
  const candidates = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/local/bin'];
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((name) => /^\d+$/.test(name))
      .sort((a, b) => Number(b) - Number(a));
    for (const version of versions) candidates.push(`/usr/lib/postgresql/${version}/bin`);
  } catch {
    // No Debian layout.
  }
  for (const dir of candidates) {
    if (['initdb', 'pg_ctl', 'postgres'].every((name) => isExecutable(join(dir, name)))) return dir;
  }
  return undefined;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// PostgreSQL refuses to run as root: as root, every server command runs as `nobody`.
function unprivileged() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const ids = (flag) => Number(execFileSync('id', [flag, 'nobody'], { encoding: 'utf8' }).trim());
  const uid = ids('-u');
  const gid = ids('-g');
  const wrap = isExecutable('/usr/sbin/runuser')
    ? (file, args) => ['/usr/sbin/runuser', ['-u', 'nobody', '--', file, ...args]]
    : (file, args) => [
        'setpriv',
        ['--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--', file, ...args],
      ];
  return { uid, gid, wrap };
}

const live = new Set();
let exitHookInstalled = false;
function stopAllOnExit() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const server of live) server.stopSync();
  });
}

async function startCluster(bin, options) {
  const user = unprivileged();
  const root = mkdtempSync(join(tmpdir(), 'chatgpt-ads-pg-'));
  if (user) chownSync(root, user.uid, user.gid);
  const data = join(root, 'data');
  const log = join(root, 'server.log');
  const port = options.port ?? (await freePort());
  const exec = async (name, args) => {
    const [file, argv] = user ? user.wrap(join(bin, name), args) : [join(bin, name), args];
    try {
      return await run(file, argv, { cwd: root, env: { ...process.env, LC_ALL: 'C' } });
    } catch (error) {
      let tail = '';
      try {
        tail = execFileSync('tail', ['-n', '20', log], { encoding: 'utf8' });
      } catch {}
      throw new Error(
        `${name} ${args.join(' ')} failed: ${error.stderr || error.message}${tail ? `\n${tail}` : ''}`,
      );
    }
  };
  await exec('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    '--no-sync',
  ]);
  // Only loopback; no fsync unless asked (a throwaway cluster need not survive a power loss).
  const settings = [
    `-p ${port}`,
    "-c listen_addresses='127.0.0.1'",
    `-c unix_socket_directories='${root}'`,
    '-c max_connections=200',
    ...(options.durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ].join(' ');
  const ctl = (verb, extra = []) => exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', ...extra, verb]);
  await ctl('start', ['-o', settings]);
  const { stdout: versionLine } = await run(join(bin, 'postgres'), ['--version']);
  const version = versionLine.trim();
  let stopped = false;
  const server = {
    stopSync() {
      if (stopped) return;
      stopped = true;
      try {
        const [file, argv] = user
          ? user.wrap(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'])
          : [join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']];
        execFileSync(file, argv, { cwd: root, stdio: 'ignore' });
      } catch {}
      rmSync(root, { recursive: true, force: true });
    },
  };
  live.add(server);
  stopAllOnExit();
  const base = `postgres://postgres@127.0.0.1:${port}`;
  let databases = 0;
  const describe = `PostgreSQL server ${version.replace(/^postgres \(PostgreSQL\) /, '')} from ${bin}${user ? ' (as nobody)' : ''}`;
  if (!options.quiet) process.stderr.write(`[@tooling/postgres] engine: ${describe} on 127.0.0.1:${port}\n`);
  return {
    url: `${base}/postgres`,
    engine: 'postgres',
    description: describe,
    async createDatabase(name = `db${++databases}_${process.pid}`) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name))
        throw new TypeError(`database name ${JSON.stringify(name)}: use a-z, 0-9, _`);
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: `${base}/postgres` });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `${base}/${name}`;
    },
    async restart() {
      await ctl('restart', ['-m', 'fast', '-o', settings]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      live.delete(server);
      try {
        await ctl('stop', ['-m', 'fast']);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    },
  };
}

async function startPglite(options, reason) {
  let PGlite;
  let PGLiteSocketServer;
  try {
    ({ PGlite } = await import('@electric-sql/pglite'));
    ({ PGLiteSocketServer } = await import('@electric-sql/pglite-socket'));
  } catch (error) {
    throw new Error(
      `no PostgreSQL binaries (initdb, pg_ctl) on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin, and PGlite could not load (${error.message}); install PostgreSQL (Debian: apt-get install postgresql)`,
    );
  }
  const instances = [];
  const open = async (port) => {
    const db = await PGlite.create();
    // One connection at a time is PGlite's nature; the socket server queues the rest.
    const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1', maxConnections: 100 });
    await server.start();
    const instance = { db, server, port };
    instances.push(instance);
    return instance;
  };
  const first = await open(options.port ?? (await freePort()));
  const version = (await first.db.query('SHOW server_version')).rows[0].server_version;
  const describe = `PGlite ${version} (WebAssembly, through pglite-socket; ${reason})`;
  if (!options.quiet)
    process.stderr.write(`[@tooling/postgres] engine: ${describe} on 127.0.0.1:${first.port}\n`);
  const url = (port) => `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url: url(first.port),
    engine: 'pglite',
    description: describe,
    async createDatabase() {
      // PGlite holds one database: a new one is a new instance on its own port.
      return url((await open(await freePort())).port);
    },
    async restart() {
      // Drops every connection and listens again on the same port; the data stays.
      for (const instance of instances) {
        await instance.server.stop();
        instance.server = new PGLiteSocketServer({
          db: instance.db,
          port: instance.port,
          host: '127.0.0.1',
          maxConnections: 100,
        });
        await instance.server.start();
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const instance of instances) {
        await instance.server.stop();
        await instance.db.close();
      }
    },
  };
}

/** Which engine startPostgres(options) will run, known before it starts: 'postgres' or 'pglite'. */
export function plannedEngine(options = {}) {
  const choice = options.engine ?? process.env.CHATGPT_ADS_PG_ENGINE ?? 'auto';
  if (choice === 'pglite') return 'pglite';
  if (choice === 'postgres') return 'postgres';
  return (options.bin ?? findPostgresBinaries()) ? 'postgres' : 'pglite';
}

/**
 * Starts a throwaway PostgreSQL server on 127.0.0.1 and prints which engine runs it.
 * `engine`: 'auto' (default: binaries if found, else PGlite), 'postgres' (binaries or throw), 'pglite'.
 * The environment variable CHATGPT_ADS_PG_ENGINE sets the same choice.
 */
export async function startPostgres(options = {}) {
  const choice = options.engine ?? process.env.CHATGPT_ADS_PG_ENGINE ?? 'auto';
  if (!['auto', 'postgres', 'pglite'].includes(choice))
    throw new TypeError(`engine must be 'auto', 'postgres' or 'pglite', not ${JSON.stringify(choice)}`);
  if (choice !== 'pglite') {
    const bin = options.bin ?? findPostgresBinaries();
    if (bin && existsSync(bin)) return startCluster(bin, options);
    if (choice === 'postgres')
      throw new Error(
        'no PostgreSQL binaries (initdb, pg_ctl, postgres) on PATH, in /usr/local/bin or /usr/lib/postgresql/*/bin; install PostgreSQL (Debian: apt-get install postgresql)',
      );
  }
  return startPglite(options, choice === 'pglite' ? 'chosen' : 'no PostgreSQL binaries found');
}
