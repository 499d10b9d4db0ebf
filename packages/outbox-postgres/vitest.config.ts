import { packageTests } from '@tooling/config/vitest';

export default packageTests({ test: { testTimeout: 60_000 } });
