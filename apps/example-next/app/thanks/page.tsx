import { ads } from '../../lib/chatgpt-ads';

const TYPES = ['lead_created', 'order_created'] as const;

export default async function Thanks({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  const { type, id, amount } = await searchParams;
  const kind = TYPES.find((t) => t === type) ?? 'lead_created';
  const data = amount ? { amount: Number(amount), currency: 'USD' } : undefined;
  return (
    <main>
      {/* The page's pixel reports the same conversion with the same id as the server action did. */}
      <ads.Pixel event={{ type: kind, id: String(id), ...(data ? { data } : {}) }} />
      <h1>Thanks</h1>
      <p>
        Reference <code data-testid="conversion-id">{id}</code>
      </p>
    </main>
  );
}
