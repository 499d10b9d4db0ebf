import { browserTests } from '@tooling/config/vitest';

// Real Chromium (Debian's, through playwright-core), run by `pnpm test:browser`.
export default browserTests();
