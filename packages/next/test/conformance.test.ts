import { runConformance } from '@tooling/conformance';
import { nextHarness } from './harness.js';

runConformance(nextHarness('Next.js 16 (proxy + route handlers)'));
