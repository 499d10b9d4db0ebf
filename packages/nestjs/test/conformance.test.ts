import { runConformance } from '@tooling/conformance';
import { nestHarness } from './harness.js';

runConformance(nestHarness('NestJS 12 (Express platform)'));
runConformance(nestHarness('NestJS 12 (Fastify platform)', 'fastify'));
