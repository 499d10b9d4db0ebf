// The order every benchmark conversion tracks: an order_created with an email and a phone that change
// with n. Shared by the servers (one per request) and the in-loop measurement of request-path.mjs.

/** Order number n: its id, and the conversion to track for it. */
export function makeOrder(n, prefix) {
  const id = `order_${prefix}_${n}`;
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
