// Shared helpers of the benchmarks: child servers, percentiles, result files.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export const smoke = process.argv.includes('--smoke');

export function machine() {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function median(values) {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

const cpuReporter = fileURLToPath(new URL('./cpu-report.cjs', import.meta.url));

/**
 * Starts `node script args…` and resolves with its port once it prints `listening <port>`. With
 * `{ cpu: true }` the child is started with cpu-report.cjs preloaded and an IPC channel, so that
 * cpuOf(child) reads its process.cpuUsage().
 */
export function startChild(script, args, env = {}, { cpu = false, execArgv = [] } = {}) {
  const child = spawn(
    process.execPath,
    [...(cpu ? ['--require', cpuReporter] : []), ...execArgv, script, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit', ...(cpu ? ['ipc'] : [])],
      env: { ...process.env, ...env },
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = /listening (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]), output: () => out });
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}: ${out}`)));
  });
}

/** The CPU time (user + system, µs) a child started with `{ cpu: true }` has used so far. */
export function cpuOf(child) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child did not report its CPU time')), 5000);
    const onMessage = (message) => {
      if (!message?.cpu) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.cpu.user + message.cpu.system);
    };
    child.on('message', onMessage);
    child.send('cpu');
  });
}

/** Prints rows as a Markdown table (what docs/performance.md takes as it is). */
export function table(rows) {
  if (rows.length === 0) return;
  // Every column any row has, in the order they first appear.
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const cell = (value) =>
    typeof value === 'number'
      ? value.toLocaleString('en-US', { maximumFractionDigits: 2 })
      : String(value ?? '—');
  const numeric = columns.map((column) => rows.some((row) => typeof row[column] === 'number'));
  console.log(`| ${columns.join(' | ')} |`);
  console.log(`| ${numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`);
  for (const row of rows) console.log(`| ${columns.map((column) => cell(row[column])).join(' | ')} |`);
}

/** `value` beside its goal: "0.98 ✓" or "0.71 ✗". */
export function against(value, ok) {
  return `${value} ${ok ? '✓' : '✗'}`;
}

export function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.removeAllListeners('exit');
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export function save(name, data) {
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    new URL(`${name}.json`, dir),
    JSON.stringify({ date: new Date().toISOString(), machine: machine(), smoke, ...data }, null, 2),
  );
}

export function heading(text) {
  console.log(`\n## ${text}\n`);
}
