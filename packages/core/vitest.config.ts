import { defineConfig } from 'vitest/config';

// Hashing and event building run a second time inside the Edge runtime, where only Web APIs exist.
export default defineConfig({
  test: {
    // CI sums these files into one closing line (tooling/ci/summary.mjs).
    reporters: ['default', ['json', { outputFile: 'test-output/vitest-results.json' }]],
    projects: [
      {
        test: {
          name: 'node',
          include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'edge',
          environment: 'edge-runtime',
          include: ['src/normalize.test.ts', 'src/build.test.ts', 'test/golden.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
