// Attacks on the sandbox from a real browser: script through every event field the inspector shows,
// a page on another origin driving the control routes, and a DNS-rebound page reading the records.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromiumPath } from '@tooling/e2e';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

const REBOUND_HOST = 'rebind.attacker.test';
let browser: Browser;
let sandbox: Sandbox;
let port: number;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0 });
  port = Number(new URL(sandbox.url).port);
  const executablePath = chromiumPath();
  if (!executablePath)
    throw new Error('Chromium not found: apt-get install -y chromium, or set CHROMIUM_PATH');
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // The attacker's name resolves to this machine, as it does after a DNS rebinding.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      `--host-resolver-rules=MAP ${REBOUND_HOST} 127.0.0.1`,
      // Chromium's own local-network checks would stop the requests before the sandbox sees them;
      // other browsers and older versions have none, so the sandbox must refuse them itself.
      '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks',
    ],
  });
});
afterAll(async () => {
  await browser?.close();
  await sandbox?.close();
});
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults([]);
});

/** Every script a payload could run calls alert(): a dialog is the detector. */
function detectDialogs(page: Page): string[] {
  const seen: string[] = [];
  page.on('dialog', (dialog) => {
    seen.push(dialog.message());
    void dialog.dismiss();
  });
  return seen;
}

const payload = (where: string) => `<img/src=x/onerror=alert('xss:${where}')>`;
const PAYLOADS = {
  userAgent: `"><svg onload=alert('xss:ua')><script>alert('xss:ua2')</script>`,
  contentName: `</script><script>alert('xss:content')</script><img src=x onerror=alert('xss:content2')>`,
  oppref: payload('oppref'),
  eventId: payload('id'),
  unknownField: payload('field'),
  pixelId: payload('pid'),
};

async function postServer(events: unknown[], headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${sandbox.endpoint}?pid=px_xss`, {
    method: 'POST',
    headers: { authorization: 'Bearer sk_test', 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ events }),
  });
  return response.status;
}

async function plantPayloads(): Promise<void> {
  const base = {
    type: 'order_created',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://shop.example/checkout',
  };
  expect(
    await postServer([
      {
        ...base,
        id: PAYLOADS.eventId,
        oppref: PAYLOADS.oppref,
        user: { user_agent: PAYLOADS.userAgent, ip_address: '203.0.113.9' },
        data: {
          type: 'contents',
          amount: 100,
          currency: 'USD',
          contents: [{ id: 'sku', name: PAYLOADS.contentName, quantity: 1 }],
        },
      },
    ]),
  ).toBe(200);
  // Refused: the unknown field's name comes back in the error shown on the Requests tab.
  expect(await postServer([{ ...base, id: 'refused_1', [PAYLOADS.unknownField]: 1 }])).toBe(400);
  const pixel = await fetch(`${sandbox.url}/v1/sdk/events?pid=${encodeURIComponent(PAYLOADS.pixelId)}`, {
    method: 'POST',
    body: JSON.stringify({
      event: 'lead_created',
      event_id: 'pixel_xss',
      data: { type: 'customer_action' },
      source_url: 'https://shop.example/',
      timestamp_ms: Date.now(),
    }),
  });
  expect(pixel.status).toBe(202);
}

/** Opens the inspector and shows every planted value: rows, the detail panel, the Requests tab. */
async function showEverything(page: Page): Promise<string> {
  await page.goto(sandbox.url);
  const row = page.locator('tr[data-testid="event-row"]', { hasText: "alert('xss:id')" });
  await row.waitFor();
  await row.click();
  await page.locator('#detail-json', { hasText: 'xss:content' }).waitFor();
  let text = (await page.locator('body').textContent()) ?? '';
  await page.locator('tr[data-testid="event-row"]', { hasText: 'pixel_xss' }).click();
  await page.locator('#detail', { hasText: "alert('xss:pid')" }).waitFor();
  text += (await page.locator('body').textContent()) ?? '';
  await page.getByRole('button', { name: /Requests/ }).click();
  await page.locator('tr[data-testid="request-row"]', { hasText: "alert('xss:field')" }).waitFor();
  text += (await page.locator('body').textContent()) ?? '';
  return text;
}

/** Adds markup the unsafe way (innerHTML), as a regression in the page would. */
function injectUnsafely(page: Page, html: string): Promise<void> {
  return page.evaluate((markup) => {
    const holder = document.createElement('div');
    holder.innerHTML = markup;
    document.body.appendChild(holder);
  }, html);
}

describe('inspector: attacker-controlled event fields never run as script', () => {
  it('escapes every planted value even with the CSP switched off (positive control: the detector fires)', async () => {
    await plantPayloads();
    // bypassCSP isolates the escaping: only textContent stands between the payloads and the page.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    const dialogs = detectDialogs(page);
    const shown = await showEverything(page);
    for (const value of Object.values(PAYLOADS)) expect(shown).toContain(value);
    // The control is added after every payload was rendered: once it has fired, a payload's
    // handler (which would have been queued earlier) would have fired too.
    await injectUnsafely(page, `<img src=x onerror="alert('control')">`);
    await expect.poll(() => dialogs).toContain('control');
    expect(dialogs).toEqual(['control']);
    await context.close();
  });

  it('with the CSP on, even markup injected the unsafe way does not run: the policy blocks it', async () => {
    await plantPayloads();
    const context = await browser.newContext();
    const page = await context.newPage();
    const dialogs = detectDialogs(page);
    await showEverything(page);
    // Whichever comes first: the policy's report, or the handler running.
    const outcome = page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          document.addEventListener('securitypolicyviolation', (event) => resolve(event.effectiveDirective), {
            once: true,
          });
          window.addEventListener('injected-ran', () => resolve('handler ran'), { once: true });
        }),
    );
    await injectUnsafely(
      page,
      `<img src="data:," onerror="window.dispatchEvent(new Event('injected-ran'))">`,
    );
    expect(await outcome).toMatch(/^script-src/);
    expect(dialogs).toEqual([]);
    await context.close();
  });
});

describe('a page on another origin', () => {
  let site: Server;
  let siteUrl: string;
  beforeAll(async () => {
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><title>elsewhere</title><link rel="icon" href="data:,">');
    });
    await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
    siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => site.close(() => resolve())));

  it('cannot inject faults, reset the records or read them', async () => {
    expect(
      await postServer([
        {
          id: 'kept_1',
          type: 'lead_created',
          timestamp_ms: Date.now(),
          action_source: 'web',
          source_url: 'https://shop.example/',
          data: { type: 'customer_action' },
        },
      ]),
    ).toBe(200);
    const context: BrowserContext = await browser.newContext();
    const page = await context.newPage();
    await page.goto(siteUrl);
    const outcome = await page.evaluate(async (target) => {
      const results: Record<string, string> = {};
      const attempt = async (name: string, run: () => Promise<Response>) => {
        try {
          const response = await run();
          results[name] = response.type === 'opaque' ? 'opaque' : String(response.status);
        } catch (error) {
          results[name] = `blocked: ${(error as Error).name}`;
        }
      };
      // No preflight for text/plain: these reach the server, which must refuse them.
      await attempt('faults (text/plain)', () =>
        fetch(`${target}/_sandbox/faults`, {
          method: 'POST',
          mode: 'no-cors',
          headers: { 'content-type': 'text/plain' },
          body: JSON.stringify([{ status: 503, times: 'always' }]),
        }),
      );
      await attempt('reset (text/plain)', () =>
        fetch(`${target}/_sandbox/reset`, { method: 'POST', mode: 'no-cors', body: '{}' }),
      );
      // JSON needs a preflight, which these routes never grant.
      await attempt('faults (json)', () =>
        fetch(`${target}/_sandbox/faults`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify([{ status: 503, times: 'always' }]),
        }),
      );
      await attempt('read events', () => fetch(`${target}/_sandbox/events`));
      return results;
    }, sandbox.url);
    expect(outcome['read events']).toMatch(/^blocked/);
    expect(outcome['faults (json)']).toMatch(/^blocked/);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['kept_1']);
    expect(
      await postServer([
        {
          id: 'after_attack',
          type: 'lead_created',
          timestamp_ms: Date.now(),
          action_source: 'web',
          source_url: 'https://shop.example/',
          data: { type: 'customer_action' },
        },
      ]),
    ).toBe(200); // not the 503 the attacker tried to inject
    await context.close();
  });
});

describe('DNS rebinding', () => {
  it('a page whose own name now resolves to this machine gets 403 for the records and the controls', async () => {
    expect(
      await postServer([
        {
          id: 'private_1',
          type: 'lead_created',
          timestamp_ms: Date.now(),
          action_source: 'web',
          source_url: 'https://shop.example/',
          user: { ip_address: '198.51.100.23' },
          data: { type: 'customer_action' },
        },
      ]),
    ).toBe(200);
    const context = await browser.newContext();
    const page = await context.newPage();
    const origin = `http://${REBOUND_HOST}:${port}`;
    // The attacker served this page first; every later request to the same name reaches the sandbox.
    await page.route(`${origin}/attack`, (route) =>
      route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>attacker</title>' }),
    );
    await page.goto(`${origin}/attack`);
    const outcome = await page.evaluate(async () => {
      const read = async (path: string, init?: RequestInit) => {
        const response = await fetch(path, init);
        return { status: response.status, body: await response.text() };
      };
      return {
        events: await read('/_sandbox/events'),
        requests: await read('/_sandbox/requests'),
        monitoring: await read('/v1/conversions/events?pid=px_xss'),
        reset: await read('/_sandbox/reset', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        }),
      };
    });
    for (const [name, answer] of Object.entries(outcome)) {
      expect([name, answer.status]).toEqual([name, 403]);
      expect(answer.body).not.toContain('198.51.100.23');
      expect(answer.body).not.toContain('private_1');
    }
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['private_1']);
    await context.close();
  });
});
