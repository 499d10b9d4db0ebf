import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { DeadLetter } from '@chatgpt-ads/core';
import { PostgresOutbox } from '@chatgpt-ads/outbox-postgres';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
import { type CliIO, paint, parseFlags, printJson, table, UsageError } from '../shared.js';

export const OUTBOX_HELP = `Usage: chatgpt-ads outbox <list|replay|purge> (--file <outbox.db> | --postgres <url>) [--id <event id>]… [--limit 50] [--yes] [--json]

Looks after the dead letters of a SQLite outbox (@chatgpt-ads/outbox-sqlite) or a PostgreSQL
outbox (@chatgpt-ads/outbox-postgres):
  list     dead letters, oldest first, with their reason and the endpoint's message
  replay   put dead letters back in the queue (all, or those --id); the next sender delivers them
  purge    delete dead letters for good (all, or those --id); asks first on a terminal

Options:
  --file <outbox.db>   the outbox file (it must exist: a typo never creates an empty one)
  --postgres <url>     the PostgreSQL database (default: DATABASE_URL when --file is not given);
                       the outbox table must exist: a wrong database never gets an empty one
  --schema <name>      schema of the PostgreSQL outbox table (default public)
  --table <name>       PostgreSQL outbox table (default chatgpt_ads_outbox)
  --id <event id>      only these dead letters (repeatable)
  --limit <n>          list at most n dead letters (default 50)
  --yes, -y            purge without asking (required when no terminal can answer)
  --json               print the result as JSON (see the README for the shapes)

The outbox may be in use by running senders.`;

interface Store {
  deadLetters(): Promise<DeadLetter[]>;
  size(): Promise<number>;
  replay(keys?: readonly string[]): Promise<number>;
  purge(keys?: readonly string[]): Promise<number>;
  close(): void | Promise<void>;
}

/** The database URL as shown back to the user: never the password. */
function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '';
    return parsed.href.replace(/:@/, '@');
  } catch {
    throw new UsageError('--postgres must be a URL such as postgres://user:password@host:5432/db');
  }
}

export async function outbox(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      file: { type: 'string' },
      postgres: { type: 'string' },
      schema: { type: 'string' },
      table: { type: 'string' },
      id: { type: 'string', multiple: true },
      limit: { type: 'string' },
      yes: { type: 'boolean', short: 'y' },
      json: { type: 'boolean' },
    },
    true,
  );
  if (flags.help) {
    io.stdout(`${OUTBOX_HELP}\n`);
    return 0;
  }
  const [action, ...extra] = positionals;
  if (!action || !['list', 'replay', 'purge'].includes(action))
    throw new UsageError(
      action ? `unknown action "${action}": say list, replay or purge` : 'say list, replay or purge',
    );
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (flags.file !== undefined && flags.postgres !== undefined)
    throw new UsageError('give --file (a SQLite outbox) or --postgres (a PostgreSQL outbox), not both');
  const postgresUrl = flags.postgres ?? (flags.file === undefined ? io.env.DATABASE_URL?.trim() : undefined);
  if (flags.file === undefined && !postgresUrl)
    throw new UsageError('--file <outbox.db> or --postgres <url> is required (or set DATABASE_URL)');
  if (postgresUrl === undefined && (flags.schema !== undefined || flags.table !== undefined))
    throw new UsageError('--schema and --table name a PostgreSQL outbox: give --postgres <url> too');
  const limit = Number(flags.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive whole number, not ${flags.limit}`);
  let store: Store;
  let where: { file: string } | { database: string };
  let place: string;
  if (postgresUrl) {
    const database = displayUrl(postgresUrl);
    let outbox: PostgresOutbox;
    try {
      outbox = new PostgresOutbox({
        connectionString: postgresUrl,
        ...(flags.schema !== undefined ? { schema: flags.schema } : {}),
        ...(flags.table !== undefined ? { table: flags.table } : {}),
        create: false,
        retryMs: 0,
        poolSize: 1,
      });
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    try {
      await outbox.migrate();
    } catch (error) {
      await outbox.close();
      // A wrong database or table name is the user's to fix, like a --file typo.
      if ((error as { code?: string }).code === 'ERR_OUTBOX_MISSING')
        throw new UsageError(
          `no outbox table ${outbox.table} in ${database}: check --postgres, --schema and --table`,
        );
      throw error;
    }
    store = outbox;
    where = { database };
    place = `${outbox.table} in ${database}`;
  } else {
    const path = resolve(io.cwd, flags.file!);
    // Opening a missing path would create an empty outbox and report "0 dead letters": a typo
    // would look like good news.
    if (!existsSync(path)) throw new UsageError(`no outbox file at ${path}: check --file`);
    store = new SqliteOutbox({ path });
    where = { file: path };
    place = path;
  }
  const json = Boolean(flags.json);
  try {
    const letters = await store.deadLetters();
    if (action === 'list') {
      const waiting = await store.size();
      if (json) {
        printJson(io, {
          ok: true,
          action,
          ...where,
          deadLetters: letters.length,
          waiting,
          letters: letters.slice(0, limit).map((l) => ({
            id: l.record.id,
            reason: l.reason,
            at: new Date(l.at).toISOString(),
            message: l.message,
          })),
        });
        return 0;
      }
      io.stdout(`${letters.length} dead letter(s); ${waiting} event(s) waiting or in flight\n`);
      if (letters.length > 0) {
        io.stdout(
          `${table([
            ['id', 'reason', 'dead since', 'message'],
            ...letters
              .slice(0, limit)
              .map((l) => [l.record.id, l.reason, new Date(l.at).toISOString(), l.message.slice(0, 80)]),
          ])}\n`,
        );
      }
      return 0;
    }
    const chosen = flags.id ? letters.filter((l) => flags.id!.includes(l.record.id)) : letters;
    const unknownIds = (flags.id ?? []).filter((id) => !letters.some((l) => l.record.id === id));
    if (unknownIds.length > 0 && !json)
      io.stderr(`warning: not dead letters, left alone: ${unknownIds.join(', ')}\n`);
    if (action === 'purge' && chosen.length > 0 && !flags.yes) {
      const question = `Delete ${chosen.length} dead letter(s) from ${place} for good?`;
      if (!io.confirm)
        throw new UsageError(
          `purge deletes ${chosen.length} dead letter(s) for good: pass --yes to confirm (there is no terminal to ask)`,
        );
      if (!(await io.confirm(question))) {
        if (json) printJson(io, { ok: false, action, ...where, count: 0, unknownIds, cancelled: true });
        io.stderr('Nothing deleted.\n');
        return 1;
      }
    }
    const keys = flags.id ? chosen.map((l) => l.record.key) : undefined;
    const count =
      chosen.length === 0 ? 0 : action === 'replay' ? await store.replay(keys) : await store.purge(keys);
    if (json) printJson(io, { ok: true, action, ...where, count, unknownIds });
    else
      io.stdout(
        `${paint(io, 'stdout').green('✔')} ${action === 'replay' ? 'Replayed' : 'Purged'} ${count} dead letter(s)\n`,
      );
    return 0;
  } finally {
    await store.close();
  }
}
