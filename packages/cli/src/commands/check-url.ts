import { readOpprefFromUrl } from '@chatgpt-ads/core';
import { type CliIO, paint, parseFlags, printJson, table, UsageError } from '../shared.js';

export const CHECK_URL_HELP = `Usage: chatgpt-ads check-url <landing url> [--max-hops 10] [--json]

Requests the landing URL and follows each redirect (HTTP 301, 302, 303, 307, 308 and HTML
<meta http-equiv="refresh">), reporting per hop whether oppref is still in the URL and whether a
__oppref cookie was set. Redirects that drop the query string before anything stores the click id
are the classic way conversions lose attribution.

A URL that already carries oppref (a real ad URL pasted as is) is checked with that value; otherwise
a test value is appended. Redirects done by JavaScript cannot be followed: a page that seems to have
one is named in a warning.

Options:
  --max-hops <n>   give up after n requests (default 10)
  --json           print the hops and the verdict as JSON (see the README for the shape)

Exit code 0 when the click id reaches the final page or is stored on the way, 1 when a redirect drops
it or the chain does not end, 2 for a usage error.`;

/**
 * One request of a redirect chain, as check-url reports it.
 *
 * @example
 * const hop: Hop = { url: 'https://shop.example/?oppref=x', status: 301, opprefInUrl: true, cookieSet: false };
 */
export interface Hop {
  url: string;
  status: number;
  opprefInUrl: boolean;
  cookieSet: boolean;
  location?: string;
  /** How this hop sends the browser on: an HTTP redirect (`location`) or an HTML meta refresh. */
  redirect?: 'http' | 'meta-refresh';
  /** The page seems to redirect with JavaScript, which is not followed. */
  scriptRedirect?: boolean;
}

const META_REFRESH =
  /<meta\b[^>]*http-equiv\s*=\s*["']?refresh["']?[^>]*content\s*=\s*["']\s*\d*\s*[;,]\s*url\s*=\s*['"]?([^"'>]+)/i;
const META_REFRESH_REVERSED =
  /<meta\b[^>]*content\s*=\s*["']\s*\d*\s*[;,]\s*url\s*=\s*['"]?([^"'>]+)[^>]*http-equiv\s*=\s*["']?refresh/i;
const SCRIPT_REDIRECT =
  /\b(?:window\.|document\.|top\.)?location(?:\.href)?\s*=|\blocation\.(?:replace|assign)\s*\(/;

/**
 * The URL to request first: `start` itself when it already carries `oppref` (its value is what is
 * traced), else `start` with `oppref=value` appended.
 *
 * @example
 * withOppref('https://shop.example/?oppref=abc', 'test'); // { url: 'https://shop.example/?oppref=abc', value: 'abc' }
 */
export function withOppref(start: string, value: string): { url: string; value: string } {
  const existing = readOpprefFromUrl(start);
  if (existing !== undefined) return { url: start, value: existing };
  const first = new URL(start);
  return {
    url: `${first.origin}${first.pathname}${first.search ? `${first.search}&` : '?'}oppref=${value}${first.hash}`,
    value,
  };
}

/**
 * Follows the chain from `start` and records every hop. When `start` has no `oppref`,
 * `oppref=value` is appended; when it has one, that value is the one traced.
 *
 * @example
 * const hops = await traceRedirects('https://shop.example/landing', 'test-click', fetch);
 * hops.at(-1)?.opprefInUrl; // true when the click id reached the final page
 */
export async function traceRedirects(
  start: string,
  value: string,
  fetchImpl: typeof fetch,
  maxHops = 10,
): Promise<Hop[]> {
  const traced = withOppref(start, value);
  let url = traced.url;
  const hops: Hop[] = [];
  for (let i = 0; i < maxHops; i++) {
    const response = await fetchImpl(url, {
      redirect: 'manual',
      headers: { 'user-agent': 'chatgpt-ads check-url', accept: 'text/html,*/*' },
    });
    const html =
      response.status >= 200 &&
      response.status < 300 &&
      /html/i.test(response.headers.get('content-type') ?? '');
    const body = html ? (await response.text()).slice(0, 256 * 1024) : '';
    if (!html) await response.body?.cancel();
    const cookieSet = response.headers
      .getSetCookie()
      .some((cookie) => cookie.startsWith(`__oppref=${traced.value}`));
    const header = response.headers.get('location') ?? undefined;
    const meta = html
      ? (META_REFRESH.exec(body) ?? META_REFRESH_REVERSED.exec(body))?.[1]?.trim()
      : undefined;
    const location = response.status >= 300 && response.status < 400 ? header : meta;
    const scriptRedirect = html && !meta && SCRIPT_REDIRECT.test(body);
    hops.push({
      url,
      status: response.status,
      opprefInUrl: readOpprefFromUrl(url) === traced.value,
      cookieSet,
      ...(location ? { location, redirect: meta ? 'meta-refresh' : 'http' } : {}),
      ...(scriptRedirect ? { scriptRedirect } : {}),
    });
    if (!location) break;
    url = new URL(decodeEntities(location), url).href;
  }
  return hops;
}

const decodeEntities = (text: string) => text.replace(/&amp;/g, '&').replace(/&#x?0*26;/gi, '&');

export async function checkUrl(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(
    argv,
    { help: { type: 'boolean', short: 'h' }, 'max-hops': { type: 'string' }, json: { type: 'boolean' } },
    true,
  );
  if (flags.help) {
    io.stdout(`${CHECK_URL_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('check-url takes one landing URL');
  try {
    const url = new URL(positionals[0]!);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http');
  } catch {
    throw new UsageError(`not an absolute http(s) URL: ${positionals[0]}`);
  }
  const maxHops = Number(flags['max-hops'] ?? 10);
  if (!Number.isInteger(maxHops) || maxHops < 1)
    throw new UsageError(`--max-hops must be a positive whole number, not ${flags['max-hops']}`);
  const json = Boolean(flags.json);
  const value = `chatgpt-ads-check-${Date.now().toString(36)}`;
  let hops: Hop[];
  try {
    hops = await traceRedirects(positionals[0]!, value, io.fetch, maxHops);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } })?.cause?.code;
    const message = `cannot request ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}${cause ? ` (${cause})` : ''}`;
    if (json) printJson(io, { ok: false, error: { kind: 'failed', message } });
    io.stderr(`${paint(io, 'stderr').red('error:')} ${message}\n`);
    return 1;
  }
  const last = hops.at(-1)!;
  const storedAt = hops.findIndex((hop) => hop.cookieSet);
  const lostAt = hops.findIndex((hop) => !hop.opprefInUrl);
  let verdict: 'redirect-loop' | 'stored' | 'kept' | 'lost';
  let message: string;
  if (last.location) {
    verdict = 'redirect-loop';
    message = `still redirecting after ${hops.length} hops`;
  } else if (storedAt !== -1 && (lostAt === -1 || storedAt < lostAt)) {
    verdict = 'stored';
    message = `the click id is stored in __oppref at hop ${storedAt + 1}${lostAt !== -1 ? ', before a redirect drops it from the URL' : ''}`;
  } else if (lostAt === -1) {
    verdict = 'kept';
    message =
      'oppref survives every redirect and reaches the final page (no server cookie seen: the pixel or your server must store it there)';
  } else {
    const by = hops[lostAt - 1]!;
    verdict = 'lost';
    message = `oppref is lost at hop ${lostAt + 1}: the ${by.redirect === 'meta-refresh' ? 'meta refresh' : `HTTP ${by.status} redirect`} of hop ${lostAt} drops the query string before anything stores it`;
  }
  const ok = verdict === 'stored' || verdict === 'kept';
  const warnings = hops.some((hop) => hop.scriptRedirect)
    ? [
        'the final page seems to redirect with JavaScript, which check-url does not follow: check that script keeps the query string',
      ]
    : [];
  if (json) {
    printJson(io, { ok, verdict, message, hops, warnings });
    return ok ? 0 : 1;
  }
  const c = paint(io, 'stdout');
  io.stdout(
    `${table([
      ['hop', 'status', 'oppref in URL', '__oppref cookie', 'url'],
      ...hops.map((hop, index) => [
        String(index + 1),
        hop.redirect === 'meta-refresh' ? `${hop.status} meta` : String(hop.status),
        hop.opprefInUrl ? 'yes' : 'LOST',
        hop.cookieSet ? 'set' : '-',
        hop.url,
      ]),
    ])}\n\n`,
  );
  for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
  io.stdout(`${ok ? c.green('✔') : c.red('✘')} ${message}\n`);
  return ok ? 0 : 1;
}
