// The app's pages inside the Shopify admin, built only through the escaping `html` template, with
// Shopify's App Bridge (session tokens, the admin frame) and Polaris web components (the admin's
// look) loaded from Shopify's CDN, and the app's own script served from /assets/.
import { html, type SafeHtml } from './html.js';
import type { SettingsView } from './storage.js';

/** Shopify serves these two scripts; App Bridge must be the first script of every page. */
export const APP_BRIDGE_URL = 'https://cdn.shopify.com/shopifycloud/app-bridge.js';
export const POLARIS_URL = 'https://cdn.shopify.com/shopifycloud/polaris.js';

/**
 * The page policy: scripts only from Shopify's two CDN files and the app's own /assets/ (never
 * inline), connections to the app and Shopify, and framing by the shop's admin only.
 */
export function pagePolicy(appOrigin: string, shop: string | undefined): string {
  return [
    "default-src 'none'",
    `script-src ${APP_BRIDGE_URL} ${POLARIS_URL} ${appOrigin}/assets/`,
    // Polaris's components carry their styles and set some inline; no script can come through here.
    "style-src https://cdn.shopify.com 'unsafe-inline'",
    'font-src https://cdn.shopify.com',
    "img-src 'self' data: https://cdn.shopify.com",
    "connect-src 'self' https://*.shopify.com",
    "form-action 'none'",
    "base-uri 'none'",
    `frame-ancestors ${shop ? `https://${shop} https://admin.shopify.com` : "'none'"}`,
  ].join('; ');
}

function document(apiKey: string, title: string, body: SafeHtml, script: string): SafeHtml {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="shopify-api-key" content="${apiKey}">
<script src="${APP_BRIDGE_URL}"></script>
<script src="${POLARIS_URL}"></script>
<title>${title}</title><link rel="icon" href="data:,">
</head><body>${body}<script src="/assets/${script}" defer></script></body></html>`;
}

/**
 * Opened without a valid session token (Shopify's first load, or a token that expired while the
 * page sat in the browser): App Bridge fetches a fresh token and the page reloads itself with it.
 */
export function reloadPage(apiKey: string): SafeHtml {
  return document(
    apiKey,
    'ChatGPT Ads conversions',
    html`<s-page heading="ChatGPT Ads conversions"><s-spinner accessibility-label="Loading"></s-spinner>
<noscript><p>Turn on JavaScript to use this app in your Shopify admin.</p></noscript></s-page>`,
    'reload.js',
  );
}

/** A page with one message, for what cannot be fixed from inside the app (opened outside the admin). */
export function messagePage(title: string, text: string): SafeHtml {
  return html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<link rel="icon" href="data:,"></head><body><h1>${title}</h1><p>${text}</p></body></html>`;
}

const POLICY_LABELS: Record<SettingsView['consentPolicy'], string> = {
  'skip-in-eea-uk-ch': 'Skip them if the shop is in the EEA, the UK or Switzerland, send them otherwise',
  skip: 'Always skip them',
  send: 'Always send them',
};

/**
 * What the settings page knows when it is served.
 *
 * @example
 * settingsPage(apiKey, { shop, view, country: 'DE', policyEffect: 'skipped' });
 */
export interface SettingsPageData {
  shop: string;
  view: SettingsView | undefined;
  country: string | undefined;
  /** Whether the Admin API answered this time (else `country` is the last known one). */
  countryFresh: boolean;
  policyEffect: string;
}

/** The settings page: connection, consent, test event and the delivery status panel. */
export function settingsPage(apiKey: string, data: SettingsPageData): SafeHtml {
  const { view } = data;
  const policy = view?.consentPolicy ?? 'skip-in-eea-uk-ch';
  const keyDetails = !view
    ? 'Not saved yet. Stored encrypted; never shown again after saving.'
    : view.key.readable
      ? `A key ending in ${view.key.last4} is saved (stored encrypted). Leave empty to keep it.`
      : 'The saved key cannot be read: enter it again.';
  const countryName = data.country ? countryLabel(data.country) : undefined;
  return document(
    apiKey,
    'ChatGPT Ads conversions',
    html`<s-page heading="ChatGPT Ads conversions" data-shop="${data.shop}">
<div id="messages" aria-live="polite"></div>
${
  view &&
  !view.key.readable &&
  html`<s-banner id="key-problem" tone="critical" heading="The saved Conversions API key cannot be read">Orders are answered 503 so Shopify keeps them and delivers them again once this is fixed: enter the key again below, or ask the app's operator to restore the encryption key (${view.key.problem}).</s-banner>`
}
<s-section heading="Connection">
<s-paragraph>Every order from your online store is sent to ChatGPT Ads as a purchase (<code>order_created</code>) by this app's server, with the ad's click id when the buyer came from an ad.</s-paragraph>
<s-text-field id="pixelId" name="pixelId" label="Pixel ID" value="${view?.pixelId ?? ''}" details="In ChatGPT Ads Manager, under Data sources." autocomplete="off"></s-text-field>
<s-password-field id="apiKey" name="apiKey" label="Conversions API key" details="${keyDetails}" autocomplete="off"></s-password-field>
</s-section>
<s-section heading="Consent">
<s-paragraph id="country">${
      countryName
        ? html`Shopify says this shop is in <strong>${countryName}</strong>${data.countryFresh ? '' : ' (last known: Shopify could not be asked just now)'}.`
        : html`Shopify did not say where this shop is, so it is treated as being in the EEA, the UK or Switzerland.`
    }</s-paragraph>
<s-select id="consentPolicy" name="consentPolicy" label="Orders without a consent signal" details="The theme app embed records each buyer's choice from Shopify's cookie banner on the order. This decides what happens to orders without one.">
${(Object.keys(POLICY_LABELS) as Array<SettingsView['consentPolicy']>).map(
  (value) =>
    html`<s-option value="${value}"${value === policy ? html` selected` : ''}>${POLICY_LABELS[value]}</s-option>`,
)}
</s-select>
<s-paragraph id="policy-effect">${data.policyEffect}</s-paragraph>
</s-section>
<s-stack direction="inline" gap="base">
<s-button id="save" variant="primary">Save</s-button>
<s-button id="test">Send test event</s-button>
</s-stack>
<s-section heading="Delivery status">
<s-paragraph id="backlog">Loading…</s-paragraph>
<s-table id="deliveries">
<s-table-header-row><s-table-header>Order</s-table-header><s-table-header>Received</s-table-header><s-table-header>Outcome</s-table-header><s-table-header>Why</s-table-header></s-table-header-row>
<s-table-body id="delivery-rows"></s-table-body>
</s-table>
<s-button id="refresh" variant="tertiary">Refresh</s-button>
</s-section>
</s-page>`,
    'settings.js',
  );
}

function countryLabel(code: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'region' }).of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** Reloads the page with a fresh session token from App Bridge (same path, never another origin). */
export const RELOAD_SCRIPT = `'use strict';
(async () => {
  // Outside the admin, App Bridge never answers: say where to open the app instead of spinning.
  setTimeout(() => {
    const note = document.createElement('p');
    note.textContent = 'Still loading? Open the app from your Shopify admin, under Apps.';
    document.body.append(note);
  }, 10000);
  const url = new URL(location.href);
  if (url.searchParams.get('bounced') === '1') url.searchParams.set('bounced', '2');
  else url.searchParams.set('bounced', '1');
  url.searchParams.set('id_token', await window.shopify.idToken());
  location.replace(url.pathname + url.search);
})();
`;

/**
 * The settings page's behaviour: every call to the app carries a fresh session token from App
 * Bridge; answers are shown as banners (critical for errors); the delivery panel is drawn from
 * /api/status with text nodes only.
 */
export const SETTINGS_SCRIPT = `'use strict';
(() => {
  const byId = (id) => document.getElementById(id);
  async function call(method, path, body) {
    let response;
    try {
      const headers = { authorization: 'Bearer ' + (await window.shopify.idToken()) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch {
      return { ok: false, data: { error: 'The app could not be reached. Check your connection and try again.' } };
    }
    let data;
    try {
      data = await response.json();
    } catch {
      data = { error: 'The app answered ' + response.status + ' without an explanation.' };
    }
    return { ok: response.ok, data };
  }
  function banner(tone, heading, text) {
    const element = document.createElement('s-banner');
    element.setAttribute('tone', tone);
    element.setAttribute('heading', heading);
    element.textContent = text || '';
    byId('messages').replaceChildren(element);
  }
  const OUTCOMES = {
    sent: ['success', 'Sent'],
    queued: ['info', 'Waiting to be sent'],
    retrying: ['warning', 'Shopify will retry'],
    skipped: ['neutral', 'Skipped'],
    dead_lettered: ['critical', 'Not sent'],
    refused: ['critical', 'Not sent'],
  };
  function cell(content) {
    const element = document.createElement('s-table-cell');
    if (typeof content === 'string') element.textContent = content;
    else element.append(content);
    return element;
  }
  function drawStatus(status) {
    byId('backlog').textContent =
      status.backlog === 0
        ? 'Nothing is waiting to be sent.'
        : status.backlog + (status.backlog === 1 ? ' conversion is' : ' conversions are') + ' waiting to be sent.';
    const rows = status.deliveries.map((delivery) => {
      const [tone, label] = OUTCOMES[delivery.outcome] || ['neutral', delivery.outcome];
      const badge = document.createElement('s-badge');
      badge.setAttribute('tone', tone);
      badge.textContent = label;
      const row = document.createElement('s-table-row');
      row.dataset.outcome = delivery.outcome;
      row.append(
        cell(delivery.order),
        cell(new Date(delivery.receivedAt).toLocaleString()),
        cell(badge),
        cell(delivery.reason || ''),
      );
      return row;
    });
    if (rows.length === 0) {
      const row = document.createElement('s-table-row');
      row.append(cell('No orders yet.'), cell(''), cell(''), cell(''));
      rows.push(row);
    }
    byId('delivery-rows').replaceChildren(...rows);
    if (status.halted) banner('critical', 'ChatGPT Ads is refusing this shop\\'s conversions', status.halted);
  }
  async function refresh() {
    const { ok, data } = await call('GET', '/api/status');
    if (!ok) return banner('critical', 'The delivery status could not be loaded', data.error);
    drawStatus(data);
  }
  function busy(id, on) {
    const button = byId(id);
    if (on) button.setAttribute('loading', '');
    else button.removeAttribute('loading');
  }
  byId('save').addEventListener('click', async () => {
    busy('save', true);
    const { ok, data } = await call('POST', '/api/settings', {
      pixelId: byId('pixelId').value || '',
      apiKey: byId('apiKey').value || '',
      consentPolicy: byId('consentPolicy').value || '',
    });
    busy('save', false);
    if (!ok) return banner('critical', 'Not saved', data.error);
    byId('apiKey').value = '';
    byId('apiKey').setAttribute('details', data.keyDetails);
    byId('policy-effect').textContent = data.policyEffect;
    byId('key-problem')?.remove();
    banner('success', 'Saved', data.message);
  });
  byId('test').addEventListener('click', async () => {
    busy('test', true);
    const { ok, data } = await call('POST', '/api/test-event');
    busy('test', false);
    if (!ok) return banner('critical', 'Test event failed', data.error);
    banner('success', 'Test event accepted', data.message);
  });
  byId('refresh').addEventListener('click', refresh);
  refresh();
  setInterval(refresh, 30000);
})();
`;
