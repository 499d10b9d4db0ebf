// Adds up the vitest JSON results of every package into one closing line: "N passed, N failed".
// Exits non-zero when a package that has tests wrote no results, or when nothing ran at all.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
for (const group of ['packages', 'apps', 'tooling']) {
  const dir = join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const manifest = join(dir, name, 'package.json');
    if (!existsSync(manifest)) continue;
    const scripts = JSON.parse(readFileSync(manifest, 'utf8')).scripts ?? {};
    if (!scripts.test?.includes('vitest')) continue;
    const results = join(dir, name, 'test-output', 'vitest-results.json');
    if (!existsSync(results)) {
      missing.push(`${group}/${name}`);
      continue;
    }
    for (const file of ['vitest-results.json', 'vitest-browser-results.json']) {
      const path = join(dir, name, 'test-output', file);
      if (!existsSync(path)) continue;
      const report = JSON.parse(readFileSync(path, 'utf8'));
      passed += report.numPassedTests;
      failed += report.numFailedTests;
      skipped += report.numPendingTests + (report.numTodoTests ?? 0);
      console.log(
        `${group}/${name} (${file}): ${report.numPassedTests} passed, ${report.numFailedTests} failed`,
      );
    }
  }
}
if (missing.length > 0) console.log(`no test results from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || missing.length > 0 || passed === 0 ? 1 : 0);
