// Runs both README examples: boots each AppModule with the real Nest and sends through the sandbox.
import 'reflect-metadata';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startSandbox } from '@chatgpt-ads/sandbox';
import { Test } from '@nestjs/testing';
import { afterAll, expect, it, vi } from 'vitest';

const packageDir = join(import.meta.dirname, '..');
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
const blocks = [
  ...readme.slice(readme.indexOf('## Usage'), readme.indexOf('## Options')).matchAll(/```ts\n([\s\S]*?)```/g),
].map((m) => m[1]!);
const sandbox = await startSandbox({ port: 0 });
afterAll(() => sandbox.close());

async function load(index: number, exports = 'AppModule') {
  mkdirSync(join(packageDir, 'test-output'), { recursive: true });
  const file = join(packageDir, 'test-output', `readme-${index}.ts`);
  writeFileSync(
    file,
    `${blocks[index]!.replaceAll("'@chatgpt-ads/nestjs'", "'../dist/index.js'")}\nexport { ${exports} };\n`,
  );
  return await import(/* @vite-ignore */ file);
}

async function boot(AppModule: unknown) {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule as never] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return { app, url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}` };
}

it('has the two examples', () => {
  expect(blocks).toHaveLength(2);
  expect(blocks[0]).toContain('ChatgptAdsModule.forRoot(');
  expect(blocks[1]).toContain('ChatgptAdsModule.forRootAsync(');
});

it('forRoot, the service, the decorator and @ConversionId work as shown', async () => {
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
  vi.stubEnv('PORT', '0');
  // The block is a whole program: it boots the app itself.
  const { app } = (await load(0, 'app')) as { app: import('@nestjs/common').INestApplication };
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const granted = {
    cookie: '__oaiq_consent=true; __oppref=gAAAAB-nest-readme',
    'content-type': 'application/json',
  };
  const lead = await (
    await fetch(`${url}/leads`, {
      method: 'POST',
      headers: granted,
      body: JSON.stringify({ email: 'alex@example.com' }),
    })
  ).json();
  expect(lead.result.status).toBe('queued');
  expect(lead.pixel).toContain(`"event_id":"${lead.result.id}"`);
  expect((await fetch(`${url}/orders`, { method: 'POST', headers: granted })).status).toBe(201);
  expect((await (await fetch(`${url}/thanks`)).json()).eventId).toMatch(/^[0-9a-f-]{36}$/);
  await app.close();
  expect(sandbox.events().map((e) => [e.event.type, e.event.oppref])).toEqual([
    ['lead_created', 'gAAAAB-nest-readme'],
    ['order_created', 'gAAAAB-nest-readme'],
  ]);
  vi.unstubAllEnvs();
});

it('forRootAsync reads the configuration through @nestjs/config', async () => {
  sandbox.reset();
  vi.stubEnv('CHATGPT_ADS_PIXEL_ID', 'px_async_readme');
  vi.stubEnv('CHATGPT_ADS_API_KEY', 'sk_async_readme');
  vi.stubEnv('CHATGPT_ADS_ENDPOINT', sandbox.endpoint);
  const { app } = await boot((await load(1)).AppModule);
  const { ChatgptAdsService } = await import('../dist/index.js');
  await app
    .get(ChatgptAdsService)
    .track(
      { type: 'lead_created', id: 'async_readme' },
      { consent: 'granted', sourceUrl: 'https://s.example/' },
    );
  await app.close();
  expect(sandbox.events().map((e) => [e.pixelId, e.event.id])).toEqual([['px_async_readme', 'async_readme']]);
  vi.unstubAllEnvs();
});
