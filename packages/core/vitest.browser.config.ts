import { packageTests } from '@tooling/config/vitest';

// Browser tests of the client-side snippets (`pnpm test:browser`).
export default packageTests(
  { test: { include: ['test/**/*.browser.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
  { resultsFile: 'vitest-browser-results.json' },
);
