import { packageTests } from '@tooling/config/vitest';

// The theme app embed driven by a real browser (`pnpm test:browser`).
export default packageTests(
  {
    test: {
      include: ['test/**/*.browser.ts'],
      testTimeout: 90_000,
      hookTimeout: 60_000,
      fileParallelism: false,
    },
  },
  { resultsFile: 'vitest-browser-results.json' },
);
