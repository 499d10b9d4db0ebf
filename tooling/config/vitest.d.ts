import type { ViteUserConfig } from 'vitest/config';
export declare function packageTests(
  overrides?: ViteUserConfig,
  options?: { resultsFile?: string },
): ViteUserConfig;
export declare function browserTests(overrides?: ViteUserConfig): ViteUserConfig;
