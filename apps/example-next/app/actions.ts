'use server';
// Server actions: each conversion is queued during the action and sent after its response.
import { randomUUID } from 'node:crypto';
import { redirect } from 'next/navigation';
import { ads } from '../lib/chatgpt-ads';

export async function submitLead(formData: FormData) {
  const id = `lead_${randomUUID().slice(0, 8)}`;
  await ads.trackConversion({
    type: 'lead_created',
    id,
    user: { email: String(formData.get('email') ?? '') },
  });
  redirect(`/thanks?type=lead_created&id=${id}`);
}

export async function checkout(formData: FormData) {
  const id = `order_${randomUUID().slice(0, 8)}`;
  await ads.trackConversion({
    type: 'order_created',
    id,
    data: {
      amount: 8900,
      currency: 'USD',
      contents: [{ id: 'grinder', name: 'Hand grinder', quantity: 1, amount: 8900 }],
    },
    user: { email: String(formData.get('email') ?? '') },
  });
  redirect(`/thanks?type=order_created&id=${id}&amount=8900`);
}
