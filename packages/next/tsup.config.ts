import { packageBuild } from '@tooling/config/tsup';

export default [
  // The server entry points import the client component by package name, so it stays its own
  // module and keeps its "use client" directive (no tree-shaking pass, which would drop it).
  packageBuild({ entry: ['src/pixel-client.ts'], banner: { js: "'use client';" }, treeshake: false }),
  packageBuild({
    entry: ['src/index.ts', 'src/proxy.ts', 'src/config.ts'],
    external: ['@chatgpt-ads/next/pixel-client'],
    clean: false,
  }),
];
