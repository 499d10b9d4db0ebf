const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const encoder = new TextEncoder();

/**
 * A SHA-256 function as the client takes it: lowercase hex, synchronous or not.
 *
 * @example
 * const hash: HashFunction = (value) => sha256Hex(value);
 */
export type HashFunction = (value: string) => string | Promise<string>;

/**
 * Lowercase hex SHA-256 of the UTF-8 bytes of `value`, through Web Crypto (works in Node, Edge,
 * Deno, Bun and workers, hence async).
 *
 * @example
 * await sha256Hex('alex@example.com'); // '6db61e6d…36f14110'
 */
export async function sha256Hex(value: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)));
  let hex = '';
  for (const byte of digest) hex += HEX[byte];
  return hex;
}

type NodeCrypto = {
  createHash(algorithm: 'sha256'): { update(value: string, encoding: 'utf8'): { digest(as: 'hex'): string } };
  /** One-shot, no Hash object: Node 20.12+ and 21.7+ (strings are hashed as UTF-8). */
  hash?(algorithm: 'sha256', value: string, as: 'hex'): string;
};

/**
 * The runtime's own synchronous SHA-256 where it has one (Node, Bun and Deno hand out `node:crypto`
 * through their global `getBuiltinModule`), else `undefined`. Web Crypto's digest is a round trip through
 * a thread pool (tens of µs on Node); this one is about a microsecond. Reached through the global
 * object at run time, so this source imports nothing from Node and runs unchanged on edge runtimes.
 *
 * @example
 * const hash = runtimeSha256() ?? sha256Hex;
 */
export function runtimeSha256(): ((value: string) => string) | undefined {
  const global = globalThis as {
    EdgeRuntime?: unknown;
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  if (typeof global.EdgeRuntime === 'string') return undefined; // Vercel/Next edge: Web Crypto only
  try {
    const crypto = global.process?.getBuiltinModule?.('node:crypto') as NodeCrypto | undefined;
    if (typeof crypto?.createHash !== 'function') return undefined;
    // The one-shot form takes about half the time of a Hash object per identifier.
    const { hash } = crypto;
    if (typeof hash === 'function') return (value) => hash('sha256', value, 'hex');
    return (value) => crypto.createHash('sha256').update(value, 'utf8').digest('hex');
  } catch {
    return undefined; // a runtime that forbids it keeps Web Crypto
  }
}

/**
 * The hash a client uses when given none: the runtime's synchronous SHA-256 where it has one, else
 * Web Crypto's {@link sha256Hex}. Both give the same digests.
 *
 * @example
 * await defaultSha256('alex@example.com'); // '6db61e6d…36f14110'
 */
export const defaultSha256: HashFunction = runtimeSha256() ?? sha256Hex;
