// The consent form's two checks, kept free of any framework so the example reads the same in each app.

/**
 * The local page to return to after the consent form, or `/`: only a path on this site, never a
 * link elsewhere (`//evil.example`, `/\evil.example`, `https://…`, or paths that a browser or a URL
 * parser would turn into one, such as `/\t/evil.example` or `/.//evil.example`).
 *
 * @example
 * localPath('/?oppref=abc'); // '/?oppref=abc'
 * localPath('//evil.example'); // '/'
 */
export function localPath(back: unknown): string {
  if (typeof back !== 'string' || back.length > 2048) return '/';
  // URL parsers drop tabs and newlines, so '/\t/x' would become '//x'.
  if (/[\u0000-\u001f\u007f\\]/.test(back)) return '/';
  if (!back.startsWith('/') || back.startsWith('//')) return '/';
  const base = 'http://local.invalid';
  let url: URL;
  try {
    url = new URL(back, base);
  } catch {
    return '/';
  }
  if (url.origin !== base) return '/';
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Dot segments can collapse into '//' ('/.//evil.example'): check what will actually be sent.
  return path.startsWith('/') && !path.startsWith('//') ? path : '/';
}

/**
 * Whether a state-changing request comes from this site's own pages. Browsers send `Origin` on every
 * POST (and `Sec-Fetch-Site` in current versions); a cross-site form or `fetch` cannot hide them. A
 * request with neither is not from a browser (curl, a test client) and cannot carry a visitor's
 * cookies against their will, so it is allowed.
 *
 * @example
 * sameOrigin({ origin: 'https://shop.example', host: 'shop.example' }); // true
 * sameOrigin({ origin: 'https://evil.example', host: 'shop.example' }); // false
 */
export function sameOrigin(headers: {
  origin?: string | null | undefined;
  host?: string | null | undefined;
  secFetchSite?: string | null | undefined;
}): boolean {
  const site = headers.secFetchSite;
  if (site && site !== 'same-origin' && site !== 'none') return false;
  const origin = headers.origin;
  if (origin === undefined || origin === null) return true;
  try {
    return new URL(origin).host === (headers.host ?? '').toLowerCase();
  } catch {
    return false; // includes Origin: null (sandboxed frames, some redirects)
  }
}
