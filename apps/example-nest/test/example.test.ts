import { type Sandbox, startSandbox } from '@chatgpt-ads/sandbox';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startExampleNest } from '../src/app.js';

let sandbox: Sandbox;
let app: INestApplication;
let url: string;
beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  ({ app, url } = await startExampleNest(
    { endpoint: sandbox.endpoint, pixelScriptUrl: sandbox.pixelScriptUrl },
    0,
  ));
});
afterAll(async () => {
  await sandbox.close();
});

it('lands, captures the click id after consent, and sends the decorated JSON order on app.close()', async () => {
  const landing = await fetch(`${url}/?oppref=nest-click`, { headers: { cookie: 'demo_consent=granted' } });
  expect(landing.headers.getSetCookie()[0]).toMatch(/^__oppref=nest-click;/);
  expect(await landing.text()).toContain(sandbox.pixelScriptUrl);
  const order = await fetch(`${url}/api/orders`, {
    method: 'POST',
    headers: { cookie: 'demo_consent=granted; __oppref=nest-click' },
  });
  const { id } = await order.json();
  await app.close();
  expect(sandbox.events().map((e) => [e.event.id, e.event.oppref])).toEqual([[id, 'nest-click']]);
});
