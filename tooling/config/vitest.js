// The one test recipe: tests live beside the code as *.test.ts.
import { defineConfig, mergeConfig } from 'vitest/config';

/**
 * @param {import('vitest/config').ViteUserConfig} [overrides]
 * @example
 * // packages/x/vitest.config.ts
 * import { packageTests } from '@tooling/config/vitest';
 * export default packageTests();
 */
export function packageTests(overrides = {}) {
  return mergeConfig(
    defineConfig({
      test: {
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 20_000,
        // CI sums these files into one closing line (tooling/ci/summary.mjs).
        reporters: process.env.CI
          ? ['default', ['json', { outputFile: 'test-output/vitest-results.json' }]]
          : ['default'],
      },
    }),
    overrides,
  );
}
