import { packageBuild } from '@tooling/config/tsup';

export default packageBuild();
