import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
import { type CliIO, paint, parseFlags, printJson, table, UsageError } from '../shared.js';

export const OUTBOX_HELP = `Usage: chatgpt-ads outbox <list|replay|purge> --file <outbox.db> [--id <event id>]… [--limit 50] [--yes] [--json]

Looks after the dead letters of a SQLite outbox (@chatgpt-ads/outbox-sqlite):
  list     dead letters, oldest first, with their reason and the endpoint's message
  replay   put dead letters back in the queue (all, or those --id); the next sender delivers them
  purge    delete dead letters for good (all, or those --id); asks first on a terminal

Options:
  --file <outbox.db>   the outbox file (required; it must exist: a typo never creates an empty one)
  --id <event id>      only these dead letters (repeatable)
  --limit <n>          list at most n dead letters (default 50)
  --yes, -y            purge without asking (required when no terminal can answer)
  --json               print the result as JSON (see the README for the shapes)

The file may be in use by running senders.`;

export async function outbox(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      file: { type: 'string' },
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
  if (!flags.file) throw new UsageError('--file <outbox.db> is required');
  const limit = Number(flags.limit ?? 50);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UsageError(`--limit must be a positive whole number, not ${flags.limit}`);
  const path = resolve(io.cwd, flags.file);
  // Opening a missing path would create an empty outbox and report "0 dead letters": a typo
  // would look like good news.
  if (!existsSync(path)) throw new UsageError(`no outbox file at ${path}: check --file`);
  const store = new SqliteOutbox({ path });
  const json = Boolean(flags.json);
  try {
    const letters = await store.deadLetters();
    if (action === 'list') {
      const waiting = await store.size();
      if (json) {
        printJson(io, {
          ok: true,
          action,
          file: path,
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
      const question = `Delete ${chosen.length} dead letter(s) from ${path} for good?`;
      if (!io.confirm)
        throw new UsageError(
          `purge deletes ${chosen.length} dead letter(s) for good: pass --yes to confirm (there is no terminal to ask)`,
        );
      if (!(await io.confirm(question))) {
        if (json) printJson(io, { ok: false, action, file: path, count: 0, unknownIds, cancelled: true });
        io.stderr('Nothing deleted.\n');
        return 1;
      }
    }
    const keys = flags.id ? chosen.map((l) => l.record.key) : undefined;
    const count =
      chosen.length === 0 ? 0 : action === 'replay' ? await store.replay(keys) : await store.purge(keys);
    if (json) printJson(io, { ok: true, action, file: path, count, unknownIds });
    else
      io.stdout(
        `${paint(io, 'stdout').green('✔')} ${action === 'replay' ? 'Replayed' : 'Purged'} ${count} dead letter(s)\n`,
      );
    return 0;
  } finally {
    store.close();
  }
}
