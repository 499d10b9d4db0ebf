import { packageBuild } from '@tooling/config/tsup';

export default packageBuild({ entry: { index: 'src/index.ts', tcf: 'src/tcf.ts', node: 'node/index.ts' } });
