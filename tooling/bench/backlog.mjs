// 5. Backlog memory: RSS of a process holding 100,000 queued events while the endpoint is down
// (memory outbox), measured in a fresh child process against the same process before tracking.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { heading, save, smoke } from './lib.mjs';

export async function run() {
  heading('Backlog memory during an outage');
  const count = smoke ? 10_000 : 100_000;
  const child = fileURLToPath(new URL('./backlog-child.mjs', import.meta.url));
  const out = execFileSync(process.execPath, ['--expose-gc', child, String(count)], { encoding: 'utf8' });
  const row = JSON.parse(out.trim().split('\n').at(-1));
  console.table([row]);
  save('backlog', { row });
  return row;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
