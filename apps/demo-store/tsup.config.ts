import { packageBuild } from '@tooling/config/tsup';

export default packageBuild({ entry: ['src/demo.ts', 'src/store.ts'], format: ['esm'], dts: false });
