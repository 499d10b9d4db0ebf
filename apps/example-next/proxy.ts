// Next 16 proxy: a CSP nonce for every page, then oppref capture into __oppref.
import { appConsent, pixelConsentCookie } from '@chatgpt-ads/core';
import { createOpprefProxy } from '@chatgpt-ads/next/proxy';
import { type NextRequest, NextResponse } from 'next/server';

const capture = createOpprefProxy({
  consent: {
    mode: 'opt-in',
    resolvers: [
      appConsent((signals) => {
        const choice = signals.cookie('demo_consent');
        return choice === 'granted' || choice === 'denied' ? choice : undefined;
      }),
      pixelConsentCookie(),
    ],
  },
});

export function proxy(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const sandbox = new URL(process.env.CHATGPT_ADS_PIXEL_SCRIPT ?? 'http://127.0.0.1:8787/sdk/oaiq.min.js')
    .origin;
  const csp = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'`,
    `connect-src 'self' ${sandbox}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
  ].join('; ');
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  requestHeaders.set('content-security-policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set('content-security-policy', csp);
  // The benchmark's page-view baseline: the same proxy, nonce and CSP, without the capture.
  if (request.nextUrl.pathname === '/product-baseline') return response;
  return capture.apply(request, response);
}

export const config = {
  matcher: ['/((?!api|_next/static|_next/image|favicon.ico).*)'],
};
