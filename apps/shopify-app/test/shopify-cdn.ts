// Browser tests have no network, and Shopify's App Bridge and Polaris scripts come from Shopify's
// CDN. These stand-ins are served in their place at the network layer (the page still asks for the
// real URLs, under the real page policy): App Bridge's `shopify.idToken()` answers session tokens
// signed here with the app secret, and Polaris's form elements are plain inputs in a shadow root
// with the same `value` property. They test the app's page and script, not Shopify's look.
import type { BrowserContext } from 'playwright-core';
import type { Admin } from './helpers.js';

const POLARIS_STAND_IN = `(() => {
  class Field extends HTMLElement {
    connectedCallback() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: 'open' });
      const label = document.createElement('label');
      label.textContent = this.getAttribute('label') || '';
      this.input = document.createElement('input');
      this.input.type = this.localName === 's-password-field' ? 'password' : 'text';
      this.input.value = this.getAttribute('value') || '';
      label.append(this.input);
      root.append(label);
    }
    get value() { return this.input ? this.input.value : this.getAttribute('value') || ''; }
    set value(v) { if (this.input) this.input.value = v; else this.setAttribute('value', v); }
  }
  class Select extends HTMLElement {
    // Its options are parsed after the element itself: build the control once the document is read.
    connectedCallback() {
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => this.build());
      else this.build();
    }
    build() {
      if (this.shadowRoot) return;
      const root = this.attachShadow({ mode: 'open' });
      this.select = document.createElement('select');
      for (const option of this.querySelectorAll('s-option')) {
        const native = new Option(option.textContent, option.getAttribute('value'), false, option.hasAttribute('selected'));
        this.select.append(native);
      }
      root.append(this.select);
    }
    get value() { return this.select ? this.select.value : ''; }
    set value(v) { if (this.select) this.select.value = v; }
  }
  customElements.define('s-text-field', Field);
  customElements.define('s-password-field', class extends Field {});
  customElements.define('s-select', Select);
})();`;

/** Serves the stand-ins for Shopify's CDN scripts to every page of `context`, as `admin`'s shop. */
export async function standInShopifyCdn(context: BrowserContext, admin: Admin, requests: string[] = []) {
  await context.route('https://cdn.shopify.com/**', async (route) => {
    const url = route.request().url();
    requests.push(url);
    if (url === 'https://cdn.shopify.com/shopifycloud/app-bridge.js') {
      // A fresh token on every call, as App Bridge fetches one from the admin each time.
      const tokens = Array.from({ length: 20 }, () => admin.token());
      return route.fulfill({
        contentType: 'text/javascript',
        body: `window.shopify = { tokens: ${JSON.stringify(tokens)}, idToken() { return Promise.resolve(this.tokens.shift()); } };`,
      });
    }
    if (url === 'https://cdn.shopify.com/shopifycloud/polaris.js') {
      return route.fulfill({ contentType: 'text/javascript', body: POLARIS_STAND_IN });
    }
    return route.fulfill({ status: 404, body: '' });
  });
}
