import { packageTests } from '@tooling/config/vitest';

// The middleware runs a second time inside the Edge runtime (Web APIs only), as core's hashing does.
const limits = { testTimeout: 30_000, hookTimeout: 60_000 };
export default packageTests({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/**/*.edge.test.ts'],
          ...limits,
        },
      },
      { test: { name: 'edge', environment: 'edge-runtime', include: ['test/**/*.edge.test.ts'], ...limits } },
    ],
  },
});
