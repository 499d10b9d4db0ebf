import { createRequire } from 'node:module';
import * as common from '@nestjs/common';
import { runConformance } from '@tooling/conformance';
import { expect, it } from 'vitest';
import { nestHarness } from '../../../packages/nestjs/test/harness.js';

it('imports of @nestjs/common resolve to NestJS 11', () => {
  const require = createRequire(import.meta.url);
  expect(require('@nestjs/common/package.json').version).toMatch(/^11\./);
  expect(common.Controller).toBe(require('@nestjs/common').Controller);
  expect(require('@nestjs/platform-fastify/package.json').version).toMatch(/^11\./);
});

runConformance(nestHarness('NestJS 11 (Express platform)'));
runConformance(nestHarness('NestJS 11 (Fastify platform)', 'fastify'));
