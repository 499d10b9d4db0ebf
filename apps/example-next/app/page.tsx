import { cookies } from 'next/headers';
import { ads } from '../lib/chatgpt-ads';
import { ConsentBanner } from './consent-banner';

export default async function Home({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  const query = new URLSearchParams(await searchParams).toString();
  const decided = (await cookies()).has('demo_consent');
  return (
    <main>
      <ads.Pixel />
      <h1>Single-origin coffee, roasted this week</h1>
      <p>Arrived from a ChatGPT ad? Your click is remembered for 30 days, if you allow it.</p>
      {decided ? null : <ConsentBanner back={query ? `/?${query}` : '/'} />}
    </main>
  );
}
