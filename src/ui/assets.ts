// The status page's static assets, served by the process itself (no CDN, no network fetch).
// The browser script only renders: it receives the typed view model (viewmodel.ts) over
// server-sent events from /ui/events (or polls /ui/model when EventSource is unavailable or
// keeps failing) and never interprets /status itself.

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>metallb-ts status</title>
<link rel="stylesheet" href="/ui/style.css">
</head>
<body>
<header>
  <div class="brand"><span class="logo">&#9650;</span> metallb-ts <span id="component" class="muted"></span></div>
  <div id="node" class="node"></div>
  <div id="badges" class="badges"></div>
  <div id="live" class="live" title="live updates"><span class="dot"></span><span id="live-text">connecting</span></div>
</header>
<main>
  <section id="config-section"></section>
  <section><h2>BGP sessions</h2><div id="sessions" class="cards"></div></section>
  <section><h2>Services</h2><div id="services"></div></section>
  <section id="layer2-section" hidden><h2>Layer 2</h2><div id="layer2"></div></section>
  <section><h2>Address pools</h2><div id="pools" class="cards"></div></section>
  <section id="received-section" hidden><h2>Received routes</h2><div id="received"></div></section>
  <section><h2>Routes per router</h2><div id="routers"></div></section>
</main>
<footer class="muted">Same data as <a href="/status">/status</a> &middot; <a href="/metrics">/metrics</a> &middot; updated <span id="updated">never</span></footer>
<script src="/ui/app.js"></script>
</body>
</html>
`;

export const STYLE_CSS = `:root {
  --bg: #f5f7fa; --card: #fff; --text: #1c2430; --muted: #677489; --line: #e2e7ee;
  --ok: #1a7f4b; --ok-bg: #e3f5ea; --warn: #9a6700; --warn-bg: #fff4d6; --bad: #b42318; --bad-bg: #fde8e6;
  --accent: #2f5bd3; --bar: #2f5bd3;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #10141b; --card: #181e27; --text: #e6ebf2; --muted: #8d98aa; --line: #2a3240;
    --ok: #4cc38a; --ok-bg: #15301f; --warn: #e3b341; --warn-bg: #332a10; --bad: #f47067; --bad-bg: #3a1a18; --accent: #6d94ff; --bar: #6d94ff; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; background: var(--bg); color: var(--text); }
header { position: sticky; top: 0; z-index: 1; display: flex; flex-wrap: wrap; gap: 8px 16px; align-items: center;
  padding: 10px 16px; background: var(--card); border-bottom: 1px solid var(--line); }
.brand { font-weight: 700; font-size: 17px; }
.logo { color: var(--accent); }
.node { font-family: ui-monospace, "DejaVu Sans Mono", monospace; }
.badges { display: flex; gap: 6px; flex-wrap: wrap; }
.live { margin-left: auto; display: flex; align-items: center; gap: 6px; color: var(--muted); font-size: 13px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: var(--muted); }
.live.on .dot { background: var(--ok); box-shadow: 0 0 0 3px var(--ok-bg); }
main { max-width: 1200px; margin: 0 auto; padding: 8px 16px 24px; }
h2 { font-size: 15px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 22px 0 10px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.card .title { display: flex; justify-content: space-between; gap: 8px; align-items: baseline; font-weight: 600; }
.kv { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin-top: 8px; font-size: 14px; }
.kv dt { color: var(--muted); }
.kv dd { margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.pill { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12.5px; font-weight: 600; white-space: nowrap; }
.pill.ok { color: var(--ok); background: var(--ok-bg); }
.pill.warn { color: var(--warn); background: var(--warn-bg); }
.pill.bad { color: var(--bad); background: var(--bad-bg); }
.pill.muted { color: var(--muted); background: var(--line); }
.error { color: var(--bad); font-size: 13.5px; margin-top: 8px; overflow-wrap: anywhere; }
.muted { color: var(--muted); font-weight: 400; }
table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12.5px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .03em; }
tr:last-child td { border-bottom: 0; }
td.mono, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.bar { height: 8px; border-radius: 4px; background: var(--line); margin-top: 8px; overflow: hidden; }
.bar > span { display: block; height: 100%; background: var(--bar); }
.bar.high > span { background: var(--bad); }
details { background: var(--card); border: 1px solid var(--line); border-radius: 10px; margin-bottom: 10px; }
summary { cursor: pointer; padding: 10px 14px; font-weight: 600; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
details table { border: 0; border-top: 1px solid var(--line); border-radius: 0 0 10px 10px; }
.empty { color: var(--muted); padding: 10px 2px; }
.notice { border-radius: 10px; padding: 10px 14px; margin-top: 14px; }
.notice.bad { background: var(--bad-bg); color: var(--bad); }
.notice.warn { background: var(--warn-bg); color: var(--warn); }
.notice ul { margin: 4px 0 0; padding-left: 20px; }
.card .notice { margin-top: 10px; font-size: 13.5px; }
[hidden] { display: none !important; }
footer { text-align: center; padding: 16px; font-size: 13px; }
footer a { color: var(--accent); }
@media (max-width: 640px) {
  main { padding: 4px 10px 20px; }
  .cards { grid-template-columns: 1fr; }
  table.stack thead { display: none; }
  table.stack tr { display: block; border-bottom: 1px solid var(--line); padding: 6px 0; }
  table.stack td { display: flex; gap: 10px; border: 0; padding: 3px 12px; }
  table.stack td::before { content: attr(data-label); color: var(--muted); min-width: 96px; flex: none; }
}
`;

export const APP_JS = `'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var esc = function (s) {
    return String(s).replace(/[&<>"']/g, function (c) { return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]; });
  };
  var pill = function (cls, text) { return '<span class="pill ' + cls + '">' + esc(text) + '</span>'; };
  var dur = function (s) {
    if (!s) return '-';
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    return d ? d + 'd ' + h + 'h' : h ? h + 'h ' + m + 'm' : m ? m + 'm ' + sec + 's' : sec + 's';
  };
  var stateClass = function (st) { return st === 'Established' ? 'ok' : st === 'NotStarted' || st === 'Idle' ? 'bad' : 'warn'; };
  var kv = function (rows) {
    return '<dl class="kv">' + rows.filter(function (r) { return r[1] !== null && r[1] !== undefined && r[1] !== ''; })
      .map(function (r) { return '<dt>' + esc(r[0]) + '</dt><dd>' + esc(r[1]) + '</dd>'; }).join('') + '</dl>';
  };
  var td = function (label, html, cls) { return '<td data-label="' + esc(label) + '"' + (cls ? ' class="' + cls + '"' : '') + '>' + html + '</td>'; };

  function renderHeader(m) {
    $('component').textContent = m.component;
    $('node').textContent = m.node ? 'node ' + m.node : '';
    var b = [];
    if (m.ready !== null) b.push(m.ready ? pill('ok', 'ready') : pill('bad', 'not ready'));
    if (m.leader !== null) b.push(m.leader ? pill('ok', 'leader') : pill('muted', 'standby'));
    var c = m.config.state;
    b.push(c === 'ok' ? pill('ok', 'config ok') : c === 'stale' ? pill('warn', 'config stale') : c === 'invalid' ? pill('bad', 'config invalid') : pill('muted', 'config ?'));
    if (m.config.generation !== null) b.push(pill('muted', 'generation ' + m.config.generation));
    $('badges').innerHTML = b.join('');
  }

  function renderConfig(m) {
    var h = '';
    if (m.config.errors.length) h += '<div class="notice bad"><b>Configuration errors</b>' + (m.config.state === 'stale' ? ' (the previous valid configuration is still running)' : '') +
      '<ul>' + m.config.errors.map(function (e) { return '<li class="mono">' + esc(e) + '</li>'; }).join('') + '</ul></div>';
    if (m.config.staleFiles.length) h += '<div class="notice warn"><b>Stale files</b> (their content is not in force)<ul>' +
      m.config.staleFiles.map(function (f) { return '<li><span class="mono">' + esc(f.file) + '</span>: ' + esc(f.effect) + '<br><span class="mono">' + esc(f.reason) + '</span></li>'; }).join('') + '</ul></div>';
    if (m.config.warnings.length) h += '<div class="notice warn"><b>Warnings</b><ul>' +
      m.config.warnings.map(function (e) { return '<li class="mono">' + esc(e) + '</li>'; }).join('') + '</ul></div>';
    $('config-section').innerHTML = h;
  }

  function renderSessions(m) {
    if (!m.sessions.length) { $('sessions').innerHTML = '<div class="empty">No BGP sessions on this node.</div>'; return; }
    $('sessions').innerHTML = m.sessions.map(function (s) {
      return '<div class="card session" data-peer="' + esc(s.peer) + '"><div class="title"><span>' + esc(s.peer) + '</span>' + pill(stateClass(s.state), s.state) + '</div>' +
        kv([
          ['peer', (s.address || '?') + (s.port && s.port !== 179 ? ' port ' + s.port : '')],
          ['ASN', (s.myASN !== null ? s.myASN : '?') + ' \\u2192 ' + (s.peerASN !== null ? s.peerASN : '?') + (s.ebgp === null ? '' : s.ebgp ? ' (eBGP)' : ' (iBGP)')],
          ['router ID', s.peerRouterId],
          ['uptime', s.established ? dur(s.uptimeSeconds) : '-'],
          ['prefixes sent', s.prefixesSent + (s.prefixesPlanned !== s.prefixesSent ? ' of ' + s.prefixesPlanned + ' planned' : '')],
          ['prefixes received', s.prefixesReceived === null ? null : s.prefixesReceived + (s.prefixesAccepted === null ? '' : ' (' + s.prefixesAccepted + ' accepted)')],
          ['phase', s.phase && s.phase !== 'established' && s.phase !== 'down' ? s.phase : null],
          ['updates sent / recv', s.updatesSent === null ? null : s.updatesSent + ' / ' + (s.updatesReceived === null ? '-' : s.updatesReceived)],
          ['BFD', s.bfd]
        ]) + (s.staleReceived > 0 ? '<div class="notice warn stale-received">Peer restarting (graceful restart): ' + s.staleReceived + ' received route' + (s.staleReceived === 1 ? '' : 's') +
          ' kept as stale' + (s.staleReceivedUntil ? ' until ' + esc(new Date(s.staleReceivedUntil).toLocaleTimeString()) : '') + ', still forwarded with until the peer\u2019s End-of-RIB</div>' : '') +
        (s.lastError ? '<div class="error">' + esc(s.lastError) + '</div>' : '') + '</div>';
    }).join('');
  }

  function renderServices(m) {
    if (!m.services.length) { $('services').innerHTML = '<div class="empty">No LoadBalancer Services.</div>'; return; }
    $('services').innerHTML = '<table class="stack"><thead><tr><th>Service</th><th>IP</th><th>Pool</th><th>Announced to</th><th>Layer 2 owner</th></tr></thead><tbody>' +
      m.services.map(function (s) {
        return '<tr class="service" data-key="' + esc(s.key) + '">' + td('Service', esc(s.key)) +
          td('IP', s.ips.length ? esc(s.ips.join(', ')) : '<span class="error">' + esc(s.error || 'no IP') + '</span>', 'mono') +
          td('Pool', esc(s.pool || '-')) + td('Announced to', esc(s.announcedTo.join(', ') || (m.routesPartial ? 'not in the routes listed' : '-'))) +
          td('Layer 2 owner', esc(s.l2Owner || '-') + (s.l2HandingOverTo ? ' <span class="pill warn handover-pill">handing over to ' + esc(s.l2HandingOverTo.to || 'the next owner') + '</span>' : '')) + '</tr>';
      }).join('') + '</tbody></table>' +
      (m.servicesHidden ? '<div class="empty services-hidden">' + m.servicesHidden + ' more Services not shown (see /status?services=all).</div>' : '');
  }

  function renderPools(m) {
    if (!m.pools.length) { $('pools').innerHTML = '<div class="empty">No pools reported.</div>'; return; }
    $('pools').innerHTML = m.pools.map(function (p) {
      return '<div class="card pool"><div class="title"><span>' + esc(p.name) + '</span><span class="muted">' + p.inUse + ' / ' + p.total + ' (' + p.percent + '%)</span></div>' +
        '<div class="bar' + (p.percent > 90 ? ' high' : '') + '"><span style="width:' + Math.min(100, p.percent) + '%"></span></div></div>';
    }).join('');
  }

  function renderLayer2(m) {
    var l = m.layer2;
    // nothing to say: no election, no address answered, not leaving
    $('layer2-section').hidden = !l || (l.mode !== 'gossip' && !l.leaving && !l.problem && !l.announcing.length);
    if (!l) return;
    var h = '<div class="card layer2"><div class="title"><span>' + esc(l.mode === 'gossip' ? 'elections among the speakers' : 'this node only') + '</span>' +
      (l.leaving ? pill('warn', 'leaving') : l.hasQuorum === false ? pill('bad', 'no quorum') : pill('ok', 'serving')) + '</div>' +
      kv([['members alive', l.alive.join(', ')], ['answering for', l.announcing.join(', ') || 'nothing']]) +
      (l.problem ? '<div class="error">' + esc(l.problem) + '</div>' : '') + '</div>';
    if (l.leaving || l.handingOver.length) {
      h += '<div class="notice warn handover"><b>' + (l.leaving ? 'Leaving' : 'Moving') + '</b>: ' + (l.handingOver.length ?
        'handing over (still answering until the new owner confirms)<ul>' + l.handingOver.map(function (x) {
          return '<li class="mono">' + esc(x.ip) + ' \u2192 ' + esc(x.to || 'no owner yet') + (x.remainingMs !== null ? ' <span class="muted">(at most ' + (x.remainingMs / 1000).toFixed(1) + ' s more)</span>' : '') + '</li>'; }).join('') + '</ul>' :
        'every address handed over; not answering for any') + '</div>';
    }
    $('layer2').innerHTML = h;
  }

  function renderReceived(m) {
    var r = m.received;
    // nothing received, adopted or failed (no receive policy): nothing to say
    $('received-section').hidden = !r || (!r.installed && !r.adoptedFromPreviousRun && !r.failed.length);
    if (!r) return;
    var h = '<div class="card received"><div class="title"><span>Kernel' + (r.table !== null ? ' table ' + r.table : '') + '</span>' +
      (r.metric !== null ? '<span class="muted">metric ' + r.metric + '</span>' : '') + '</div><dl class="kv">' +
      '<dt>installed</dt><dd class="received-installed">' + r.installed + '</dd>' +
      (r.recursive ? '<dt>via resolved next hops</dt><dd>' + r.recursive + '</dd>' : '') + '</dl></div>';
    if (r.adoptedFromPreviousRun) h += '<div class="notice warn adopted">' + r.adoptedFromPreviousRun + ' route' + (r.adoptedFromPreviousRun === 1 ? '' : 's') +
      ' of the previous run kept over our graceful restart, not re-learned yet (removed when the restart time is over unless a session learns ' + (r.adoptedFromPreviousRun === 1 ? 'it' : 'them') + ' again)</div>';
    if (r.failed.length) h += '<div class="notice bad"><b>Not installed</b><ul>' + r.failed.map(function (f) {
      return '<li><span class="mono">' + esc(f.prefix) + '</span>: ' + esc(f.error) + '</li>'; }).join('') + '</ul></div>';
    $('received').innerHTML = h;
  }

  var openRouters = {};
  function renderRouters(m) {
    document.querySelectorAll('#routers details').forEach(function (d) { openRouters[d.dataset.peer] = d.open; });
    if (!m.routers.length) { $('routers').innerHTML = '<div class="empty">No routers.</div>'; return; }
    $('routers').innerHTML = m.routers.map(function (r) {
      var open = openRouters[r.peer] !== undefined ? openRouters[r.peer] : m.routers.length <= 4;
      var rows = r.routes.map(function (rt) {
        var comm = rt.communities.concat(rt.largeCommunities, rt.weight === null || rt.weight === undefined ? [] : ['weight ' + rt.weight], rt.fallback ? ['local fallback'] : []).join(' ');
        return '<tr class="route">' + td('Prefix', esc(rt.prefix), 'mono') + td('Next hop', esc(rt.nextHop || 'node address'), 'mono') +
          td('LOCAL_PREF', esc(rt.localPref === null ? '-' : rt.localPref)) + td('Communities', esc(comm || '-'), 'mono') + '</tr>';
      }).join('');
      return '<details data-peer="' + esc(r.peer) + '"' + (open ? ' open' : '') + '><summary>' + esc(r.peer) + ' <span class="muted mono">' + esc(r.address || '') + '</span>' +
        pill(stateClass(r.state), r.state) + '<span class="muted">' + (r.routes.length + r.hidden) + ' route' + (r.routes.length + r.hidden === 1 ? '' : 's') + '</span></summary>' +
        (r.routes.length ? '<table class="stack"><thead><tr><th>Prefix</th><th>Next hop</th><th>LOCAL_PREF</th><th>Communities</th></tr></thead><tbody>' + rows + '</tbody></table>' : '<div class="empty" style="padding:10px 14px">No routes.</div>') +
        (r.hidden ? '<div class="empty" style="padding:8px 14px">' + r.hidden + ' more routes not shown (see /status?routes=all).</div>' : '') + '</details>';
    }).join('');
  }

  function render(m) {
    renderHeader(m); renderConfig(m); renderSessions(m); renderServices(m); renderLayer2(m); renderPools(m); renderReceived(m); renderRouters(m);
    $('updated').textContent = new Date().toLocaleTimeString();
    document.body.dataset.generation = String(m.config.generation);
  }

  function live(on, text) { $('live').className = 'live' + (on ? ' on' : ''); $('live-text').textContent = text; }

  var failures = 0, pollTimer = null;
  function poll() {
    fetch('/ui/model', { cache: 'no-store' }).then(function (r) { return r.json(); })
      .then(function (m) { render(m); live(true, 'polling'); })
      .catch(function () { live(false, 'disconnected'); })
      .then(function () { pollTimer = setTimeout(poll, 2000); });
  }
  function connect() {
    if (!window.EventSource) { poll(); return; }
    var es = new EventSource('/ui/events');
    es.addEventListener('model', function (e) { failures = 0; live(true, 'live'); render(JSON.parse(e.data)); });
    es.onerror = function () {
      failures++;
      live(false, 'reconnecting');
      if (failures >= 5) { es.close(); poll(); }
    };
  }
  connect();
})();
`;
