import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromNodeRequest, type NodeRequest } from '../node/index.js';
import { createConversions } from '../src/client.js';
import type { ConsentMode } from '../src/consent.js';
import { carriesClickRef, type IncomingRequest, readRequest } from '../src/request.js';

const base = { pixelId: 'px_1', apiKey: 'sk_test', endpoint: 'http://127.0.0.1:9/v1/events' };
const quiet = { warn() {}, error() {} };

/** An incoming request that records which headers and properties were read. */
function watched(url: string, headers: Record<string, string>, ip = '203.0.113.7') {
  const reads: string[] = [];
  const incoming: IncomingRequest = {
    get url() {
      reads.push('url');
      return url;
    },
    header(name) {
      reads.push(`header:${name}`);
      return headers[name];
    },
    get ip() {
      reads.push('ip');
      return ip;
    },
  };
  return { incoming, reads };
}

describe('a request view reads the request only when something needs it', () => {
  it('a page view with no click id in its URL or cookies reads the cookie header and nothing more', () => {
    const conversions = createConversions({ ...base, logger: quiet });
    const { incoming, reads } = watched('https://shop.example/product', {
      cookie: '__oaiq_consent=true; theme=dark',
      'user-agent': 'UA',
    });
    const view = conversions.forRequest(incoming);
    expect(view.setCookies).toEqual([]);
    expect(reads).toEqual(['url', 'header:cookie']);
    // A conversion on the same request reads the rest, with the same answers an eager read gives.
    expect(view.context).toEqual(
      readRequest(
        watched('https://shop.example/product', {
          cookie: '__oaiq_consent=true; theme=dark',
          'user-agent': 'UA',
        }).incoming,
      ).context,
    );
    expect(reads).toContain('ip');
    expect(reads).toContain('header:user-agent');
  });

  it('a landing or a returning visitor with a click id cookie is read at once', () => {
    const conversions = createConversions({ ...base, logger: quiet });
    const landing = watched('https://shop.example/?oppref=gAAAAB-1', { cookie: '__oaiq_consent=true' });
    expect(conversions.forRequest(landing.incoming).setCookies).toHaveLength(1);
    expect(landing.reads).toContain('ip');
    const returning = watched('https://shop.example/', { cookie: '__oaiq_consent=false; __oppref=gAAAAB-1' });
    // Consent withdrawn: the stored click id is expired on this very response.
    expect(conversions.forRequest(returning.incoming).setCookies).toEqual([
      expect.stringMatching(/^__oppref=; Path=\/; Max-Age=0/),
    ]);
  });

  it("an app's consent answer that is not a state is reported when the view is made, read or not", () => {
    const lines: string[] = [];
    const conversions = createConversions({ ...base, logger: { warn: (m) => lines.push(m), error() {} } });
    const { incoming } = watched('https://shop.example/', {});
    conversions.forRequest(incoming, { consent: 'yes' as never });
    expect(lines.join('\n')).toContain("the app's consent answer is not 'granted', 'denied' or 'unknown'");
  });

  it('gives what an eager read gives, for any URL, cookies, consent mode and app answer', () => {
    const ref = fc.oneof(
      fc.constant('gAAAAB-click'),
      fc.constant('a;b'),
      fc.constant(''),
      fc.string({ maxLength: 12 }),
    );
    const cookiePart = fc.oneof(
      ref.map((v) => `__oppref=${v}`),
      ref.map((v) => `__obref=${v}`),
      fc.constantFrom(
        '__oaiq_consent=true',
        '__oaiq_consent=false',
        'theme=dark',
        '__opprefx=1',
        'OptanonConsent=groups=C0004:0',
      ),
    );
    fc.assert(
      fc.property(
        fc.oneof(
          ref.map((v) => `https://shop.example/p?oppref=${v}`),
          fc.constant('https://shop.example/p'),
          fc.constant('https://shop.example/p?x=oppref'),
        ),
        fc.array(cookiePart, { maxLength: 4 }),
        fc.constantFrom<ConsentMode>('opt-in', 'opt-out'),
        fc.constantFrom(undefined, 'granted', 'denied', 'unknown'),
        fc.boolean(),
        (url, parts, mode, answer, readFirst) => {
          const headers: Record<string, string> = { 'user-agent': 'UA' };
          if (parts.length > 0) headers.cookie = parts.join('; ');
          const conversions = createConversions({ ...base, consent: { mode }, logger: quiet });
          const view = conversions.forRequest(
            watched(url, headers).incoming,
            answer ? { consent: answer } : {},
          );
          const eager = conversions.forRequest(
            watched(url, headers).incoming,
            answer ? { consent: answer } : {},
          );
          // Either order of reads gives the same view.
          if (readFirst) void view.context;
          expect(view.setCookies).toEqual(eager.setCookies);
          expect(view.context).toEqual(eager.context);
          expect(view.consent).toEqual(eager.consent);
          if (!answer) {
            const direct = readRequest(watched(url, headers).incoming, { consent: { mode } });
            expect(view.setCookies).toEqual(direct.setCookies);
            expect(view.context).toEqual(direct.context);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('carriesClickRef', () => {
  it('is true for every request whose reading could write a cookie or report a refusal', () => {
    const of = (url: string, cookie?: string) => carriesClickRef({ url, header: () => cookie });
    expect(of('https://s.example/?oppref=gAAAAB-1')).toBe(true);
    expect(of('https://s.example/?oppref=a;b')).toBe(true);
    expect(of('https://s.example/', '__oppref=gAAAAB-1')).toBe(true);
    expect(of('https://s.example/', 'a=1; __obref=x')).toBe(true);
    expect(of('https://s.example/?ref=oppref', 'theme=dark')).toBe(false);
    expect(
      carriesClickRef({
        url: 'https://s.example/',
        header: () => {
          throw new Error('header getter broke');
        },
      }),
    ).toBe(false);
    // Whenever it says false, an eager read writes nothing and reports nothing.
    fc.assert(
      fc.property(fc.string(), fc.string(), (query, cookie) => {
        const incoming = { url: `https://s.example/p?${query}`, header: () => cookie };
        if (carriesClickRef(incoming)) return;
        const reading = readRequest(incoming, { consent: { mode: 'opt-out' } });
        expect([reading.setCookies, reading.refused, reading.context.oppref]).toEqual([[], [], undefined]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('fromNodeRequest', () => {
  const request = (headers: Record<string, string>, extra: Partial<NodeRequest> = {}) =>
    ({ url: '/p?q=1', headers, socket: { remoteAddress: '10.0.0.9' }, ...extra }) as unknown as NodeRequest;

  it("asks the framework's proxy rule and address only when the request is read", () => {
    let asked = 0;
    const conversions = createConversions({ ...base, logger: quiet });
    const incoming = fromNodeRequest(request({ host: 'shop.example', 'x-forwarded-for': '198.51.100.4' }), {
      trustProxy: () => {
        asked++;
        return true;
      },
      ip: () => {
        asked++;
        return undefined;
      },
    });
    const view = conversions.forRequest(incoming);
    expect(view.setCookies).toEqual([]);
    expect(asked).toBe(0);
    expect(view.context.ip).toBe('198.51.100.4');
    expect(view.context.sourceUrl).toBe('http://shop.example/p?q=1');
    expect(asked).toBe(2);
  });

  it('keeps the address of a connection that closed before the request was read', async () => {
    const conversions = createConversions({ ...base, logger: quiet });
    const seen = new Promise<string | undefined>((resolve) => {
      const server = createServer((req, res) => {
        const view = conversions.forRequest(fromNodeRequest(req));
        res.setHeader('connection', 'close');
        res.end('ok', () =>
          // A conversion tracked after the response, the socket gone.
          setTimeout(() => {
            resolve(view.context.ip);
            server.close();
          }, 100),
        );
      }).listen(0, '127.0.0.1', async () => {
        await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      });
    });
    expect(await seen).toBe('127.0.0.1');
  });

  it('reads forwarded host, proto and address only from a trusted proxy', () => {
    const headers = {
      host: 'internal:8080',
      'x-forwarded-host': 'shop.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-for': '198.51.100.4, 10.0.0.1',
    };
    const trusted = fromNodeRequest(request(headers), { trustProxy: true });
    expect([trusted.url, trusted.ip]).toEqual(['https://shop.example/p?q=1', '198.51.100.4']);
    const untrusted = fromNodeRequest(request(headers));
    expect([untrusted.url, untrusted.ip]).toEqual(['http://internal:8080/p?q=1', '10.0.0.9']);
    const framework = fromNodeRequest(
      request(headers, { ip: '192.0.2.1', protocol: 'https', originalUrl: '/shop/p' }),
    );
    expect([framework.url, framework.ip]).toEqual(['https://internal:8080/shop/p', '192.0.2.1']);
    const { header } = trusted;
    expect(header('x-forwarded-host')).toBe('shop.example');
  });
});
