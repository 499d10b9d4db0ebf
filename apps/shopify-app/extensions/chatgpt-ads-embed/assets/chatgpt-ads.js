// Theme app embed: copies the ChatGPT Ads click id and the visitor's marketing consent into cart
// attributes (_oppref, _chatgpt_ads_consent). Shopify copies cart attributes into the order's
// note_attributes, where the app's orders/create webhook reads them.
(() => {
  const OPPREF = '_oppref';
  const CONSENT = '_chatgpt_ads_consent';
  const SAFE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x7e]{1,2048}$/;

  function rawQueryValue(name) {
    const pairs = location.search.slice(1).split('&');
    for (let i = 0; i < pairs.length; i++) {
      const eq = pairs[i].indexOf('=');
      if (eq > 0 && pairs[i].slice(0, eq) === name && pairs[i].length > eq + 1) return pairs[i].slice(eq + 1);
    }
    return undefined;
  }
  function cookie(name) {
    const parts = document.cookie ? document.cookie.split('; ') : [];
    for (let i = 0; i < parts.length; i++) {
      const eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return parts[i].slice(eq + 1);
    }
    return undefined;
  }
  function consentState() {
    const privacy = window.Shopify && window.Shopify.customerPrivacy;
    if (!privacy || typeof privacy.marketingAllowed !== 'function') return undefined;
    return privacy.marketingAllowed() ? 'granted' : 'denied';
  }
  function save() {
    const consent = consentState();
    const attributes = {};
    if (consent) attributes[CONSENT] = consent;
    // Opaque value: the raw URL parameter (never decoded), else the pixel's __oppref cookie.
    const oppref = rawQueryValue('oppref') || cookie('__oppref');
    if (consent === 'denied') attributes[OPPREF] = '';
    else if (oppref && SAFE.test(oppref)) attributes[OPPREF] = oppref;
    if (!Object.keys(attributes).length) return;
    fetch('/cart/update.js', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ attributes: attributes }),
    });
  }
  function start() {
    if (window.Shopify && typeof window.Shopify.loadFeatures === 'function') {
      window.Shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (error) => {
        if (!error) save();
      });
    } else save();
    // The visitor may answer the cookie banner later.
    document.addEventListener('visitorConsentCollected', save);
  }
  start();
})();
