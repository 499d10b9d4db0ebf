// Runs the pixel snippet in the browser. A <script> that React renders does not execute after a
// client-side navigation (a server action's redirect, a <Link>), so the snippet runs from an effect.
import { useEffect } from 'react';

/**
 * Executes the pixel code once mounted, as a script element carrying the page's CSP nonce.
 *
 * @example
 * <PixelScript code={renderPixelCode(options)} nonce={nonce} />
 */
export function PixelScript({ code, nonce }: { code: string; nonce?: string }): null {
  useEffect(() => {
    const script = document.createElement('script');
    if (nonce) script.nonce = nonce;
    script.textContent = code;
    document.head.appendChild(script);
    script.remove();
  }, [code, nonce]);
  return null;
}
