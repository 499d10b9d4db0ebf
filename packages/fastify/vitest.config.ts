import { packageTests } from '@tooling/config/vitest';

export default packageTests();
