// Server-rendered pages of the demo store. Every dynamic value goes through `escape`.
import { fromMinorUnits } from '@chatgpt-ads/core';

export interface Product {
  sku: string;
  name: string;
  blurb: string;
  price: number; // minor units (USD cents)
  color: string;
}

export const CURRENCY = 'USD';

export const PRODUCTS: readonly Product[] = [
  {
    sku: 'beans-ethiopia',
    name: 'Yirgacheffe beans',
    blurb: 'Floral, bright, 340 g',
    price: 1899,
    color: '#f4d9b0',
  },
  {
    sku: 'beans-colombia',
    name: 'Huila beans',
    blurb: 'Caramel and red apple, 340 g',
    price: 1699,
    color: '#e8c7a0',
  },
  { sku: 'grinder', name: 'Hand grinder', blurb: 'Steel burrs, 40 settings', price: 8900, color: '#d6dde4' },
  {
    sku: 'dripper',
    name: 'Ceramic dripper',
    blurb: 'Pour-over for one or two',
    price: 2999,
    color: '#f1e6dc',
  },
];

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function money(minor: number): string {
  return `$${fromMinorUnits(minor, CURRENCY)}`;
}

export interface Page {
  title: string;
  body: string;
  pixel: string;
  /** The visitor switched the pixel off, as an ad blocker would: the page carries no pixel. */
  pixelBlocked: boolean;
  nonce: string;
  consent: 'granted' | 'denied' | 'unknown';
  cartCount: number;
}

export function layout(page: Page): string {
  const banner =
    page.consent === 'unknown'
      ? `<form class="consent" method="post" action="/consent" data-testid="consent-banner">
          <p><strong>Cookies for ad measurement?</strong> We would like to measure which ChatGPT ads bring you here.
          Nothing is stored or sent unless you accept.</p>
          <input type="hidden" name="back" value="">
          <button name="choice" value="accept" class="primary">Accept</button>
          <button name="choice" value="reject">Reject</button>
        </form>`
      : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · Northwind Coffee</title>
<link rel="icon" href="data:,">
${page.pixel}
<style>
  :root { font: 15px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; }
  body { margin: 0; background: #fbfaf8; }
  header { display: flex; align-items: center; justify-content: space-between; padding: 16px 32px; background: #fff; border-bottom: 1px solid #eee; }
  header a { color: inherit; text-decoration: none; }
  .logo { font-weight: 700; font-size: 18px; letter-spacing: -.01em; }
  nav a { margin-left: 20px; color: #57606a; }
  main { max-width: 960px; margin: 0 auto; padding: 32px; }
  h1 { font-size: 30px; letter-spacing: -.02em; margin: 0 0 8px; }
  .lead { color: #57606a; margin: 0 0 28px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 18px; }
  .card { background: #fff; border: 1px solid #eee; border-radius: 12px; overflow: hidden; }
  .card .swatch { height: 110px; }
  .card .info { padding: 14px; }
  .card h3 { margin: 0; font-size: 16px; }
  .card p { margin: 4px 0 12px; color: #57606a; font-size: 13px; }
  .row { display: flex; justify-content: space-between; align-items: center; }
  button, .button { font: inherit; border: 1px solid #d0d7de; background: #fff; border-radius: 8px; padding: 7px 14px; cursor: pointer; color: inherit; text-decoration: none; display: inline-block; }
  .primary { background: #1f2328; border-color: #1f2328; color: #fff; }
  form.stack { display: grid; gap: 12px; max-width: 420px; background: #fff; border: 1px solid #eee; border-radius: 12px; padding: 20px; }
  label { display: grid; gap: 4px; font-size: 13px; color: #57606a; }
  input, select { font: inherit; padding: 8px 10px; border: 1px solid #d0d7de; border-radius: 8px; }
  table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #eee; border-radius: 12px; margin-bottom: 20px; }
  td, th { padding: 10px 14px; border-bottom: 1px solid #eee; text-align: left; }
  .consent { position: fixed; left: 24px; right: 24px; bottom: 24px; max-width: 720px; margin: 0 auto; background: #1f2328; color: #fff; border-radius: 12px; padding: 16px 20px; box-shadow: 0 10px 30px rgba(0,0,0,.2); }
  .consent p { margin: 0 0 12px; }
  .consent button { border-color: #57606a; background: transparent; color: #fff; }
  .consent button.primary { background: #fff; color: #1f2328; }
  .fine { color: #8c959f; font-size: 12px; margin-top: 28px; }
  .switch { display: flex; flex-wrap: wrap; align-items: center; justify-content: center; gap: 8px 14px; padding: 8px 32px; font-size: 13px; background: #f6f8fa; border-bottom: 1px solid #eee; color: #57606a; }
  .switch.blocked { background: #fff8c5; color: #6a4f00; }
  .switch form { margin: 0; }
  .switch button { padding: 3px 10px; font-size: 13px; }
  .report { border-left: 3px solid #1f883d; padding: 8px 14px; background: #fff; }
  .report.server-only { border-color: #0f766e; }
  .report.nothing { border-color: #cf222e; }
</style>
</head>
<body>
<header>
  <a class="logo" href="/">☕ Northwind Coffee</a>
  <nav><a href="/">Shop</a><a href="/lead">Wholesale</a><a href="/book">Tasting</a><a href="/cart" data-testid="cart-link">Cart (${page.cartCount})</a></nav>
</header>
${pixelSwitch(page.pixelBlocked, page.consent)}
<main>
${page.body}
<p class="fine" data-testid="consent-note">${consentNote(page.consent)}</p>
</main>
${banner}
<script nonce="${escapeHtml(page.nonce)}">
  document.querySelectorAll('input[name=back]').forEach(function (input) { input.value = location.pathname + location.search; });
</script>
</body>
</html>`;
}

export function shopBody(): string {
  const cards = PRODUCTS.map(
    (p) => `<div class="card">
      <div class="swatch" style="background:${escapeHtml(p.color)}"></div>
      <div class="info"><h3>${escapeHtml(p.name)}</h3><p>${escapeHtml(p.blurb)}</p>
        <form method="post" action="/cart/add" class="row"><strong>${money(p.price)}</strong>
          <input type="hidden" name="sku" value="${escapeHtml(p.sku)}">
          <button data-testid="add-${escapeHtml(p.sku)}">Add to cart</button></form></div>
    </div>`,
  ).join('');
  return `<h1>Single-origin coffee, roasted this week</h1>
    <p class="lead">Arrived from a ChatGPT ad? Your click is remembered for 30 days, if you allow it.</p>
    <div class="grid">${cards}</div>`;
}

export function leadBody(): string {
  return `<h1>Wholesale enquiries</h1><p class="lead">Cafés and offices: tell us about you and we will call back.</p>
  <form class="stack" method="post" action="/lead" data-testid="lead-form">
    <label>Name <input name="name" required value="Alex Rivera"></label>
    <label>Email <input name="email" type="email" required value="alex@example.com"></label>
    <label>Phone <input name="phone" value="+1 (415) 555-2671"></label>
    <button class="primary" data-testid="lead-submit">Send enquiry</button>
  </form>`;
}

export function bookBody(): string {
  return `<h1>Book a tasting</h1><p class="lead">A 30-minute cupping session at our roastery.</p>
  <form class="stack" method="post" action="/book" data-testid="book-form">
    <label>Email <input name="email" type="email" required value="sam@example.com"></label>
    <label>Day <select name="day"><option>Saturday</option><option>Sunday</option></select></label>
    <button class="primary" data-testid="book-submit">Book</button>
  </form>`;
}

export function cartBody(lines: ReadonlyArray<{ product: Product; quantity: number }>): string {
  if (lines.length === 0)
    return '<h1>Your cart is empty</h1><p class="lead"><a href="/">Back to the shop</a></p>';
  const total = lines.reduce((sum, l) => sum + l.product.price * l.quantity, 0);
  const rows = lines
    .map(
      (l) =>
        `<tr><td>${escapeHtml(l.product.name)}</td><td>${l.quantity}</td><td>${money(l.product.price * l.quantity)}</td></tr>`,
    )
    .join('');
  return `<h1>Checkout</h1>
  <table><tr><th>Item</th><th>Qty</th><th>Price</th></tr>${rows}<tr><th colspan="2">Total</th><th>${money(total)}</th></tr></table>
  <form class="stack" method="post" action="/checkout" data-testid="checkout-form">
    <label>Email <input name="email" type="email" required value="jordan@example.com"></label>
    <label>First name <input name="firstName" value="Jordan"></label>
    <label>Last name <input name="lastName" value="O'Neil"></label>
    <label>Country <select name="country"><option value="US">United States</option><option value="GB">United Kingdom</option></select></label>
    <button class="primary" data-testid="checkout-submit">Pay ${money(total)}</button>
  </form>`;
}

/**
 * Who reported a conversion to ChatGPT Ads, or why nobody did.
 *
 * @example
 * const reported: Reported = { sent: false, why: 'rejected' };
 */
export type Reported =
  | { sent: true; pixel: boolean }
  | { sent: false; why: 'rejected' | 'unanswered' | 'refused'; detail?: string };

function reportText(reported: Reported): { className: string; text: string } {
  if (reported.sent && reported.pixel)
    return {
      className: 'both',
      text: 'The server and the pixel both report it with this id, so ChatGPT Ads counts it once.',
    };
  if (reported.sent)
    return {
      className: 'server-only',
      text:
        'The pixel is blocked on this page, as an ad blocker would block it, so only the server reported it. ' +
        'Without the server this conversion would have been lost; the sandbox marks it "recovered by the server".',
    };
  if (reported.why === 'rejected')
    return {
      className: 'nothing',
      text: 'Nothing was sent to ChatGPT Ads: you rejected ad measurement, so neither the server nor the pixel reported it.',
    };
  if (reported.why === 'unanswered')
    return {
      className: 'nothing',
      text: 'Nothing was sent to ChatGPT Ads: you have not answered the cookie banner, and nothing is sent without your consent.',
    };
  return {
    className: 'nothing',
    text: `Nothing was sent to ChatGPT Ads: the server refused the event (${reported.detail ?? 'invalid'}).`,
  };
}

export function thanksBody(title: string, text: string, id: string, reported: Reported): string {
  const report = reportText(reported);
  return `<h1>${escapeHtml(title)}</h1><p class="lead">${escapeHtml(text)}</p>
  <p>Reference: <code data-testid="conversion-id">${escapeHtml(id)}</code>.</p>
  <p class="report ${report.className}" data-testid="conversion-report">${escapeHtml(report.text)}</p>
  <p><a class="button" href="/">Continue shopping</a></p>`;
}

function consentNote(consent: Page['consent']): string {
  const where = `Demo store of chatgpt-ads: conversions go to the local sandbox, never to OpenAI. Consent: ${consent}.`;
  if (consent === 'granted') return `${where} You accepted ad measurement.`;
  if (consent === 'denied')
    return `${where} You rejected ad measurement: no click id is kept and nothing is sent.`;
  return `${where} Until you answer the banner, no click id is kept and nothing is sent.`;
}

function pixelSwitch(blocked: boolean, consent: Page['consent']): string {
  const granted = consent === 'granted';
  // Without consent neither channel reports anything, so the switch must not claim otherwise.
  const state = blocked
    ? `<strong>Pixel blocked</strong> on these pages, as an ad blocker would block it${granted ? ': only the server reports conversions.' : '.'}`
    : granted
      ? '<strong>Pixel on</strong>: the browser and the server both report conversions.'
      : '<strong>Pixel on</strong>: it loads, but neither it nor the server reports anything without your consent.';
  return `<div class="switch${blocked ? ' blocked' : ''}" data-testid="pixel-switch"><span>${state}</span>
  <form method="post" action="/pixel"><input type="hidden" name="back" value="">
    <button name="pixel" value="${blocked ? 'allowed' : 'blocked'}" data-testid="pixel-toggle">${blocked ? 'Allow the pixel' : 'Block the pixel'}</button>
  </form></div>`;
}
