import { packageBuild } from '@tooling/config/tsup';

export default packageBuild({ entry: ['src/main.ts', 'src/app.ts'], format: ['esm'], dts: false });
