import { packageTests } from '@tooling/config/vitest';

// The Next example driven by a real browser against `next start` (`pnpm test:browser`).
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
