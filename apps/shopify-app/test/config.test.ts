// shopify.app.toml and shopify.web.toml as Shopify CLI reads them: embedded, Shopify-managed
// installation, the webhooks the app answers, and a web process whose commands exist.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { deliver, type StartedApp, startApp } from './helpers.js';

const root = join(import.meta.dirname, '..');
const toml = <T>(file: string) => parse(readFileSync(join(root, file), 'utf8')) as T;
type Subscription = { topics?: string[]; compliance_topics?: string[]; uri: string };

let app: StartedApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(() => app?.close());

it('shopify.app.toml: embedded, Shopify-managed installation with read_orders, and every webhook on a route that checks its signature', async () => {
  const config = toml<{
    embedded: boolean;
    application_url: string;
    access_scopes: unknown;
    webhooks: { api_version: string; subscriptions: Subscription[] };
  }>('shopify.app.toml');
  expect(config.embedded).toBe(true);
  expect(config.access_scopes).toEqual({ scopes: 'read_orders', use_legacy_install_flow: false });
  const subscriptions = config.webhooks.subscriptions;
  expect(subscriptions.flatMap((s) => s.topics ?? []).sort()).toEqual(['app/uninstalled', 'orders/create']);
  expect(subscriptions.flatMap((s) => s.compliance_topics ?? []).sort()).toEqual([
    'customers/data_request',
    'customers/redact',
    'shop/redact',
  ]);
  for (const { uri, topics, compliance_topics } of subscriptions) {
    const topic = (topics ?? compliance_topics)![0]!;
    // A route that exists answers a forged delivery 401 (an unknown path would be 404).
    const forged = await deliver(app.base, uri, topic, '{}', { secret: 'forged' });
    expect({ uri, status: forged.status }).toEqual({ uri, status: 401 });
  }
  expect(new URL(config.application_url).pathname).toBe('/');
  expect(config.webhooks.api_version).toBe('2025-10');
});

it('shopify.web.toml: one web process whose dev and build commands are scripts of this package', () => {
  const web = toml<{ roles: string[]; port?: number; commands: { dev: string; build: string } }>(
    'shopify.web.toml',
  );
  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts as Record<
    string,
    string
  >;
  expect(web.roles).toEqual(['frontend', 'backend']);
  for (const command of [web.commands.dev, web.commands.build]) {
    const script = /^pnpm run (\S+)$/.exec(command)?.[1];
    expect(script && scripts[script]).toBeTruthy();
  }
  // The port is the one Shopify CLI gives the process: main.ts reads PORT, never a fixed one.
  expect(readFileSync(join(root, 'src/main.ts'), 'utf8')).toMatch(/Number\(env\.PORT \?\? \d+\)/);
  expect(web.port).toBeUndefined();
});

it('the theme app embed is declared as a theme extension with its block and script', () => {
  const extension = toml<{ type: string }>('extensions/chatgpt-ads-embed/shopify.extension.toml');
  expect(extension.type).toBe('theme');
  const block = readFileSync(join(root, 'extensions/chatgpt-ads-embed/blocks/app-embed.liquid'), 'utf8');
  expect(block).toMatch(/"target":\s*"(head|body)"/);
  expect(block).toContain('chatgpt-ads.js');
});
