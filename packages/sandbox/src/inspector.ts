import { createHash } from 'node:crypto';

// The inspector page served at `/`: plain HTML, CSS and script, no framework. Every value that comes
// from a request (ids, pixel ids, user agents, oppref, error paths) reaches the page through
// textContent or a DOM property, never as HTML; the Content-Security-Policy below allows only this
// page's own style and script by hash, so an injected handler or script would not run even if a
// future change wrote HTML.
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
    --teal: #0f766e; --teal-bg: #ccfbf1;
    font: 14px/1.45 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); }
  header.top { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 24px; padding: 14px 24px; background: var(--panel); border-bottom: 1px solid var(--line); }
  .brand { font-size: 16px; white-space: nowrap; }
  .brand .dot { display: inline-block; width: 10px; height: 10px; border-radius: 50%; background: var(--accent); margin-right: 8px; }
  .endpoint { color: var(--muted); flex: 1 1 220px; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
  code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f3f4f6; padding: 1px 5px; border-radius: 4px; }
  .stats { display: flex; flex-wrap: wrap; gap: 4px 18px; color: var(--muted); }
  .stats span { white-space: nowrap; }
  .stats b { color: var(--ink); font-weight: 600; font-variant-numeric: tabular-nums; }
  button { font: inherit; border: 1px solid var(--line); background: var(--panel); border-radius: 6px; padding: 5px 12px; cursor: pointer; }
  button:hover { background: #f3f4f6; }
  button.link { border: none; background: none; padding: 0; color: var(--blue); text-decoration: underline; cursor: pointer; text-align: left; }
  nav.toolbar { display: flex; flex-wrap: wrap; justify-content: space-between; align-items: center; padding: 10px 24px; gap: 8px 16px; }
  .tabs { display: flex; gap: 4px; }
  .tabs button { border: none; background: none; padding: 6px 10px; border-radius: 6px; color: var(--muted); white-space: nowrap; }
  .tabs button.active { background: var(--panel); color: var(--ink); box-shadow: 0 0 0 1px var(--line); }
  .tabs .count { font-variant-numeric: tabular-nums; margin-left: 4px; }
  .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
  select, input { font: inherit; border: 1px solid var(--line); border-radius: 6px; padding: 5px 8px; background: var(--panel); max-width: 100%; }
  .live { color: var(--green); font-size: 12px; margin-left: 6px; white-space: nowrap; }
  .live.off { color: var(--red); }
  main { display: flex; gap: 16px; padding: 0 24px 24px; align-items: flex-start; }
  section { flex: 1; min-width: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
  .scroll { overflow-x: auto; }
  table { width: 100%; border-collapse: collapse; }
  th { text-align: left; font-weight: 500; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; padding: 9px 12px; border-bottom: 1px solid var(--line); background: #fafafa; white-space: nowrap; }
  td { padding: 9px 12px; border-bottom: 1px solid var(--line); vertical-align: top; white-space: nowrap; }
  td.wrap { white-space: normal; min-width: 12em; }
  td.dedup { white-space: normal; min-width: 10em; }
  td.dedup .pill { white-space: normal; border-radius: 8px; }
  td.details { white-space: normal; min-width: 12em; max-width: 32em; }
  td .v { min-width: 0; }
  tbody tr { cursor: pointer; }
  tbody tr:hover { background: #f9fafb; }
  tbody tr.selected { background: var(--blue-bg); }
  tbody tr.fresh { animation: fresh 1.6s ease-out; }
  @keyframes fresh { from { background: #d1fae5; } to { background: transparent; } }
  .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
  td.id .v { display: block; max-width: 15em; overflow: hidden; text-overflow: ellipsis; }
  td.pid .v { display: block; max-width: 10em; overflow: hidden; text-overflow: ellipsis; }
  /* Beside the detail panel the table keeps the columns that identify a row; the panel shows the rest. */
  @media (min-width: 1100px) { main.with-detail .secondary { display: none; } }
  .muted { color: var(--muted); }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 500; white-space: nowrap; }
  .pill.server { background: var(--violet-bg); color: var(--violet); }
  .pill.pixel { background: var(--amber-bg); color: var(--amber); }
  .pill.first { background: var(--green-bg); color: var(--green); }
  .pill.recovered { background: var(--teal-bg); color: var(--teal); }
  .pill.dup { background: #f3f4f6; color: var(--muted); }
  .pill.ok { background: var(--green-bg); color: var(--green); }
  .pill.err { background: var(--red-bg); color: var(--red); }
  .chips { display: flex; flex-wrap: wrap; gap: 4px; }
  .chip { font-size: 11.5px; padding: 0 6px; border-radius: 4px; background: var(--blue-bg); color: var(--blue); white-space: nowrap; }
  .chip.key { background: var(--green-bg); color: var(--green); font-weight: 600; }
  .chip.missing { background: var(--red-bg); color: var(--red); }
  .money { font-variant-numeric: tabular-nums; }
  .errors { margin: 4px 0 0; padding-left: 16px; color: var(--red); overflow-wrap: anywhere; }
  .empty { padding: 28px; text-align: center; color: var(--muted); margin: 0; }
  .note { padding: 8px 12px; color: var(--muted); font-size: 12px; margin: 0; }
  aside { width: clamp(320px, 30vw, 440px); flex: none; background: var(--panel); border: 1px solid var(--line); border-radius: 10px; position: sticky; top: 12px; max-height: calc(100vh - 24px); overflow: auto; }
  aside header { display: flex; justify-content: space-between; align-items: center; gap: 12px; padding: 12px 16px; border-bottom: 1px solid var(--line); }
  aside h2 { font-size: 15px; margin: 0; overflow-wrap: anywhere; }
  dl { display: grid; grid-template-columns: minmax(6em, 120px) minmax(0, 1fr); gap: 6px 12px; padding: 12px 16px; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; overflow-wrap: anywhere; }
  dd ul { margin: 0; padding-left: 16px; }
  pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; padding: 12px 16px; background: #0b1020; color: #e5e7eb; font-size: 12px; overflow: auto; border-radius: 0 0 10px 10px; }
  [hidden] { display: none !important; }
  /* Too narrow for the table beside the panel: the panel goes on top, full width. */
  @media (max-width: 1099px) {
    main { flex-direction: column; align-items: stretch; }
    aside { order: -1; width: auto; position: static; max-height: none; }
    section { flex: none; }
  }
  /* Phones: each row becomes a card of labelled lines. */
  @media (max-width: 639px) {
    header.top, nav.toolbar { padding-left: 12px; padding-right: 12px; }
    main { padding: 0 12px 12px; }
    .filters { width: 100%; }
    .filters select, .filters input { flex: 1 1 40%; min-width: 0; }
    thead { display: none; }
    table, tbody, tr { display: block; }
    tbody tr { padding: 8px 12px; border-bottom: 1px solid var(--line); }
    td { display: flex; gap: 12px; padding: 2px 0; border: none; white-space: normal; min-width: 0; max-width: none; }
    td::before { content: attr(data-label); flex: none; width: 6.5em; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; padding-top: 1px; }
    td .v { flex: 1; overflow-wrap: anywhere; }
    td.id .v, td.pid .v { max-width: none; white-space: nowrap; }
    td.wrap, td.details { min-width: 0; max-width: none; }
  }
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
    <button data-tab="events" class="active">Events<span class="count" id="count-events"></span></button>
    <button data-tab="requests">Requests<span class="count" id="count-requests"></span></button>
  </div>
  <div class="filters">
    <select id="filter-type" aria-label="Event type"><option value="">All events</option></select>
    <select id="filter-pixel" aria-label="Pixel"><option value="">All pixels</option></select>
    <select id="filter-channel" aria-label="Channel">
      <option value="">All channels</option><option value="server_to_server">Server</option><option value="pixel_sdk">Pixel</option>
    </select>
    <input id="filter-id" placeholder="Search id…" aria-label="Search id">
    <span id="live" class="live">● live</span>
  </div>
</nav>
<main>
  <section id="events-view">
    <div class="scroll">
      <table>
        <thead><tr><th>Time</th><th>Event</th><th>ID</th><th>Dedup</th><th>Channel</th><th>Pixel</th><th class="secondary">Attribution</th><th class="secondary">Value</th></tr></thead>
        <tbody id="events"></tbody>
      </table>
    </div>
    <p class="note" id="events-note" hidden></p>
    <p class="empty" id="events-empty">No events yet. Send conversions to the endpoint above, or load a page that uses the stand-in pixel.</p>
  </section>
  <section id="requests-view" hidden>
    <div class="scroll">
      <table>
        <thead><tr><th>Time</th><th>Request</th><th>Status</th><th>Events</th><th>Details</th><th>Pixel</th></tr></thead>
        <tbody id="requests"></tbody>
      </table>
    </div>
    <p class="note" id="requests-note" hidden></p>
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
  var MAX_ROWS = 500;
  var events = [], requests = [], selected = null, tab = 'events';
  // Indexes rebuilt from the lists, so a render never scans every event once per row.
  var bySeq, requestBySeq, duplicateCount, pixelKeys, eventsByRequest;
  var fresh = {}, renderTimer = null, loaded = false, pending = [];
  var $ = function (id) { return document.getElementById(id); };
  var numbers = new Intl.NumberFormat();
  var count = function (n) { return numbers.format(n); };
  $('endpoint').textContent = location.origin + '/v1/events?pid=…';

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function plural(n, word) { return count(n) + ' ' + word + (n === 1 ? '' : 's'); }
  function time(ms) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }); }
  function money(amount, currency) {
    if (typeof amount !== 'number') return '';
    if (!currency) return String(amount);
    try {
      var format = new Intl.NumberFormat(undefined, { style: 'currency', currency: currency });
      var digits = format.resolvedOptions().maximumFractionDigits;
      return format.format(amount / Math.pow(10, digits));
    } catch (e) { return amount + ' ' + currency; }
  }
  function channelName(channel) { return channel === 'pixel_sdk' ? 'pixel' : 'server'; }
  function eventName(e) { return e.event.type === 'custom' ? 'custom: ' + (e.event.custom_event_name || '?') : e.event.type; }
  function channelPill(channel) {
    return el('span', 'pill ' + channelName(channel), channel === 'pixel_sdk' ? 'Pixel' : 'Server');
  }
  // One cell: its label names the column when rows become cards on a phone.
  function cell(label, className, content) {
    var td = el('td', className);
    td.dataset.label = label;
    var value = el('div', 'v');
    if (content === undefined || content === null) content = '';
    if (typeof content === 'string') value.textContent = content;
    else value.appendChild(content);
    td.appendChild(value);
    return td;
  }

  function index() {
    bySeq = new Map(); requestBySeq = new Map(); duplicateCount = new Map(); pixelKeys = new Set(); eventsByRequest = new Map();
    events.forEach(indexEvent);
    requests.forEach(function (r) { requestBySeq.set(r.seq, r); });
  }
  function indexEvent(e) {
    bySeq.set(e.seq, e);
    if (e.duplicateOf !== undefined) duplicateCount.set(e.duplicateOf, (duplicateCount.get(e.duplicateOf) || 0) + 1);
    if (e.channel === 'pixel_sdk') pixelKeys.add(e.key);
    var list = eventsByRequest.get(e.requestSeq);
    if (list) list.push(e); else eventsByRequest.set(e.requestSeq, [e]);
  }
  // The server's copy came first and the pixel sent none: without the server this conversion is lost.
  function recovered(e) { return e.duplicateOf === undefined && e.channel === 'server_to_server' && !pixelKeys.has(e.key); }

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
  function dedupText(e) {
    if (e.duplicateOf !== undefined) {
      var first = bySeq.get(e.duplicateOf);
      return 'Duplicate' + (first ? ' of the ' + channelName(first.channel) + ' copy' : '') + ': ignored';
    }
    var dups = duplicateCount.get(e.seq) || 0;
    var text = recovered(e) ? 'First · recovered by the server' : 'First';
    return dups ? text + ' · ' + plural(dups, 'duplicate') : text;
  }
  function dedupPill(e) {
    var pill = el('span', 'pill ' + (e.duplicateOf !== undefined ? 'dup' : recovered(e) ? 'recovered' : 'first'), dedupText(e));
    if (recovered(e)) pill.title = 'No pixel copy arrived: the server channel recovered this conversion.';
    return pill;
  }
  function matches(e) {
    var type = $('filter-type').value, pixel = $('filter-pixel').value, channel = $('filter-channel').value, q = $('filter-id').value.trim();
    return (!type || eventName(e) === type) && (!pixel || e.pixelId === pixel) && (!channel || e.channel === channel) &&
      (!q || String(e.event.id).indexOf(q) !== -1);
  }
  function fillSelect(select, values) {
    var current = select.value;
    var have = Array.prototype.slice.call(select.options, 1).map(function (o) { return o.value; });
    if (have.join('\\n') !== values.join('\\n')) {
      while (select.options.length > 1) select.remove(1);
      values.forEach(function (value) { var option = el('option', '', value); option.value = value; select.appendChild(option); });
    }
    select.value = values.indexOf(current) !== -1 ? current : '';
  }
  function renderFilters() {
    var types = {}, pixels = {};
    events.forEach(function (e) { types[eventName(e)] = true; pixels[e.pixelId] = true; });
    requests.forEach(function (r) { if (r.pixelId) pixels[r.pixelId] = true; });
    fillSelect($('filter-type'), Object.keys(types).sort());
    fillSelect($('filter-pixel'), Object.keys(pixels).sort());
  }
  function failed(r) { return r.status >= 400 || r.status === 0; }
  // The header and the tabs count the same things from the same lists, so they always agree.
  function renderStats() {
    var dups = 0, saved = 0, bad = 0;
    events.forEach(function (e) { if (e.duplicateOf !== undefined) dups++; else if (recovered(e)) saved++; });
    requests.forEach(function (r) { if (failed(r)) bad++; });
    var stats = $('stats');
    stats.textContent = '';
    [[events.length, 'event', 'stat-events'], [dups, 'duplicate', 'stat-duplicates'], [saved, 'recovered by the server', 'stat-recovered', true],
      [requests.length, 'request', 'stat-requests'], [bad, 'failed', 'stat-failed', true]].forEach(function (s) {
      var span = el('span'); span.dataset.testid = s[2];
      span.appendChild(el('b', '', count(s[0])));
      span.appendChild(document.createTextNode(' ' + (s[3] || s[0] === 1 ? s[1] : s[1] + 's')));
      stats.appendChild(span);
    });
    $('count-events').textContent = count(events.length);
    $('count-requests').textContent = count(requests.length);
  }
  function renderEvents() {
    var body = $('events');
    body.textContent = '';
    var shown = events.filter(matches);
    var rows = shown.slice(-MAX_ROWS).reverse();
    rows.forEach(function (e) {
      var row = el('tr'); row.dataset.testid = 'event-row';
      if (selected && selected.kind === 'event' && selected.seq === e.seq) row.className = 'selected';
      if (fresh[e.seq]) row.classList.add('fresh');
      row.appendChild(cell('Time', 'muted', time(e.receivedAt)));
      row.appendChild(cell('Event', '', eventName(e)));
      var id = cell('ID', 'id mono', String(e.event.id)); id.title = String(e.event.id); row.appendChild(id);
      row.appendChild(cell('Dedup', 'dedup', dedupPill(e)));
      row.appendChild(cell('Channel', '', channelPill(e.channel)));
      var pid = cell('Pixel', 'pid mono', e.pixelId); pid.title = e.pixelId; row.appendChild(pid);
      row.appendChild(cell('Attribution', 'wrap secondary', signals(e)));
      var data = e.event.data || {};
      row.appendChild(cell('Value', 'money secondary', money(data.amount, data.currency)));
      row.addEventListener('click', function () { select({ kind: 'event', seq: e.seq }); });
      body.appendChild(row);
    });
    var note = $('events-note');
    note.hidden = rows.length === events.length || events.length === 0;
    note.textContent = 'Showing ' + (rows.length < shown.length ? 'the latest ' : '') + count(rows.length) + ' of ' + plural(events.length, 'event') +
      (shown.length < events.length ? ' (filtered)' : '') + '.';
    $('events-empty').hidden = events.length > 0;
  }
  function requestSummary(r) {
    if (r.error) return r.error.message;
    if (r.status === 0) return 'No answer: ' + (r.fault || 'the connection was dropped') + '.';
    var mine = eventsByRequest.get(r.seq) || [];
    var parts = [];
    if (r.channel === 'pixel_sdk' && mine.length) parts.push(eventName(mine[0]) + ' ' + mine[0].event.id);
    else if (r.validateOnly) parts.push(plural(r.eventCount, 'event') + ' valid, nothing stored (validate only)');
    else if (r.status >= 200 && r.status < 300) {
      var dups = mine.filter(function (e) { return e.duplicateOf !== undefined; }).length;
      parts.push(plural(r.eventCount, 'event') + ' stored' + (dups ? ', ' + plural(dups, 'duplicate') : ''));
    }
    if (r.integrationSource) parts.push('integration: ' + r.integrationSource);
    if (r.fault) parts.push('injected fault: ' + r.fault);
    if (typeof r.durationMs === 'number') parts.push('answered in ' + count(r.durationMs) + ' ms');
    return parts.join(' · ');
  }
  function statusText(r) { return r.status === 0 ? (r.fault || 'no answer') : String(r.status); }
  function renderRequests() {
    var body = $('requests');
    body.textContent = '';
    var pixel = $('filter-pixel').value;
    var shown = pixel ? requests.filter(function (r) { return r.pixelId === pixel; }) : requests;
    var rows = shown.slice(-MAX_ROWS).reverse();
    rows.forEach(function (r) {
      var row = el('tr'); row.dataset.testid = 'request-row';
      if (selected && selected.kind === 'request' && selected.seq === r.seq) row.className = 'selected';
      row.appendChild(cell('Time', 'muted', time(r.receivedAt)));
      var what = el('span'); what.appendChild(channelPill(r.channel)); what.appendChild(document.createTextNode(' ' + r.method + ' ' + r.path));
      row.appendChild(cell('Request', '', what));
      row.appendChild(cell('Status', '', el('span', 'pill ' + (r.status >= 200 && r.status < 300 ? 'ok' : 'err'), statusText(r))));
      row.appendChild(cell('Events', '', count(r.eventCount)));
      var details = el('div');
      details.appendChild(el('div', r.error ? '' : 'muted', requestSummary(r)));
      if (r.error && r.error.issues && r.error.issues.length > 1) {
        var list = el('ul', 'errors');
        r.error.issues.slice(0, 8).forEach(function (i) { list.appendChild(el('li', '', i.path + ': ' + i.message)); });
        details.appendChild(list);
      }
      row.appendChild(cell('Details', 'details', details));
      var pid = cell('Pixel', 'pid mono', r.pixelId || '—'); pid.title = r.pixelId || ''; row.appendChild(pid);
      row.addEventListener('click', function () { select({ kind: 'request', seq: r.seq }); });
      body.appendChild(row);
    });
    var note = $('requests-note');
    note.hidden = rows.length === requests.length;
    note.textContent = 'Showing ' + (rows.length < shown.length ? 'the latest ' : '') + count(rows.length) + ' of ' + plural(requests.length, 'request') +
      (shown.length < requests.length ? ' (filtered)' : '') + '.';
    $('requests-empty').hidden = requests.length > 0;
  }
  function renderDetail() {
    var panel = $('detail');
    var item = selected && (selected.kind === 'event' ? bySeq : requestBySeq).get(selected.seq);
    document.querySelector('main').classList.toggle('with-detail', !!item);
    if (!item) { panel.hidden = true; return; }
    panel.hidden = false;
    var summary = $('detail-summary');
    summary.textContent = '';
    function row(label, value) {
      if (value === undefined || value === '') return;
      summary.appendChild(el('dt', '', label));
      var dd = el('dd');
      if (typeof value === 'object') dd.appendChild(value); else dd.textContent = String(value);
      summary.appendChild(dd);
    }
    function jump(text, next) {
      var button = el('button', 'link', text);
      button.addEventListener('click', function () { select(next); });
      return button;
    }
    if (selected.kind === 'event') {
      var e = item, data = e.event.data || {};
      $('detail-title').textContent = eventName(e) + ' · ' + (e.channel === 'pixel_sdk' ? 'pixel' : 'server') + ' copy';
      row('Channel', e.channel === 'pixel_sdk' ? 'Pixel (pixel_sdk)' : 'Server (server_to_server)');
      row('Pixel id', e.pixelId);
      row('Event id', e.event.id);
      if (e.duplicateOf !== undefined) {
        var first = bySeq.get(e.duplicateOf);
        row('Dedup', first
          ? jump('Duplicate: the ' + channelName(first.channel) + ' copy received at ' + time(first.receivedAt) + ' counts; OpenAI ignores this one', { kind: 'event', seq: first.seq })
          : 'Duplicate: an earlier copy counts; OpenAI ignores this one');
      } else if (recovered(e)) {
        row('Dedup', 'First copy: counted. Recovered by the server: no pixel copy arrived, so without the server this conversion would be lost.');
      } else {
        var dups = duplicateCount.get(e.seq) || 0;
        row('Dedup', 'First copy: counted' + (dups ? '; ' + count(dups) + (dups === 1 ? ' later copy' : ' later copies') + ' ignored' : ''));
      }
      row('Happened at', new Date(e.event.timestamp_ms).toLocaleString());
      row('Received at', new Date(e.receivedAt).toLocaleString());
      row('Click id', e.event.oppref || 'none: this conversion cannot be attributed to a click');
      row('Value', money(data.amount, data.currency));
      row('Source URL', e.event.source_url);
      if (requestBySeq.has(e.requestSeq)) row('Request', jump('Show the request that carried it', { kind: 'request', seq: e.requestSeq }));
      $('detail-json').textContent = JSON.stringify(e.event, null, 2);
    } else {
      var r = item;
      $('detail-title').textContent = r.method + ' ' + r.path;
      row('Channel', r.channel === 'pixel_sdk' ? 'Pixel (pixel_sdk)' : 'Server (server_to_server)');
      row('Pixel id', r.pixelId || 'none');
      row('Received at', new Date(r.receivedAt).toLocaleString());
      row('Status', r.status === 0 ? 'no answer (' + r.fault + ')' : r.status);
      row('Answered in', typeof r.durationMs === 'number' ? count(r.durationMs) + ' ms' : undefined);
      row('Events', count(r.eventCount) + (r.validateOnly ? ' (validate only: nothing stored)' : ''));
      var mine = eventsByRequest.get(r.seq) || [];
      if (mine.length) {
        var list = el('ul');
        mine.slice(0, 20).forEach(function (x) {
          var li = el('li'); li.appendChild(jump(eventName(x) + ' ' + x.event.id + ' · ' + dedupText(x), { kind: 'event', seq: x.seq })); list.appendChild(li);
        });
        if (mine.length > 20) list.appendChild(el('li', 'muted', count(mine.length - 20) + ' more'));
        row('Stored', list);
      }
      row('Integration', r.integrationSource);
      row('Fault', r.fault);
      row('Error', r.error && r.error.message);
      if (r.error && r.error.issues && r.error.issues.length > 1) {
        var issues = el('ul', 'errors');
        r.error.issues.forEach(function (i) { issues.appendChild(el('li', '', i.path + ': ' + i.message)); });
        row('Issues', issues);
      }
      $('detail-json').textContent = r.response === undefined ? 'The sandbox sent no answer.' : 'Answer:\\n' + JSON.stringify(r.response, null, 2);
    }
  }
  function render() {
    renderTimer = null;
    renderFilters(); renderStats(); renderEvents(); renderRequests(); renderDetail();
    fresh = {};
  }
  // Bursts of thousands of events render once, not once per event.
  function schedule() { if (renderTimer === null) renderTimer = setTimeout(render, 40); }
  function select(next) {
    selected = next; render();
    if (next && window.matchMedia('(max-width: 1099px)').matches) $('detail').scrollIntoView({ block: 'start' });
  }

  document.querySelectorAll('.tabs button').forEach(function (button) {
    button.addEventListener('click', function () {
      tab = button.dataset.tab;
      document.querySelectorAll('.tabs button').forEach(function (b) { b.classList.toggle('active', b === button); });
      $('events-view').hidden = tab !== 'events';
      $('requests-view').hidden = tab !== 'requests';
    });
  });
  ['filter-type', 'filter-pixel', 'filter-channel', 'filter-id'].forEach(function (id) { $(id).addEventListener('input', function () { renderEvents(); renderRequests(); }); });
  $('detail-close').addEventListener('click', function () { select(null); });
  document.addEventListener('keydown', function (event) { if (event.key === 'Escape') select(null); });
  $('reset').addEventListener('click', function () {
    fetch('/_sandbox/reset', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  });

  function apply(kind, item) {
    if (kind === 'reset') { events = []; requests = []; selected = null; index(); return; }
    if (kind === 'event') {
      if (bySeq.has(item.seq)) return;
      events.push(item); indexEvent(item); fresh[item.seq] = true;
    } else {
      if (requestBySeq.has(item.seq)) return;
      requests.push(item); requestBySeq.set(item.seq, item);
    }
  }
  function receive(kind, data) {
    if (!loaded) pending.push([kind, data]);
    else { apply(kind, data); schedule(); }
  }
  // The lists are read after the stream is open and what the stream brings meanwhile is replayed,
  // so nothing recorded between the two is missed or counted twice (also after a reconnection).
  function load() {
    loaded = false; pending = [];
    Promise.all([fetch('/_sandbox/events').then(function (r) { return r.json(); }), fetch('/_sandbox/requests').then(function (r) { return r.json(); })])
      .then(function (answers) {
        events = answers[0].data; requests = answers[1].data; index();
        pending.forEach(function (p) { apply(p[0], p[1]); });
        pending = []; loaded = true; fresh = {}; render();
      });
  }
  index();
  var source = new EventSource('/_sandbox/stream');
  source.onopen = function () { $('live').className = 'live'; $('live').textContent = '● live'; load(); };
  source.onerror = function () { $('live').className = 'live off'; $('live').textContent = '● reconnecting'; };
  source.addEventListener('event', function (message) { receive('event', JSON.parse(message.data)); });
  source.addEventListener('request', function (message) { receive('request', JSON.parse(message.data)); });
  source.addEventListener('reset', function () { receive('reset'); });
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
