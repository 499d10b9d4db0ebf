import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { packageTests } from '@tooling/config/vitest';

// The Next package and its harness resolve `next` from their own folder (Next 16). Point those
// imports at this package's Next 15 instead.
const require = createRequire(import.meta.url);
const next = dirname(require.resolve('next/package.json'));

export default packageTests({
  resolve: {
    alias: [
      { find: /^next\/server$/, replacement: `${next}/server.js` },
      { find: /^next\/headers$/, replacement: `${next}/headers.js` },
    ],
  },
});
