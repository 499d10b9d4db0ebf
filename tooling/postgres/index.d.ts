/**
 * A throwaway PostgreSQL server on 127.0.0.1.
 *
 * @example
 * const server = await startPostgres();
 * const pool = new pg.Pool({ connectionString: server.url });
 * // …
 * await pool.end();
 * await server.stop();
 */
export interface ThrowawayPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  /** Which engine runs: a real server from the machine's binaries, or PGlite where there are none. */
  readonly engine: 'postgres' | 'pglite';
  /** One line naming the engine, its version and where it came from (also printed to stderr at start). */
  readonly description: string;
  /** Creates an empty database and returns its URL (PGlite: a new instance on its own port). */
  createDatabase(name?: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection is dropped; the data stays (PGlite: the socket server restarts). */
  restart(): Promise<void>;
  /** Stops the server and deletes its data directory. Also done at process exit if forgotten. */
  stop(): Promise<void>;
}

/**
 * Options of {@link startPostgres}.
 *
 * @example
 * await startPostgres({ engine: 'postgres', durable: true });
 */
export interface StartPostgresOptions {
  /** 'auto' (default; also `CHATGPT_ADS_PG_ENGINE`): binaries when found, else PGlite. 'postgres' throws without binaries. */
  engine?: 'auto' | 'postgres' | 'pglite';
  /** Folder holding `initdb`, `pg_ctl` and `postgres`. Default: {@link findPostgresBinaries}. */
  bin?: string;
  /** Port on 127.0.0.1. Default: a free one. */
  port?: number;
  /** Keep fsync on (default off: a throwaway cluster need not survive a power loss). */
  durable?: boolean;
  /** Do not print the engine line. */
  quiet?: boolean;
}

/**
 * Starts a throwaway PostgreSQL server: `initdb` + `pg_ctl` from the machine (as `nobody` when the
 * process is root, in a temporary folder that user owns), or PGlite through `pglite-socket` where no
 * binaries exist. Prints which engine ran.
 *
 * @example
 * import { startPostgres } from '@tooling/postgres';
 * const server = await startPostgres();
 * console.log(server.url, server.engine);
 * await server.stop();
 */
export function startPostgres(options?: StartPostgresOptions): Promise<ThrowawayPostgres>;

/**
 * The folder holding `initdb`, `pg_ctl` and `postgres`: PATH, /usr/local/bin, then the newest
 * /usr/lib/postgresql/<version>/bin; `undefined` when none has all three.
 *
 * @example
 * findPostgresBinaries(); // '/usr/lib/postgresql/15/bin'
 */
export function findPostgresBinaries(): string | undefined;

/**
 * A free TCP port on 127.0.0.1.
 *
 * @example
 * const port = await freePort();
 */
export function freePort(): Promise<number>;

/**
 * Which engine {@link startPostgres} will run with these options, known before it starts: tests that
 * need concurrent sessions (PGlite runs one query at a time) can say up front that they are skipped.
 *
 * @example
 * const needsServer = plannedEngine() === 'postgres' ? it : it.skip;
 */
export function plannedEngine(options?: Pick<StartPostgresOptions, 'engine' | 'bin'>): 'postgres' | 'pglite';
