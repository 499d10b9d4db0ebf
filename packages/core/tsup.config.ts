import { packageBuild } from '@tooling/config/tsup';

export default packageBuild({
  entry: { index: 'src/index.ts', wire: 'src/wire.ts', tcf: 'src/tcf.ts', node: 'node/index.ts' },
});
