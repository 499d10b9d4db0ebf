// 5. Backlog memory: RSS of a process holding 100,000 queued events (10,000 in smoke) while the
// endpoint is down (memory and SQLite outboxes), each measured in a fresh child process against
// itself before tracking. Goal: ≤ 120 MB RSS with the backlog, for each outbox.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { against, heading, save, smoke, table } from './lib.mjs';

const GOAL_MB = 120;

export async function run() {
  const count = smoke ? 10_000 : 100_000;
  heading(`Backlog memory during an outage (${count.toLocaleString('en-US')} events)`);
  const child = fileURLToPath(new URL('./backlog-child.mjs', import.meta.url));
  const rows = ['memory', 'sqlite'].map((kind) => {
    const out = execFileSync(process.execPath, ['--expose-gc', child, String(count), kind], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1));
  });
  table(
    rows.map((row) => ({
      ...row,
      'RSS with backlog MB': against(row['RSS with backlog MB'], row['RSS with backlog MB'] <= GOAL_MB),
      goal: `≤ ${GOAL_MB} MB`,
    })),
  );
  save('backlog', { rows, goalMb: GOAL_MB });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
