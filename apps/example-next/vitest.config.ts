import { packageTests } from '@tooling/config/vitest';

// These tests run the built app with `next start` (turbo builds it first).
export default packageTests({ test: { testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false } });
