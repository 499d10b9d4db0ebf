// Attacks on the sandbox over real HTTP, as a web page (cross-origin or DNS-rebound) would make them.
// node:http is used because fetch will not let a caller choose the Host header.
import { request } from 'node:http';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../src/index.js';

const KEY = 'sk_live_SECRET_sandbox_key_1234';
let sandbox: Sandbox;
let port: number;

beforeAll(async () => {
  sandbox = await startSandbox({ port: 0, pixels: [{ pixelId: 'px_sec', apiKey: KEY }] });
  port = Number(new URL(sandbox.url).port);
});
afterAll(() => sandbox.close());
beforeEach(() => {
  sandbox.reset();
  sandbox.setFaults([]);
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function serverEvent(id: string) {
  return {
    id,
    type: 'lead_created',
    timestamp_ms: Date.now(),
    action_source: 'web',
    source_url: 'https://shop.example/contact',
    oppref: 'gAAAAB-private-click',
    user: { ip_address: '203.0.113.7', user_agent: 'Victim Browser/1.0' },
    data: { type: 'customer_action' },
  };
}

async function seed(): Promise<void> {
  const answer = await raw(
    'POST',
    '/v1/events?pid=px_sec',
    { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    JSON.stringify({ events: [serverEvent('lead_private')] }),
  );
  expect(answer.status).toBe(200);
}

describe('a cross-origin page cannot drive the control routes', () => {
  it.each([
    ['/_sandbox/faults', JSON.stringify([{ status: 503, times: 'always' }])],
    ['/_sandbox/reset', ''],
  ])('text/plain POST to %s from another origin changes nothing', async (path, body) => {
    await seed();
    // What a <form> or no-cors fetch on https://evil.example can send without a preflight.
    const answer = await raw(
      'POST',
      path,
      {
        host: `127.0.0.1:${port}`,
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
        'content-type': 'text/plain',
      },
      body,
    );
    expect(answer.status).toBe(403);
    expect(answer.headers['access-control-allow-origin']).toBeUndefined();
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['lead_private']);
    expect((await raw('GET', '/_sandbox/faults')).body).not.toContain('503');
  });

  it('a same-origin text/plain POST (no Origin header sent) is refused for its content type', async () => {
    await seed();
    const answer = await raw('POST', '/_sandbox/reset', { 'content-type': 'text/plain' }, '{}');
    expect(answer.status).toBe(415);
    expect(sandbox.events()).toHaveLength(1);
  });

  it('a JSON POST from the sandbox itself (the inspector) still works', async () => {
    await seed();
    const answer = await raw('POST', '/_sandbox/reset', {
      origin: `http://127.0.0.1:${port}`,
      'sec-fetch-site': 'same-origin',
      'content-type': 'application/json',
    });
    expect(answer.status).toBe(200);
    expect(sandbox.events()).toEqual([]);
  });

  it('answers CORS preflights only on the pixel routes', async () => {
    for (const path of ['/_sandbox/faults', '/_sandbox/reset', '/_sandbox/events', '/v1/events', '/']) {
      const answer = await raw('OPTIONS', path, {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
      expect([path, answer.headers['access-control-allow-origin']]).toEqual([path, undefined]);
      expect(answer.status).not.toBe(204);
    }
    for (const path of ['/v1/sdk/events?pid=px_sec', '/sdk/oaiq.min.js']) {
      const answer = await raw('OPTIONS', path, {
        origin: 'https://store.example',
        'access-control-request-method': 'POST',
      });
      expect([path, answer.status, answer.headers['access-control-allow-origin']]).toEqual([path, 204, '*']);
    }
  });

  it('a browser page on another origin cannot post to the API endpoint, a server can', async () => {
    const fromPage = await raw(
      'POST',
      '/v1/events?pid=px_sec',
      { origin: 'https://evil.example', authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      JSON.stringify({ events: [serverEvent('forged')] }),
    );
    expect(fromPage.status).toBe(403);
    // A server in another container reaches the sandbox under its own name: no Host check on the API.
    const fromServer = await raw(
      'POST',
      '/v1/events?pid=px_sec',
      { host: `sandbox:${port}`, authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      JSON.stringify({ events: [serverEvent('from_server')] }),
    );
    expect(fromServer.status).toBe(200);
    expect(sandbox.events().map((e) => e.event.id)).toEqual(['from_server']);
  });
});

describe('DNS rebinding: a page whose name now points here cannot read or change anything', () => {
  it.each([
    ['GET', '/_sandbox/events'],
    ['GET', '/_sandbox/requests'],
    ['GET', '/_sandbox/stream'],
    ['GET', '/_sandbox/faults'],
    ['GET', '/v1/conversions/events?pid=px_sec'],
    ['GET', '/'],
  ])('%s %s with a foreign Host is refused', async (method, path) => {
    await seed();
    // Same-origin for the browser after rebinding: the page's own name in Host, no Origin on a GET.
    const answer = await raw(method, path, {
      host: `evil.example:${port}`,
      'sec-fetch-site': 'same-origin',
    });
    expect(answer.status).toBe(403);
    expect(answer.body).not.toContain('lead_private');
    expect(answer.body).not.toContain('203.0.113.7');
    expect(answer.body).not.toContain('gAAAAB-private-click');
  });

  it.each(['/_sandbox/reset', '/_sandbox/faults'])(
    'a JSON POST to %s with a foreign Host is refused',
    async (path) => {
      await seed();
      const answer = await raw(
        'POST',
        path,
        { host: `evil.example:${port}`, 'content-type': 'application/json' },
        '[]',
      );
      expect(answer.status).toBe(403);
      expect(sandbox.events()).toHaveLength(1);
    },
  );

  it.each(['127.0.0.1:8787', '127.1.2.3', 'localhost', 'LOCALHOST:8787', '[::1]:8787'])(
    'answers to the loopback Host %s',
    async (host) => {
      await seed();
      const answer = await raw('GET', '/_sandbox/events', { host });
      expect(answer.status).toBe(200);
      expect(answer.body).toContain('lead_private');
    },
  );

  it.each([
    'localhost.evil.example',
    '127.0.0.1.evil.example',
    '127.0.0.1.nip.io',
    '0.0.0.0',
    '[::ffff:7f00:1]',
  ])('refuses the Host %j', async (host) => {
    const answer = await raw('GET', '/_sandbox/events', { host });
    expect(answer.status).toBe(403);
  });

  it('allowedHosts opens the inspector routes to a chosen name only', async () => {
    const named = await startSandbox({ port: 0, allowedHosts: ['sandbox'] });
    try {
      const namedPort = new URL(named.url).port;
      const get = (host: string) =>
        new Promise<number>((resolve, reject) => {
          request(
            { host: '127.0.0.1', port: namedPort, path: '/_sandbox/events', headers: { host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          )
            .on('error', reject)
            .end();
        });
      expect(await get(`sandbox:${namedPort}`)).toBe(200);
      expect(await get(`evil.example:${namedPort}`)).toBe(403);
    } finally {
      await named.close();
    }
  });
});

describe('the pixel routes stay open to the pages that use them', () => {
  it('a cross-origin text/plain pixel post from a store page is stored and readable by CORS', async () => {
    const answer = await raw(
      'POST',
      '/v1/sdk/events?pid=px_sec',
      { host: `127.0.0.1:${port}`, origin: 'http://localhost:3000', 'content-type': 'text/plain' },
      JSON.stringify({
        event: 'lead_created',
        event_id: 'pixel_1',
        data: { type: 'customer_action' },
        source_url: 'http://localhost:3000/thanks',
        timestamp_ms: Date.now(),
      }),
    );
    expect(answer.status).toBe(202);
    expect(answer.headers['access-control-allow-origin']).toBe('*');
    expect(sandbox.events().map((e) => [e.event.id, e.channel])).toEqual([['pixel_1', 'pixel_sdk']]);
  });
});

describe('the inspector page', () => {
  it('is served with a restrictive Content-Security-Policy: no inline handlers, no foreign scripts', async () => {
    const answer = await raw('GET', '/');
    const csp = String(answer.headers['content-security-policy']);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('the API key', () => {
  it('appears in no object, listing, page or stream the sandbox gives out', async () => {
    await seed();
    await raw(
      'POST',
      '/v1/events?pid=px_sec',
      { authorization: 'Bearer sk_live_WRONG_key_5678', 'content-type': 'application/json' },
      JSON.stringify({ events: [serverEvent('wrong_key')] }),
    );
    const outputs = [
      inspect(sandbox, { depth: 10, showHidden: true }),
      JSON.stringify(sandbox),
      inspect(sandbox.requests(), { depth: 10 }),
      JSON.stringify(sandbox.requests()),
      JSON.stringify(sandbox.events()),
      (await raw('GET', '/_sandbox/requests')).body,
      (await raw('GET', '/_sandbox/events')).body,
      (await raw('GET', '/')).body,
    ];
    for (const output of outputs) {
      expect(output).not.toContain('SECRET_sandbox_key');
      expect(output).not.toContain('WRONG_key');
    }
    expect(sandbox.requests().map((r) => r.status)).toEqual([200, 401]);
  });
});
