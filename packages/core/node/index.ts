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
 * Adapts a Node request to core's {@link IncomingRequest}. The page URL is the one the visitor
 * saw: the framework's protocol (or the socket's), the Host header, or the first
 * `X-Forwarded-Host` / `X-Forwarded-Proto` / `X-Forwarded-For` value when `trustProxy` says the
 * connection comes from your own proxy (forwarded headers from anyone else are ignored).
 *
 * @example
 * import { fromNodeRequest } from '@chatgpt-ads/core/node';
 * const visit = conversions.forRequest(fromNodeRequest(req, { trustProxy: false }));
 */
export function fromNodeRequest(req: NodeRequest, options: { trustProxy?: boolean } = {}): IncomingRequest {
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const trustProxy = options.trustProxy === true;
  const encrypted = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  const protocol = req.protocol ?? (encrypted ? 'https' : 'http');
  const forwardedFor = trustProxy ? header('x-forwarded-for')?.split(',')[0]?.trim() || undefined : undefined;
  const ip = req.ip ?? forwardedFor ?? req.socket?.remoteAddress;
  return {
    url: pageUrl({ path: req.originalUrl ?? req.url ?? '/', header, protocol, trustProxy }),
    header,
    ...(ip ? { ip } : {}),
  };
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
