import { createHash } from 'node:crypto';

// The inspector page served at `/`: plain HTML, CSS and script, no framework. Every value that comes
// from a request (ids, user agents, oppref, error paths) reaches the page through textContent, never
// as HTML; the Content-Security-Policy below allows only this page's own style and script by hash, so
// an injected handler or script would not run even if a future change wrote HTML.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ChatGPT Ads sandbox</title>
<link rel="icon" href="data:,">
<style>
  :root {
    --bg: #f7f7f8; --panel: #fff; --ink: #111827; --muted: #6b7280; --line: #e5e7eb;
    --green: #047857; --green-bg: #ecfdf5; --red: #b91c1c; --red-bg: #fef2f2; --amber: #92400e; --amber-bg: #fffbeb;
    --blue: #1d4ed8; --blue-bg: #eff6ff; --violet: #6d28d9; --violet-bg: #f5f3ff; --accent: #10a37f;
    font: 14px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); }
  header.top { display: flex; align-items: center; gap: 24px; padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
  .brand { font-size: 16px; white-space: nowrap; }
  .brand .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); margin-right: 8px; }
  .endpoint { color: var(--muted); flex: 1; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; padding: 1px 5px; border-radius: 4px; }
  .stats { display: flex; gap: 18px; color: var(--muted); white-space: nowrap; }
  .stats b { color: var(--ink); font-weight: 600; }
  button { font: inherit; border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 5px 12px; cursor: pointer; }
  button:hover { background: #f3f4f6; }
  nav.toolbar { display: flex; justify-content: space-between; align-items: center; padding: 10px 24px; gap: 16px; }
  .tabs button { border: none; background: none; padding: 6px 10px; border-radius: 6px; color: var(--muted); }
  .tabs button.active { background: var(--panel); color: var(--ink); box-shadow: 0 0 0 1px var(--line); }
  .filters { display: flex; gap: 8px; align-items: center; }
  select, input { font: inherit; border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: var(--panel); }
  .live { color: var(--green); font-size: 12px; margin-left: 6px; }
  .live.off { color: var(--red); }
  main { display: flex; gap: 16px; padding: 0 24px 24px; align-items: flex-start; }
  section { flex: 1; min-width: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
  table { width: 100%; border-collapse: collapse; }
  th { text-align: left; font-weight: 500; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; padding: 9px 12px; border-bottom: 1px solid var(--line); background: #fafafa; }
  td { padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
  tbody tr { cursor: pointer; }
  tbody tr:hover { background: #f9fafb; }
  tbody tr.selected { background: var(--blue-bg); }
  tbody tr.fresh { animation: fresh 1.6s ease-out; }
  @keyframes fresh { from { background: #d1fae5; } to { background: transparent; } }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; word-break: break-all; }
  .muted { color: var(--muted); }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; white-space: nowrap; }
  .pill.server { background: var(--violet-bg); color: var(--violet); }
  .pill.pixel { background: var(--amber-bg); color: var(--amber); }
  .pill.first { background: var(--green-bg); color: var(--green); }
  .pill.dup { background: #f3f4f6; color: var(--muted); }
  .pill.ok { background: var(--green-bg); color: var(--green); }
  .pill.err { background: var(--red-bg); color: var(--red); }
  .chips { display: flex; flex-wrap: wrap; gap: 4px; }
  .chip { font-size: 11.5px; padding: 0 6px; border-radius: 4px; background: var(--blue-bg); color: var(--blue); }
  .chip.key { background: var(--green-bg); color: var(--green); font-weight: 600; }
  .chip.missing { background: var(--red-bg); color: var(--red); }
  .money { white-space: nowrap; font-variant-numeric: tabular-nums; }
  .errors { margin: 4px 0 0; padding-left: 16px; color: var(--red); }
  .empty { padding: 28px; text-align: center; color: var(--muted); margin: 0; }
  aside { width: 440px; flex: none; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; position: sticky; top: 12px; max-height: calc(100vh - 24px); overflow: auto; }
  aside header { display: flex; justify-content: space-between; align-items: center; padding: 12px 16px; border-bottom: 1px solid var(--line); }
  aside h2 { font-size: 15px; margin: 0; }
  dl { display: grid; grid-template-columns: 120px 1fr; gap: 6px 12px; padding: 12px 16px; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; word-break: break-all; }
  pre { margin: 0; white-space: pre-wrap; word-break: break-all; padding: 12px 16px; background: #0b1020; color: #e5e7eb; font-size: 12px; overflow: auto; border-radius: 0 0 10px 10px; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="dot"></span>ChatGPT Ads <b>sandbox</b></div>
  <div class="endpoint">POST <code id="endpoint"></code></div>
  <div class="stats" id="stats"></div>
  <button id="reset" title="Forget every event and request">Clear</button>
</header>
<nav class="toolbar">
  <div class="tabs">
    <button data-tab="events" class="active">Events <span id="count-events"></span></button>
    <button data-tab="requests">Requests <span id="count-requests"></span></button>
  </div>
  <div class="filters">
    <select id="filter-type" aria-label="Event type"><option value="">All events</option></select>
    <select id="filter-channel" aria-label="Channel">
      <option value="">All channels</option><option value="server_to_server">Server</option><option value="pixel_sdk">Pixel</option>
    </select>
    <input id="filter-id" placeholder="Search id…" aria-label="Search id">
    <span id="live" class="live">● live</span>
  </div>
</nav>
<main>
  <section id="events-view">
    <table>
      <thead><tr><th>Time</th><th>Channel</th><th>Event</th><th>ID</th><th>Dedup</th><th>Attribution</th><th>Value</th></tr></thead>
      <tbody id="events"></tbody>
    </table>
    <p class="empty" id="events-empty">No events yet. Send conversions to the endpoint above, or load a page that uses the stand-in pixel.</p>
  </section>
  <section id="requests-view" hidden>
    <table>
      <thead><tr><th>Time</th><th>Request</th><th>Status</th><th>Events</th><th>Details</th></tr></thead>
      <tbody id="requests"></tbody>
    </table>
    <p class="empty" id="requests-empty">No requests yet.</p>
  </section>
  <aside id="detail" hidden>
    <header><h2 id="detail-title"></h2><button id="detail-close" aria-label="Close">×</button></header>
    <dl id="detail-summary"></dl>
    <pre id="detail-json"></pre>
  </aside>
</main>
<script>
(function () {
  'use strict';
  var events = [], requests = [], selected = null, tab = 'events';
  var $ = function (id) { return document.getElementById(id); };
  $('endpoint').textContent = location.origin + '/v1/events?pid=…';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function time(ms) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
  function money(amount, currency) {
    if (typeof amount !== 'number') return '';
    if (!currency) return String(amount);
    try {
      var format = new Intl.NumberFormat(undefined, { style: 'currency', currency: currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(amount / Math.pow(10, digits));
    } catch (e) { return amount + ' ' + currency; }
  }
  function eventName(e) { return e.event.type === 'custom' ? 'custom: ' + (e.event.custom_event_name || '?') : e.event.type; }
  function channelPill(channel) {
    return el('span', 'pill ' + (channel === 'pixel_sdk' ? 'pixel' : 'server'), channel === 'pixel_sdk' ? 'Pixel' : 'Server');
  }
  function signals(e) {
    var user = e.event.user || {}, chips = el('div', 'chips');
    function chip(label, on, cls) { if (on) chips.appendChild(el('span', 'chip' + (cls ? ' ' + cls : ''), label)); }
    chip('oppref', typeof e.event.oppref === 'string', 'key');
    chip('obref', !!user.obref, 'key');
    chip('email #', !!(user.emails_sha256 && user.emails_sha256.length));
    chip('phone #', !!(user.phone_numbers_sha256 && user.phone_numbers_sha256.length));
    chip('external id #', !!(user.external_ids_sha256 && user.external_ids_sha256.length));
    chip('name #', !!((user.first_names_sha256 || []).length || (user.last_names_sha256 || []).length));
    chip('geo', !!((user.cities || []).length || (user.postal_codes || []).length || (user.countries || []).length));
    chip('ip', !!user.ip_address);
    chip('ua', !!user.user_agent);
    if (!chips.childNodes.length) chips.appendChild(el('span', 'chip missing', 'no click id'));
    return chips;
  }
  function duplicatesOf(seq) { return events.filter(function (x) { return x.duplicateOf === seq; }); }
  function dedupCell(e) {
    if (e.duplicateOf !== undefined) {
      var first = events.find(function (x) { return x.seq === e.duplicateOf; });
      return el('span', 'pill dup', 'Duplicate of #' + e.duplicateOf + (first ? ' (' + (first.channel === 'pixel_sdk' ? 'pixel' : 'server') + ')' : ''));
    }
    var dups = duplicatesOf(e.seq);
    return el('span', 'pill first', dups.length ? 'First · ' + dups.length + ' duplicate' + (dups.length > 1 ? 's' : '') : 'First');
  }
  function matches(e) {
    var type = $('filter-type').value, channel = $('filter-channel').value, q = $('filter-id').value.trim();
    return (!type || eventName(e) === type) && (!channel || e.channel === channel) && (!q || String(e.event.id).indexOf(q) !== -1);
  }
  function renderTypes() {
    var select = $('filter-type'), current = select.value, seen = {};
    events.forEach(function (e) { seen[eventName(e)] = true; });
    var names = Object.keys(seen).sort();
    while (select.options.length > 1) select.remove(1);
    names.forEach(function (name) { select.appendChild(el('option', '', name)); });
    select.value = names.indexOf(current) !== -1 ? current : '';
  }
  function renderStats() {
    var dups = events.filter(function (e) { return e.duplicateOf !== undefined; }).length;
    var failed = requests.filter(function (r) { return r.status >= 400 || r.status === 0; }).length;
    var stats = $('stats');
    stats.textContent = '';
    [['event', events.length - dups], ['duplicate', dups], ['request', requests.length], ['failed', failed]].forEach(function (pair) {
      var label = pair[0] === 'failed' || pair[1] === 1 ? pair[0] : pair[0] + 's';
      var span = el('span'); span.appendChild(el('b', '', String(pair[1]))); span.appendChild(document.createTextNode(' ' + label)); stats.appendChild(span);
    });
    $('count-events').textContent = '(' + events.length + ')';
    $('count-requests').textContent = '(' + requests.length + ')';
  }
  function renderEvents(freshSeq) {
    var body = $('events');
    body.textContent = '';
    var shown = events.filter(matches).slice().reverse().slice(0, 500);
    shown.forEach(function (e) {
      var row = el('tr'); row.dataset.seq = e.seq; row.dataset.testid = 'event-row';
      if (selected && selected.kind === 'event' && selected.seq === e.seq) row.className = 'selected';
      if (e.seq === freshSeq) row.classList.add('fresh');
      row.appendChild(el('td', 'muted', time(e.receivedAt)));
      var channel = el('td'); channel.appendChild(channelPill(e.channel)); row.appendChild(channel);
      row.appendChild(el('td', '', eventName(e)));
      row.appendChild(el('td', 'mono', String(e.event.id)));
      var dedup = el('td'); dedup.appendChild(dedupCell(e)); row.appendChild(dedup);
      var sig = el('td'); sig.appendChild(signals(e)); row.appendChild(sig);
      var data = e.event.data || {};
      row.appendChild(el('td', 'money', money(data.amount, data.currency)));
      row.addEventListener('click', function () { select({ kind: 'event', seq: e.seq }); });
      body.appendChild(row);
    });
    $('events-empty').hidden = shown.length > 0;
  }
  function renderRequests() {
    var body = $('requests');
    body.textContent = '';
    requests.slice().reverse().slice(0, 500).forEach(function (r) {
      var row = el('tr'); row.dataset.seq = r.seq; row.dataset.testid = 'request-row';
      if (selected && selected.kind === 'request' && selected.seq === r.seq) row.className = 'selected';
      row.appendChild(el('td', 'muted', time(r.receivedAt)));
      var what = el('td'); what.appendChild(channelPill(r.channel)); what.appendChild(document.createTextNode(' ' + r.method + ' ' + r.path)); row.appendChild(what);
      var status = el('td'); status.appendChild(el('span', 'pill ' + (r.status >= 200 && r.status < 300 ? 'ok' : 'err'), r.status === 0 ? (r.fault || 'no answer') : String(r.status))); row.appendChild(status);
      row.appendChild(el('td', '', String(r.eventCount)));
      var details = el('td');
      var notes = [];
      if (r.validateOnly) notes.push('validate only (nothing stored)');
      if (r.integrationSource) notes.push('integration: ' + r.integrationSource);
      if (r.fault && r.status !== 0) notes.push('injected fault: ' + r.fault);
      if (notes.length) details.appendChild(el('div', 'muted', notes.join(' · ')));
      if (r.error) {
        details.appendChild(el('div', '', r.error.message));
        if (r.error.issues && r.error.issues.length > 1) {
          var list = el('ul', 'errors');
          r.error.issues.slice(0, 8).forEach(function (i) { list.appendChild(el('li', '', i.path + ': ' + i.message)); });
          details.appendChild(list);
        }
      }
      row.appendChild(details);
      row.addEventListener('click', function () { select({ kind: 'request', seq: r.seq }); });
      body.appendChild(row);
    });
    $('requests-empty').hidden = requests.length > 0;
  }
  function renderDetail() {
    var panel = $('detail');
    if (!selected) { panel.hidden = true; return; }
    var item = (selected.kind === 'event' ? events : requests).find(function (x) { return x.seq === selected.seq; });
    if (!item) { panel.hidden = true; return; }
    panel.hidden = false;
    var summary = $('detail-summary');
    summary.textContent = '';
    function row(label, value) { if (value === undefined || value === '') return; summary.appendChild(el('dt', '', label)); summary.appendChild(el('dd', '', String(value))); }
    if (selected.kind === 'event') {
      var e = item, data = e.event.data || {};
      $('detail-title').textContent = eventName(e) + ' #' + e.seq;
      row('Channel', e.channel === 'pixel_sdk' ? 'Pixel (pixel_sdk)' : 'Server (server_to_server)');
      row('Event id', e.event.id);
      row('Dedup', e.duplicateOf !== undefined ? 'Duplicate of #' + e.duplicateOf + ': ignored by OpenAI' : 'First copy: counted');
      row('Pixel id', e.pixelId);
      row('Happened at', new Date(e.event.timestamp_ms).toLocaleString());
      row('Click id', e.event.oppref || 'none: this conversion cannot be attributed to a click');
      row('Value', money(data.amount, data.currency));
      row('Source URL', e.event.source_url);
      $('detail-json').textContent = JSON.stringify(e.event, null, 2);
    } else {
      var r = item;
      $('detail-title').textContent = 'Request #' + r.seq;
      row('Status', r.status === 0 ? 'no answer (' + r.fault + ')' : r.status);
      row('Events', r.eventCount);
      row('Error', r.error && r.error.message);
      $('detail-json').textContent = JSON.stringify(r, null, 2);
    }
  }
  function renderAll(freshSeq) { renderTypes(); renderStats(); renderEvents(freshSeq); renderRequests(); renderDetail(); }
  function select(next) { selected = next; renderAll(); }

  document.querySelectorAll('.tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      tab = button.dataset.tab;
      document.querySelectorAll('.tabs button').forEach(function (b) { b.classList.toggle('active', b === button); });
      $('events-view').hidden = tab !== 'events';
      $('requests-view').hidden = tab !== 'requests';
    });
  });
  ['filter-type', 'filter-channel', 'filter-id'].forEach(function (id) { $(id).addEventListener('input', function () { renderEvents(); }); });
  $('detail-close').addEventListener('click', function () { select(null); });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') select(null); });
  $('reset').addEventListener('click', function () {
    fetch('/_sandbox/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  });

  Promise.all([fetch('/_sandbox/events').then(function (r) { return r.json(); }), fetch('/_sandbox/requests').then(function (r) { return r.json(); })])
    .then(function (answers) { events = answers[0].data; requests = answers[1].data; renderAll(); connect(); });

  function connect() {
    var source = new EventSource('/_sandbox/stream');
    source.onopen = function () { $('live').className = 'live'; $('live').textContent = '● live'; };
    source.onerror = function () { $('live').className = 'live off'; $('live').textContent = '● reconnecting'; };
    source.addEventListener('event', function (message) {
      var e = JSON.parse(message.data);
      if (events.some(function (x) { return x.seq === e.seq; })) return;
      events.push(e); renderAll(e.seq);
    });
    source.addEventListener('request', function (message) {
      var r = JSON.parse(message.data);
      if (requests.some(function (x) { return x.seq === r.seq; })) return;
      requests.push(r); renderStats(); renderRequests();
    });
    source.addEventListener('reset', function () { events = []; requests = []; selected = null; renderAll(); });
  }
})();
</script>
</body>
</html>
`;

const inline = (tag: 'style' | 'script'): string => {
  const open = PAGE.indexOf(`<${tag}>`) + tag.length + 2;
  return PAGE.slice(open, PAGE.indexOf(`</${tag}>`, open));
};
const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The inspector page's HTML. */
export const INSPECTOR_HTML = PAGE;

/**
 * The inspector page's Content-Security-Policy: nothing loads or runs but its own inline style and
 * script (pinned by hash), and it talks only to the sandbox that served it.
 */
export const INSPECTOR_CSP = [
  "default-src 'none'",
  `script-src ${sha256(inline('script'))}`,
  `style-src ${sha256(inline('style'))}`,
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
