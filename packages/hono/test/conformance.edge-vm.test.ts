// The whole adapter conformance suite against the middleware running inside a real Edge runtime VM:
// the app, the adapter and core are bundled into one Web-standard script (./edge-vm/runtime.ts),
// evaluated in edge-runtime's EdgeRuntime and served over HTTP. Sends go out through the VM's fetch.
import { type ConformanceHarness, runConformance } from '@tooling/conformance';
import { expect, it } from 'vitest';
import { bundleEdgeApp, type EdgeApp, startEdgeApp } from './edge-vm/runtime.js';

const harness: ConformanceHarness = { name: 'Hono (Edge runtime VM)', start: startEdgeApp };

runConformance(harness, {
  extraTests({ sandbox, start, request }) {
    it('the app runs inside the VM: Web APIs only, and the adapter made its objects there', async () => {
      const app = (await start()) as EdgeApp;
      expect(app.runtime.evaluate('[typeof EdgeRuntime, typeof process, typeof require]')).toEqual([
        'string',
        'undefined',
        'undefined',
      ]);
      await request('/lead', { method: 'POST', headers: { cookie: '__oaiq_consent=true' } });
      const exposed = app.exposed();
      expect(exposed.length).toBeGreaterThan(3);
      // Objects from the VM's realm are not instances of this process's Object.
      for (const object of exposed) expect(object instanceof Object).toBe(false);
    });

    it("each response's conversions are sent inside the FetchEvent's waitUntil, before any shutdown", async () => {
      const app = (await start()) as EdgeApp;
      const answer = await request('/lead', { method: 'POST', headers: { cookie: '__oaiq_consent=true' } });
      const { id } = JSON.parse(answer.text) as { id: string };
      await app.settled();
      expect(
        sandbox()
          .events()
          .map((received) => received.event.id),
      ).toEqual([id]);
      expect(sandbox().requests()).toHaveLength(1);
    });
  },
});

it('the edge bundle fails to build when anything imports a Node built-in', async () => {
  await expect(
    bundleEdgeApp({ contents: "import { createHash } from 'node:crypto'; createHash;" }),
  ).rejects.toThrow(/Node built-in "node:crypto"/);
  await expect(bundleEdgeApp({ contents: "import { Buffer } from 'buffer'; Buffer;" })).rejects.toThrow(
    /Node built-in "buffer"/,
  );
  // The conformance app itself builds: nothing it bundles reaches for Node.
  await expect(bundleEdgeApp()).resolves.toContain('lead_created');
});
