import { randomUUID } from 'node:crypto';

// The same JSON API without the integration: the benchmark's baseline for /api/orders.
export async function POST() {
  const order = { id: `order_${randomUUID().slice(0, 8)}`, total: 8900 };
  return Response.json(order);
}
