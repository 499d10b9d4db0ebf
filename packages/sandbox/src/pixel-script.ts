// The sandbox's stand-in for the measurement pixel, served at /sdk/oaiq.min.js. It is a test double
// with the same commands and cookies, not OpenAI's script: it posts to the sandbox that served it.
export const PIXEL_SCRIPT = `/* chatgpt-ads sandbox stand-in pixel: for local development and tests only. */
(function () {
  'use strict';
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : location.origin;
  var DAYS_30 = 30 * 24 * 60 * 60;
  var pixels = {};
  var consent = readCookie('__oaiq_consent') !== 'false';
  var debug = false;

  function log() { if (debug) console.info.apply(console, ['[oaiq sandbox]'].concat([].slice.call(arguments))); }
  function readCookie(name) {
    var parts = document.cookie ? document.cookie.split('; ') : [];
    for (var i = 0; i < parts.length; i++) {
      var eq = parts[i].indexOf('=');
      if (parts[i].slice(0, eq) === name) return parts[i].slice(eq + 1);
    }
    return undefined;
  }
  function writeCookie(name, value, maxAge) {
    document.cookie = name + '=' + value + '; Path=/; Max-Age=' + maxAge + '; SameSite=Lax' +
      (location.protocol === 'https:' ? '; Secure' : '');
  }
  function rawQueryValue(name) {
    var query = location.search.slice(1).split('&');
    for (var i = 0; i < query.length; i++) {
      var eq = query[i].indexOf('=');
      if (eq > 0 && query[i].slice(0, eq) === name && query[i].length > eq + 1) return query[i].slice(eq + 1);
    }
    return undefined;
  }
  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = [].map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function capture() {
    if (!consent) return;
    var oppref = rawQueryValue('oppref');
    if (oppref && /^[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x7e]{1,2048}$/.test(oppref)) writeCookie('__oppref', oppref, DAYS_30);
    if (!readCookie('__obref')) writeCookie('__obref', uuid(), DAYS_30);
  }
  function send(pixelId, name, data, options) {
    options = options || {};
    if (!consent) { log('consent is false: not measuring', name); return; }
    if (!pixels[pixelId]) { log('pixel not initialized', pixelId); return; }
    if (name === 'custom' && !options.custom_event_name) { log('custom events need custom_event_name'); return; }
    var body = {
      event: name,
      event_id: options.event_id || options.eventId || uuid(),
      custom_event_name: options.custom_event_name,
      opt_out: options.opt_out === true ? true : undefined,
      data: data || {},
      oppref: readCookie('__oppref'),
      obref: readCookie('__obref'),
      source_url: location.origin + location.pathname,
      timestamp_ms: Date.now()
    };
    log('measure', name, body.event_id);
    fetch(base + '/v1/sdk/events?pid=' + encodeURIComponent(pixelId), {
      method: 'POST', mode: 'cors', keepalive: true,
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify(body)
    }).catch(function (error) { log('send failed', error); });
  }
  var commands = {
    init: function (options) {
      if (!options || !options.pixelId) { log('init needs pixelId'); return; }
      debug = debug || options.debug === true;
      pixels[options.pixelId] = { user: options.user };
      capture();
    },
    consent: function (granted) {
      consent = granted === true;
      writeCookie('__oaiq_consent', String(consent), DAYS_30);
      if (!consent) { writeCookie('__oppref', '', 0); writeCookie('__obref', '', 0); }
      else capture();
    },
    measure: function (name, data, options) {
      for (var id in pixels) send(id, name, data, options);
    },
    measureSingle: function (pixelId, name, data, options) { send(pixelId, name, data, options); }
  };
  function run(args) {
    var command = commands[args[0]];
    if (command) command.apply(null, [].slice.call(args, 1));
  }
  var queued = (window.oaiq && window.oaiq.q) || [];
  var oaiq = function () { run(arguments); };
  oaiq.q = [];
  oaiq.sandbox = true;
  window.oaiq = oaiq;
  for (var i = 0; i < queued.length; i++) run(queued[i]);
})();
`;
