import type { IncomingMessage, ServerResponse } from 'node:http';

/** Answers with a JSON body; a client that has already gone gets nothing, rather than a write error. */
export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/** Answers 403 with the reason, so whoever configured the caller can see what to change. */
export function forbidden(res: ServerResponse, message: string): void {
  json(res, 403, { error: { message, type: 'forbidden' } });
}

/** Lets pages on any origin use a route, as the real pixel lets every store's pages post to it. */
export function cors(res: ServerResponse): void {
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-allow-headers', 'content-type');
}

/** The body as text, or `undefined` when it exceeds `limit` (the rest is drained, not buffered). */
export function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parsed JSON, or `undefined` for text that is not JSON: callers answer that case themselves. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
