import { runConformance } from '@tooling/conformance';
import { nextExtraTests, nextHarness } from './harness.js';

runConformance(nextHarness('Next.js 16 (proxy + route handlers)'), { extraTests: nextExtraTests });
