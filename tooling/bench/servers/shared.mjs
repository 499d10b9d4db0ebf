// What every benchmark server shares: its arguments, the client options and the conversion it tracks.
//   node servers/<framework>.mjs <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>
// Page view: GET /product (the integration's middleware runs, the route never calls track()).
// Conversion: POST /orders, one order_created with an email and a phone that change per request.
// empty: the bare framework with one middleware that only writes a landing's Set-Cookie by hand
// (what any middleware and that header cost there: the framework's price, not ours).
// spin: the baseline whose route also does SPIN_US µs of plain JavaScript work per order (a fixed
// amount, timed at start before any load; no I/O, no allocation): what that much work costs a request
// in this server on this machine, so that our cost in a route can be read against our cost in a loop.
import { makeOrder } from './order.mjs';

const [mode, scenario, endpoint] = process.argv.slice(2);
if (
  !['baseline', 'empty', 'integrated', 'spin'].includes(mode) ||
  !['pageview', 'conversion'].includes(scenario) ||
  !endpoint
)
  throw new Error('usage: <baseline|empty|integrated|spin> <pageview|conversion> <endpoint>');

export const integrated = mode === 'integrated';
export const empty = mode === 'empty';
/** The cookie our middleware writes on a landing with `oppref=gAAAAB-bench`, for the hand-written one. */
export const HAND_COOKIE = '__oppref=gAAAAB-bench; Path=/; Max-Age=2592000; SameSite=Lax';
/** Whether a request is a landing the hand-written middleware writes the cookie for. */
export const lands = (url) => url.includes('oppref=');
export const conversion = scenario === 'conversion';
const spinMicros = mode === 'spin' ? Number(process.env.SPIN_US) : 0;
if (mode === 'spin' && !(spinMicros > 0)) throw new Error('spin needs SPIN_US, a positive number of µs');
let spinState = 1;
function spin(rounds) {
  let x = spinState;
  for (let i = 0; i < rounds; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  spinState = x || 1;
}
// Rounds per µs of CPU, timed over 3e7 rounds (~50 ms of CPU) at start, so every request then
// does the same count of rounds.
const spinRounds = (() => {
  if (spinMicros === 0) return 0;
  spin(1e6);
  const before = process.cpuUsage();
  spin(3e7);
  const { user, system } = process.cpuUsage(before);
  return Math.round((3e7 / (user + system)) * spinMicros);
})();
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
  if (spinRounds > 0) spin(spinRounds);
  n++;
  return makeOrder(n, process.pid);
}

export function listening(port) {
  process.stdout.write(`listening ${port}\n`);
}
