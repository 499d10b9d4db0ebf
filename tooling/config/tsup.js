// The one build recipe for publishable packages: ESM + CJS + declarations, no bundled dependencies.
import { defineConfig } from 'tsup';

/**
 * @param {import('tsup').Options} [overrides]
 * @example
 * // packages/x/tsup.config.ts
 * import { packageBuild } from '@tooling/config/tsup';
 * export default packageBuild({ entry: ['src/index.ts'] });
 */
export function packageBuild(overrides = {}) {
  return defineConfig({
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    treeshake: true,
    ...overrides,
  });
}
