// Core's Node layer: what every adapter running on Node needs and none should write again. It
// lives outside src/, which stays runtime-neutral (Web standards only).
import type { IncomingMessage } from 'node:http';
import { runtimeSha256 } from '../src/hash.js';
import { type IncomingRequest, pageUrl } from '../src/request.js';

/**
 * SHA-256 as lowercase hex through `node:crypto`: synchronous and far cheaper per call than Web
 * Crypto for short strings. The client already uses it by default on Node; it is here for code
 * that hashes identifiers itself (e.g. the CLI's pre-hashed columns).
 *
 * @example
 * import { nodeSha256 } from '@chatgpt-ads/core/node';
 * nodeSha256('alex@example.com'); // '6db61e6d…36f14110'
 */
export const nodeSha256: (value: string) => string =
  runtimeSha256() ??
  (() => {
    throw new Error('node:crypto is not available in this runtime');
  });

/**
 * A Node request as Express and NestJS (Express platform) give it: `ip`, `protocol` and
 * `originalUrl` are used when the framework has resolved them under its own proxy rules.
 *
 * @example
 * const request: NodeRequest = req; // an Express request, or a plain http.IncomingMessage
 */
export type NodeRequest = IncomingMessage & { ip?: string; protocol?: string; originalUrl?: string };

/**
 * Options of {@link fromNodeRequest}. Each may be a function, asked only when the request is read
 * (most page views never are: no click id in the URL or the cookies).
 *
 * @example
 * const options: NodeRequestOptions = { trustProxy: () => request.ips.length > 1, ip: () => request.ip };
 */
export interface NodeRequestOptions {
  /** Whether the connection comes from your own proxy, so its forwarded headers count. Default false. */
  trustProxy?: boolean | (() => boolean);
  /** The client's address as the framework resolved it; default `req.ip`, then the socket's. */
  ip?: () => string | undefined;
}

/**
 * Adapts a Node request to core's {@link IncomingRequest}. The page URL is the one the visitor
 * saw: the framework's protocol (or the socket's), the Host header, or the first
 * `X-Forwarded-Host` / `X-Forwarded-Proto` / `X-Forwarded-For` value when `trustProxy` says the
 * connection comes from your own proxy (forwarded headers from anyone else are ignored). The URL
 * and the address are worked out when first read.
 *
 * @example
 * import { fromNodeRequest } from '@chatgpt-ads/core/node';
 * const visit = conversions.forRequest(fromNodeRequest(req, { trustProxy: false }));
 */
export function fromNodeRequest(req: NodeRequest, options: NodeRequestOptions = {}): IncomingRequest {
  return new NodeIncoming(req, options);
}

// A class with getters, not an object of computed values: a framework's `protocol` and `ip` are
// getters that apply its proxy rules on every read, and a page view with nothing to read pays none.
class NodeIncoming implements IncomingRequest {
  readonly #req: NodeRequest;
  readonly #options: NodeRequestOptions;
  #trusted: boolean | undefined;
  #url: string | undefined;
  #ip: { value: string | undefined } | undefined;

  // The socket's address is taken now: once the connection closes Node forgets it, and a
  // conversion tracked after the response (or the framework's ip getter then) would have none.
  readonly #peer: string | undefined;

  constructor(req: NodeRequest, options: NodeRequestOptions) {
    this.#req = req;
    this.#options = options;
    this.#peer = req.socket?.remoteAddress;
  }

  // A field, not a method: readers may take it off the object (`const { header } = incoming`).
  readonly header = (name: string): string | undefined => {
    const value = this.#req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };

  get url(): string {
    if (this.#url === undefined) {
      const req = this.#req;
      const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
      this.#url = pageUrl({
        path: req.originalUrl ?? req.url ?? '/',
        header: this.header,
        protocol: req.protocol ?? (encrypted ? 'https' : 'http'),
        // Forwarded host or proto are all trust decides about here: without them, no need to ask.
        trustProxy:
          (req.headers['x-forwarded-host'] !== undefined || req.headers['x-forwarded-proto'] !== undefined) &&
          this.#trustsProxy(),
      });
    }
    return this.#url;
  }

  get ip(): string | undefined {
    if (this.#ip === undefined) {
      const given = this.#options.ip?.() ?? this.#req.ip;
      const forwardedFor =
        given || !this.#trustsProxy()
          ? undefined
          : this.header('x-forwarded-for')?.split(',')[0]?.trim() || undefined;
      this.#ip = { value: given || forwardedFor || this.#peer };
    }
    return this.#ip.value;
  }

  #trustsProxy(): boolean {
    const { trustProxy } = this.#options;
    this.#trusted ??= (typeof trustProxy === 'function' ? trustProxy() : trustProxy) === true;
    return this.#trusted;
  }
}

/**
 * Appends `Set-Cookie` values to a Node response without replacing the ones already set.
 *
 * @example
 * appendSetCookies(res, visit.setCookies);
 */
export function appendSetCookies(
  res: { getHeader(name: string): unknown; setHeader(name: string, value: string[]): unknown },
  cookies: readonly string[],
): void {
  if (cookies.length === 0) return;
  const existing = res.getHeader('set-cookie');
  const list =
    existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
  res.setHeader('set-cookie', [...list, ...cookies]);
}
