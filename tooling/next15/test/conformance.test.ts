import { createRequire } from 'node:module';
import { runConformance } from '@tooling/conformance';
import * as server from 'next/server';
import { expect, it } from 'vitest';
import { nextExtraTests, nextHarness } from '../../../packages/next/test/harness.js';

it('imports of next/server resolve to Next.js 15', () => {
  const require = createRequire(import.meta.url);
  expect(require('next/package.json').version).toMatch(/^15\./);
  expect(server.NextResponse).toBe(require('next/server').NextResponse);
});

runConformance(nextHarness('Next.js 15 (middleware + route handlers)'), { extraTests: nextExtraTests });
