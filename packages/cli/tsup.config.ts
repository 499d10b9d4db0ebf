import { packageBuild } from '@tooling/config/tsup';

export default [
  packageBuild({ entry: ['src/index.ts'] }),
  // The binary: ESM only, with a shebang, not cleaning the library build beside it.
  packageBuild({
    entry: ['src/cli.ts'],
    format: ['esm'],
    dts: false,
    clean: false,
    banner: { js: '#!/usr/bin/env node' },
  }),
];
