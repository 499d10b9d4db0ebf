import { packageTests } from '@tooling/config/vitest';

export default packageTests({ test: { testTimeout: 120_000 } });
