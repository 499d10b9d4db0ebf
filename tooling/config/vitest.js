// The one test recipe: tests live beside the code as *.test.ts.
import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 * @param {{ resultsFile?: string }} [options] where CI writes the JSON results (under test-output/)
 * @example
 * // packages/x/vitest.config.ts
 * import { packageTests } from '@tooling/config/vitest';
 * export default packageTests();
 */
export function packageTests(overrides = {}, options = {}) {
  const resultsFile = `test-output/${options.resultsFile ?? 'vitest-results.json'}`;
  // mergeConfig concatenates arrays; an `include` given here replaces the default instead.
  const { include = ['src/**/*.test.ts', 'test/**/*.test.ts'], ...test } = overrides.test ?? {};
  return mergeConfig(
    defineConfig({
      test: {
        include,
        // Limits, not measurements: generous so a busy machine (CI beside a build) never fails a test.
        testTimeout: 30_000,
        hookTimeout: 60_000,
        // CI sums these files into one closing line (tooling/ci/summary.mjs); written on every run,
        // so turbo always finds the task's declared output and caches it without a warning.
        reporters: ['default', ['json', { outputFile: resultsFile }]],
      },
    }),
    { ...overrides, test },
  );
}

/**
 * Browser tests (`*.browser.ts`, run by `pnpm test:browser`): one file at a time, generous timeouts.
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 * @example
 * // vitest.browser.config.ts
 * import { browserTests } from '@tooling/config/vitest';
 * export default browserTests();
 */
export function browserTests(overrides = {}) {
  return packageTests(
    mergeConfig(
      {
        test: {
          include: ['test/**/*.browser.ts'],
          testTimeout: 90_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      overrides,
    ),
    { resultsFile: 'vitest-browser-results.json' },
  );
}
