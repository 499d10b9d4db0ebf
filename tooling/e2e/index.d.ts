import type { Browser, LaunchOptions, Page } from 'playwright-core';
export declare function chromiumPath(): string | undefined;
export declare function launchBrowser(options?: LaunchOptions): Promise<Browser>;
export declare function collectPageErrors(page: Page): string[];
