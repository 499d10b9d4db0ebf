import { packageTests } from '@tooling/config/vitest';

// The middleware runs a second time inside the Edge runtime (Web APIs only), as core's hashing does.
// The whole conformance suite also runs against it bundled and evaluated in a real EdgeRuntime VM
// (test/conformance.edge-vm.test.ts): that file runs in the node project, since it hosts the VM.
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
