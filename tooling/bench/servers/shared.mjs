// What every benchmark server shares: its arguments, the client options and the conversion it tracks.
//   node servers/<framework>.mjs <baseline|empty|integrated> <pageview|conversion> <endpoint>
// Page view: GET /product (the integration's middleware runs, the route never calls track()).
// Conversion: POST /orders, one order_created with an email and a phone that change per request.
// empty: the bare framework with one middleware that only writes a landing's Set-Cookie by hand
// (what any middleware and that header cost there: the framework's price, not ours).
const [mode, scenario, endpoint] = process.argv.slice(2);
if (
  !['baseline', 'empty', 'integrated'].includes(mode) ||
  !['pageview', 'conversion'].includes(scenario) ||
  !endpoint
)
  throw new Error('usage: <baseline|empty|integrated> <pageview|conversion> <endpoint>');

export const integrated = mode === 'integrated';
export const empty = mode === 'empty';
/** The cookie our middleware writes on a landing with `oppref=gAAAAB-bench`, for the hand-written one. */
export const HAND_COOKIE = '__oppref=gAAAAB-bench; Path=/; Max-Age=2592000; SameSite=Lax';
/** Whether a request is a landing the hand-written middleware writes the cookie for. */
export const lands = (url) => url.includes('oppref=');
export const conversion = scenario === 'conversion';
export const options = {
  pixelId: 'px_bench',
  apiKey: 'sk_bench',
  endpoint,
  logger: { warn() {}, error() {} },
};
export const product = { id: 'sku_1', name: 'Hand grinder', price: 8900 };

let n = 0;
/** The next order: its id, and the conversion to track for it. Built in the baseline too. */
export function nextOrder() {
  n++;
  const id = `order_${process.pid}_${n}`;
  return {
    id,
    event: {
      type: 'order_created',
      id,
      data: { amount: 8900, currency: 'USD' },
      user: { email: `buyer${n}@example.com`, phone: `+1 415 555 ${String(n % 10_000).padStart(4, '0')}` },
    },
  };
}

export function listening(port) {
  process.stdout.write(`listening ${port}\n`);
}
