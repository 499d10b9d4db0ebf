import { packageBuild } from '@tooling/config/tsup';

export default packageBuild({ entry: ['src/index.ts', 'src/tcf.ts'] });
