import { headers } from 'next/headers';

// A plain product page, rendered per request like any page under the proxy's CSP nonce. The
// benchmark serves it at /product (through the proxy's oppref capture) and at /product-baseline
// (the same proxy without the capture), so the difference is the capture alone.
export async function ProductPage() {
  const nonce = (await headers()).get('x-nonce') ?? '';
  return (
    <main data-nonce-length={nonce.length}>
      <h1>Hand grinder</h1>
      <p>$89.00</p>
    </main>
  );
}
