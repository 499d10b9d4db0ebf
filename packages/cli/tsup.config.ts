import { packageBuild } from '@tooling/config/tsup';

export default [
  // shims: the CommonJS build finds the import worker beside it through import.meta.url too.
  packageBuild({ entry: ['src/index.ts'], shims: true }),
  // The binary: ESM only, with a shebang, not cleaning the library build beside it.
  packageBuild({
    entry: ['src/cli.ts', 'src/import-worker.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  }),
];
