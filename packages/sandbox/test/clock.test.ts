import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

// A moment well away from the machine's clock, so an event stamped by the wrong clock cannot match.
const INJECTED = Date.UTC(2024, 0, 15, 12, 0, 0);
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, now: () => INJECTED });
});
afterAll(() => sandbox.close());

it('stamps an image-tag pixel hit with the injected clock', async () => {
  const response = await fetch(
    `${sandbox.url}/v1/sdk/events?pid=px_test&event=lead_created&event_id=img_clock&data[type]=customer_action`,
    { headers: { referer: 'https://shop.example/thanks' } },
  );
  expect(response.status).toBe(200);
  const [stored] = sandbox.events();
  expect(stored?.event.timestamp_ms).toBe(INJECTED);
  expect(stored?.receivedAt).toBe(INJECTED);
});
