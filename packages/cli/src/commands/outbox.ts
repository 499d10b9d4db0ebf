import { resolve } from 'node:path';
import { SqliteOutbox } from '@chatgpt-ads/outbox-sqlite';
import { type CliIO, parseFlags, table, UsageError } from '../shared.js';

export const OUTBOX_HELP = `Usage: chatgpt-ads outbox <list|replay|purge> --file <outbox.db> [--id <event id>]… [--limit 50]

Looks after the dead letters of a SQLite outbox (@chatgpt-ads/outbox-sqlite):
  list     dead letters, oldest first, with their reason and the endpoint's message
  replay   put dead letters back in the queue (all, or those --id); the next sender delivers them
  purge    delete dead letters for good (all, or those --id)
The file may be in use by running senders.`;

export async function outbox(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(
    argv,
    {
      help: { type: 'boolean', short: 'h' },
      file: { type: 'string' },
      id: { type: 'string', multiple: true },
      limit: { type: 'string' },
    },
    true,
  );
  if (flags.help) {
    io.stdout(`${OUTBOX_HELP}\n`);
    return 0;
  }
  const [action] = positionals;
  if (!action || !['list', 'replay', 'purge'].includes(action))
    throw new UsageError('say list, replay or purge');
  if (!flags.file) throw new UsageError('--file <outbox.db> is required');
  const store = new SqliteOutbox({ path: resolve(io.cwd, flags.file) });
  try {
    const letters = await store.deadLetters();
    const keysOf = (ids: readonly string[]) =>
      letters.filter((l) => ids.includes(l.record.id)).map((l) => l.record.key);
    if (action === 'list') {
      const limit = Number(flags.limit ?? 50);
      io.stdout(`${letters.length} dead letter(s); ${await store.size()} event(s) waiting or in flight\n`);
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
    const keys = flags.id ? keysOf(flags.id) : undefined;
    if (flags.id && keys!.length < flags.id.length)
      io.stderr(`warning: ${flags.id.length - keys!.length} id(s) are not dead letters\n`);
    const count = action === 'replay' ? await store.replay(keys) : await store.purge(keys);
    io.stdout(`${action === 'replay' ? 'Replayed' : 'Purged'} ${count} dead letter(s)\n`);
    return 0;
  } finally {
    store.close();
  }
}
