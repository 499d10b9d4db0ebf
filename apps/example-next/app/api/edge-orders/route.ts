import { ads } from '../../../lib/chatgpt-ads';

// The same handler on the Edge runtime: core uses Web APIs only (hashing falls back to Web Crypto).
export const runtime = 'edge';

export const POST = ads.withConversions(async (_request, { ads: visit }) => {
  const order = { id: `edge_${crypto.randomUUID().slice(0, 8)}`, total: 4200 };
  await visit.track({ type: 'order_created', id: order.id, data: { amount: order.total, currency: 'USD' } });
  return Response.json(order);
});
