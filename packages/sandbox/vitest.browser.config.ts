import { packageTests } from '@tooling/config/vitest';

// Browser tests: real Chromium against a real sandbox. Run by `pnpm test:browser` (CI installs Chromium).
export default packageTests(
  {
    test: {
      include: ['test/**/*.browser.ts'],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      fileParallelism: false,
    },
  },
  { resultsFile: 'vitest-browser-results.json' },
);
