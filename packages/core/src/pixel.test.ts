import { describe, expect, it } from 'vitest';
import { renderPixel } from './pixel.js';

function calls(html: string): unknown[][] {
  const body = html.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, '');
  const recorded: unknown[][] = [];
  const fakeDocument = {
    createElement: () => ({}),
    getElementsByTagName: () => [{ parentNode: { insertBefore: () => undefined } }],
    head: { appendChild: () => undefined },
  };
  const win: Record<string, unknown> = {};
  new Function('window', 'document', `${body}`.replace(/oaiq\(/g, 'window.oaiq('))(win, fakeDocument);
  for (const args of (win.oaiq as { q: IArguments[] }).q) recorded.push([...args]);
  return recorded;
}

describe('renderPixel', () => {
  it('initializes and measures with event_id equal to the server id', () => {
    const html = renderPixel({
      pixelId: 'px_1',
      consent: 'granted',
      event: {
        type: 'order_created',
        id: 'order_1001',
        data: { amount: 12999, currency: 'usd', contents: [{ id: 'sku', contentType: 'product' }] },
      },
    });
    expect(calls(html)).toEqual([
      ['init', { pixelId: 'px_1' }],
      ['consent', true],
      [
        'measure',
        'order_created',
        {
          type: 'contents',
          amount: 12999,
          currency: 'USD',
          contents: [{ id: 'sku', content_type: 'product' }],
        },
        { event_id: 'order_1001' },
      ],
    ]);
  });

  it('sends consent(false) before init and measures nothing without consent', () => {
    const html = renderPixel({
      pixelId: 'px_1',
      consent: 'unknown',
      event: { type: 'lead_created', id: 'l1' },
    });
    expect(calls(html)).toEqual([
      ['consent', false],
      ['init', { pixelId: 'px_1' }],
    ]);
  });

  it('passes custom_event_name lowercased and opt_out', () => {
    const html = renderPixel({
      pixelId: 'p',
      consent: 'granted',
      event: { type: 'custom', id: 'c1', customEventName: 'Quote', optOut: true },
    });
    expect(calls(html)[2]).toEqual([
      'measure',
      'custom',
      { type: 'custom' },
      { event_id: 'c1', custom_event_name: 'quote', opt_out: true },
    ]);
  });

  it('escapes values so they cannot close the script or inject markup', () => {
    const html = renderPixel({
      pixelId: '</script><img src=x onerror=alert(1)>',
      consent: 'granted',
      nonce: 'a"b<',
      scriptUrl: 'http://127.0.0.1:8787/sdk/oaiq.min.js',
    });
    expect(html.match(/<\/script>/g)).toHaveLength(1);
    expect(html).toContain('nonce="a&quot;b&lt;"');
    expect(html).toContain('"http://127.0.0.1:8787/sdk/oaiq.min.js"');
    expect(calls(html)[0]).toEqual(['init', { pixelId: '</script><img src=x onerror=alert(1)>' }]);
  });
});
