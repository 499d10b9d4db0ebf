import { readOpprefFromUrl } from '@chatgpt-ads/core';
import { type CliIO, parseFlags, table, UsageError } from '../shared.js';

export const CHECK_URL_HELP = `Usage: chatgpt-ads check-url <landing url> [--max-hops 10]

Requests the landing URL with a test oppref appended and follows each redirect, reporting per hop
whether oppref is still in the URL and whether a __oppref cookie was set. Redirects that drop the
query string before anything stores the click id are the classic way conversions lose attribution.`;

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
}

/** Follows the chain from `start` (with `oppref=value` appended) and records every hop. */
export async function traceRedirects(
  start: string,
  value: string,
  fetchImpl: typeof fetch,
  maxHops = 10,
): Promise<Hop[]> {
  const first = new URL(start);
  let url = `${first.origin}${first.pathname}${first.search ? `${first.search}&` : '?'}oppref=${value}${first.hash}`;
  const hops: Hop[] = [];
  for (let i = 0; i < maxHops; i++) {
    const response = await fetchImpl(url, {
      redirect: 'manual',
      headers: { 'user-agent': 'chatgpt-ads check-url' },
    });
    await response.body?.cancel();
    const cookieSet = response.headers
      .getSetCookie()
      .some((cookie) => cookie.startsWith(`__oppref=${value}`));
    const location = response.headers.get('location') ?? undefined;
    hops.push({
      url,
      status: response.status,
      opprefInUrl: readOpprefFromUrl(url) === value,
      cookieSet,
      ...(location ? { location } : {}),
    });
    if (response.status < 300 || response.status >= 400 || !location) break;
    url = new URL(location, url).href;
  }
  return hops;
}

export async function checkUrl(argv: string[], io: CliIO): Promise<number> {
  const { values: flags, positionals } = parseFlags(
    argv,
    { help: { type: 'boolean', short: 'h' }, 'max-hops': { type: 'string' } },
    true,
  );
  if (flags.help) {
    io.stdout(`${CHECK_URL_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('check-url takes one landing URL');
  try {
    new URL(positionals[0]!);
  } catch {
    throw new UsageError(`not an absolute URL: ${positionals[0]}`);
  }
  const value = `chatgpt-ads-check-${Date.now().toString(36)}`;
  let hops: Hop[];
  try {
    hops = await traceRedirects(positionals[0]!, value, io.fetch, Number(flags['max-hops'] ?? 10));
  } catch (error) {
    io.stderr(
      `error: cannot request ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  io.stdout(
    `${table([
      ['hop', 'status', 'oppref in URL', '__oppref cookie', 'url'],
      ...hops.map((hop, index) => [
        String(index + 1),
        String(hop.status),
        hop.opprefInUrl ? 'yes' : 'LOST',
        hop.cookieSet ? 'set' : '-',
        hop.url,
      ]),
    ])}\n\n`,
  );
  const last = hops.at(-1)!;
  const storedAt = hops.findIndex((hop) => hop.cookieSet);
  const lostAt = hops.findIndex((hop) => !hop.opprefInUrl);
  if (last.status >= 300 && last.status < 400) {
    io.stdout(`✘ still redirecting after ${hops.length} hops\n`);
    return 1;
  }
  if (storedAt !== -1 && (lostAt === -1 || storedAt < lostAt)) {
    io.stdout(
      `✔ the click id is stored in __oppref at hop ${storedAt + 1}${lostAt !== -1 ? ', before a redirect drops it from the URL' : ''}\n`,
    );
    return 0;
  }
  if (lostAt === -1) {
    io.stdout(
      '✔ oppref survives every redirect and reaches the final page (no server cookie seen: the pixel or your server must store it there)\n',
    );
    return 0;
  }
  io.stdout(
    `✘ oppref is lost at hop ${lostAt + 1}: the redirect from hop ${lostAt} drops the query string before anything stores it\n`,
  );
  return 1;
}
