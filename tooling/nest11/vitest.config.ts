import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { packageTests } from '@tooling/config/vitest';

// The Nest package's dist and its tests resolve @nestjs/* from their own folder (Nest 12). Point
// every such import at this package's Nest 11 instead, so the whole app runs on Nest 11.
const require = createRequire(import.meta.url);
const nest = (name: string) => dirname(require.resolve(`${name}/package.json`));

export default packageTests({
  resolve: {
    alias: [
      { find: /^@nestjs\/common$/, replacement: `${nest('@nestjs/common')}/index.js` },
      { find: /^@nestjs\/core$/, replacement: `${nest('@nestjs/core')}/index.js` },
      { find: /^@nestjs\/testing$/, replacement: `${nest('@nestjs/testing')}/index.js` },
      { find: /^@nestjs\/platform-fastify$/, replacement: `${nest('@nestjs/platform-fastify')}/index.js` },
    ],
  },
  test: { include: ['test/**/*.test.ts', '../../packages/nestjs/test/module.test.ts'] },
});
