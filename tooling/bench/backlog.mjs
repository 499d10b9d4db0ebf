// 5. Backlog memory: RSS of a process holding 100,000 queued events while the endpoint is down
// (memory and SQLite outboxes), each measured in a fresh child process against itself before tracking.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heading, save, smoke } from './lib.mjs';

export async function run() {
  heading('Backlog memory during an outage');
  const count = smoke ? 10_000 : 100_000;
  const child = fileURLToPath(new URL('./backlog-child.mjs', import.meta.url));
  const rows = ['memory', 'sqlite'].map((kind) => {
    const out = execFileSync(process.execPath, ['--expose-gc', child, String(count), kind], {
      encoding: 'utf8',
    });
    return JSON.parse(out.trim().split('\n').at(-1));
  });
  console.table(rows);
  save('backlog', { rows });
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
