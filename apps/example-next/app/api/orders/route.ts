import { randomUUID } from 'node:crypto';
import { ads } from '../../../lib/chatgpt-ads';

// A JSON API: the response returns at once; the conversion leaves after it, inside after().
export const POST = ads.withConversions(async (_request, { ads: visit }) => {
  const order = { id: `order_${randomUUID().slice(0, 8)}`, total: 8900 };
  await visit.track({ type: 'order_created', id: order.id, data: { amount: order.total, currency: 'USD' } });
  return Response.json(order);
});
