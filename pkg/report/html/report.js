// tlsaudit HTML report. Reads the audit written as JSON into the page and builds the
// summary, the service map (Cytoscape.js, positions computed by tlsaudit) and the pairs
// table. Every value from the capture is set with textContent, never parsed as HTML.
(function () {
  'use strict';
  const data = JSON.parse(document.getElementById('tlsaudit-data').textContent);
  const summary = data.summary;
  const grades = data.grades;
  const gradeIndex = Object.fromEntries(grades.map((g, i) => [g.key, i]));
  const gradeOf = (key) => grades[gradeIndex[key]] || grades[grades.length - 1];
  const pairsById = new Map(data.pairs.map((p) => [p.id, p]));

  // el makes an element with attributes and children (strings become text nodes).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'style') e.style.cssText = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) {
      if (c !== null && c !== undefined) e.append(c);
    }
    return e;
  }
  const swatch = (color) => el('span', { class: 'swatch', style: 'background:' + color });

  function fmtBytes(n) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
  }
  // Zero times ("0001-01-01…") are times not known, as in a report built from counters.
  const fmtTime = (s) => (s && !s.startsWith('0001-') ? s.replace('T', ' ').replace(/(\.\d{3})\d*/, '$1') : '');
  const pct = (part, whole) => (whole > 0 ? (100 * part / whole).toFixed(1) + '%' : 'n/a');
  const sum = (obj) => Object.values(obj || {}).reduce((a, b) => a + b, 0);
  const dash = (s) => (s === '' || s === undefined || s === null ? '-' : String(s));
  const countList = (obj) => Object.entries(obj || {}).sort((a, b) => b[1] - a[1]);

  // --- summary header ---
  function renderSummary() {
    document.getElementById('run').textContent =
      summary.files.join(', ') + ' · ' + summary.packets + ' packets · ' + summary.flows + ' flows (' +
      summary.internal_flows + ' internal) · ' + summary.pairs + ' service pairs · minimum ' +
      summary.min_tls_version + ' · generated ' + fmtTime(data.generated);
    const box = document.getElementById('summary');
    const flows = data.internal.flows, bytes = data.internal.bytes;
    const encFlows = data.categories.filter((c) => c.encrypted).reduce((a, c) => a + (flows[c.key] || 0), 0);
    const encBytes = data.categories.filter((c) => c.encrypted).reduce((a, c) => a + (bytes[c.key] || 0), 0);
    box.append(card('Internal flows encrypted', pct(encFlows, sum(flows)), encFlows + ' of ' + sum(flows), 'enc-flows'));
    box.append(card('Internal bytes encrypted', pct(encBytes, sum(bytes)), fmtBytes(encBytes) + ' of ' + fmtBytes(sum(bytes)), 'enc-bytes'));
    const nviol = data.pairs.filter((p) => p.violations.length > 0).length;
    const vc = card('Violations', String(sum(summary.violations)),
      nviol + ' pairs; plaintext, or TLS below ' + summary.min_tls_version, 'violations');
    if (sum(summary.violations) > 0) vc.classList.add('bad');
    vc.append(listOf(summary.violations));
    box.append(vc);
    const uc = card('Unknown flows', String(sum(summary.unknown_reasons)), 'by reason', 'unknown');
    uc.append(listOf(summary.unknown_reasons));
    box.append(uc);
    const limits = countList(summary.limits_hit);
    const lc = card('Limits hit', String(limits.length), limits.length ? 'what the report could not see whole' : 'none', 'limits');
    lc.append(listOf(summary.limits_hit));
    if (summary.flows_folded > 0) lc.append(el('p', { class: 'note' }, summary.flows_folded + ' flows of pairs past the pair limit are aggregated as "(other)"'));
    if (summary.errors.length) {
      lc.classList.add('bad');
      for (const e of summary.errors) lc.append(el('p', {}, 'error: ' + e));
    }
    box.append(lc);
    const bars = el('div', { class: 'card bars', id: 'shares' }, el('h3', {}, 'Internal traffic by class and TLS version'));
    bars.append(el('div', {}, 'flows'), bar(flows), el('div', {}, 'bytes'), bar(bytes));
    const leg = el('ul', { class: 'barlegend' });
    for (const c of data.categories) {
      leg.append(el('li', {}, swatch(gradeOf(c.grade).color), c.key + ': ' + (flows[c.key] || 0) + ' flows, ' +
        fmtBytes(bytes[c.key] || 0) + ' (' + pct(bytes[c.key] || 0, sum(bytes)) + ' of bytes)'));
    }
    bars.append(leg);
    box.append(bars);
  }
  function card(title, big, sub, id) {
    return el('div', { class: 'card', id: 'card-' + id }, el('h3', {}, title), el('div', { class: 'big' }, big), el('div', { class: 'note' }, sub));
  }
  function listOf(obj) {
    const ul = el('ul');
    for (const [k, v] of countList(obj)) ul.append(el('li', {}, k + ': ' + v));
    return ul;
  }
  function bar(counts) {
    const total = sum(counts);
    const b = el('div', { class: 'bar' });
    for (const c of data.categories) {
      const n = counts[c.key] || 0;
      if (n > 0) b.append(el('span', { title: c.key + ': ' + pct(n, total), style: 'width:' + (100 * n / total) + '%;background:' + gradeOf(c.grade).color }));
    }
    return b;
  }

  // --- service map ---
  function renderMap() {
    const legend = document.getElementById('legend');
    for (const g of grades) {
      const li = el('li', { 'data-grade': g.key, title: 'show only these pairs (again: all)' }, swatch(g.color), g.label);
      li.addEventListener('click', () => {
        const sel = document.getElementById('grade-filter');
        sel.value = sel.value === g.key ? '' : g.key;
        applyFilter();
      });
      legend.append(li);
    }
    const maxBytes = data.pairs.reduce((m, p) => Math.max(m, p.bytes), 1);
    const big = data.pairs.length > 500; // thinner, fainter edges so that nodes stay visible
    const elements = [];
    for (const g of data.groups) elements.push({ group: 'nodes', data: { id: g.id, label: g.label }, classes: 'ns' });
    for (const n of data.nodes) elements.push({ group: 'nodes', data: { id: n.id, label: n.label, parent: n.group }, position: { x: n.x, y: n.y } });
    // Every edge arcs a little, and edges between the same two nodes arc apart, so that
    // no edge hides under another drawn along the same line.
    const between = new Map();
    for (const p of data.pairs) {
      const k = p.src < p.dst ? p.src + ' ' + p.dst : p.dst + ' ' + p.src;
      const n = between.get(k) || 0;
      between.set(k, n + 1);
      const side = p.src < p.dst ? 1 : -1;
      elements.push({
        group: 'edges',
        data: {
          id: 'p' + p.id, pair: p.id, source: p.src, target: p.dst, grade: p.grade, color: gradeOf(p.grade).color,
          width: (big ? 0.5 : 1) + (big ? 3 : 9) * Math.log1p(p.bytes) / Math.log1p(maxBytes), arc: side * (30 + 24 * n),
          z: grades.length - gradeIndex[p.grade], // the weakest drawn on top
        },
      });
    }
    const cy = cytoscape({
      container: document.getElementById('map'),
      elements: elements,
      layout: { name: 'preset', fit: true, padding: 20 },
      boxSelectionEnabled: false,
      textureOnViewport: big,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'font-size': 10, 'text-valign': 'bottom', 'text-margin-y': 3, width: 14, height: 14, 'background-color': '#4a4a55', 'min-zoomed-font-size': 7 } },
        { selector: 'node.ns', style: { 'background-color': '#eef1f6', 'background-opacity': 0.6, 'border-width': 1, 'border-color': '#9aa3b5', label: 'data(label)', 'text-valign': 'top', 'text-halign': 'center', 'font-size': 14, 'font-weight': 'bold', 'text-margin-y': -4, padding: 14, 'min-zoomed-font-size': 4 } },
        { selector: 'edge', style: { width: 'data(width)', 'line-color': 'data(color)', 'target-arrow-color': 'data(color)', 'target-arrow-shape': 'triangle', 'arrow-scale': 0.7, 'curve-style': 'unbundled-bezier', 'control-point-distances': 'data(arc)', 'control-point-weights': 0.5, opacity: big ? 0.45 : 0.8, 'z-index': 'data(z)' } },
        { selector: 'edge:loop', style: { 'curve-style': 'bezier' } },
        { selector: 'edge:selected', style: { opacity: 1, 'underlay-color': '#000', 'underlay-opacity': 0.3, 'underlay-padding': 4, 'z-index': 10 } },
        { selector: '.filtered', style: { display: 'none' } },
        { selector: 'edge.faded', style: { opacity: 0.06 } },
        { selector: 'node.faded', style: { opacity: 0.3 } },
      ],
    });
    // A small map fitted to the box would be drawn huge; keep it at a readable scale.
    if (cy.zoom() > 1.2) {
      cy.zoom(1.2);
      cy.center();
    }
    cy.on('tap', 'edge', (evt) => showPair(evt.target.data('pair'), false));
    // A click on a workload fades everything but its pairs; a click on the background
    // brings everything back.
    cy.on('tap', 'node', (evt) => {
      const n = evt.target;
      if (n.isParent()) return;
      cy.batch(() => {
        cy.elements().addClass('faded');
        n.closedNeighborhood().union(n.closedNeighborhood().parents()).removeClass('faded');
      });
    });
    cy.on('tap', (evt) => {
      if (evt.target === cy) cy.elements().removeClass('faded');
    });
    return cy;
  }

  // --- flows of one pair ---
  const flowColumns = [
    ['client', (f) => f.client], ['server', (f) => f.server], ['first seen', (f) => fmtTime(f.first_seen)],
    ['last seen', (f) => fmtTime(f.last_seen)], ['class', (f) => f.class], ['TLS', (f) => f.tls_version],
    ['app', (f) => f.app_protocol + (f.starttls ? ' (STARTTLS)' : '')], ['SNI', (f) => f.sni], ['ALPN', (f) => (f.alpn || []).join(', ')],
    ['cipher', (f) => f.cipher], ['group', (f) => f.group], ['JA4', (f) => f.ja4],
    ['client cert', (f) => (f.client_cert === null || f.client_cert === undefined ? 'unknown' : f.client_cert ? 'yes' : 'no')], ['bytes', (f) => fmtBytes(f.bytes)],
    ['violation', (f) => (f.violation || '') + (f.exempt ? ' (exempt: ' + f.exempt + ')' : '')], ['reason', (f) => f.reason],
  ];
  let selectedRow = null;
  function showPair(id, fromTable) {
    const p = pairsById.get(id);
    if (!p) return;
    const sec = document.getElementById('flows');
    sec.replaceChildren();
    sec.dataset.pair = String(id);
    sec.append(el('h2', {}, 'Flows of ' + p.client + ' → ' + p.server + ':' + p.port + '/' + p.transport));
    const dl = el('dl');
    const facts = [
      ['weakest class', gradeOf(p.grade).label], ['classes', countList(p.classes).map(([k, v]) => k + ' ' + v).join(', ')],
      ['TLS versions', countList(p.tls_versions).map(([k, v]) => k + ' ' + v).join(', ')], ['protocols', p.app_protocols.join(', ')],
      ['SNIs', p.snis.join(', ')], ['violations', p.violations.join(', ')], ['flows', p.flows + ' (' + fmtBytes(p.bytes) + ')'],
      ['internal', p.internal ? 'yes' : 'no'], ['seen', fmtTime(p.first_seen) + ' to ' + fmtTime(p.last_seen)],
    ];
    for (const [k, v] of facts) dl.append(el('dt', {}, k), el('dd', {}, dash(v)));
    sec.append(dl);
    const table = el('table', { id: 'flow-table' });
    const head = el('tr');
    for (const [name] of flowColumns) head.append(el('th', {}, name));
    table.append(el('thead', {}, head));
    const body = el('tbody');
    for (const f of p.sample) {
      const tr = el('tr', f.violation ? { class: 'violation' } : {});
      for (const [name, get] of flowColumns) tr.append(el('td', { class: name.endsWith('seen') ? 'time' : 'wrap' }, dash(get(f))));
      body.append(tr);
    }
    table.append(body);
    sec.append(table);
    if (p.sample.length === 0) sec.append(el('p', { class: 'note' }, 'No flows were kept for this pair (the report was built from counters, or the sample budget ran out).'));
    if (p.sample_omitted > 0) sec.append(el('p', { class: 'note' }, p.sample_omitted + ' more flows of this pair are not listed; violations are kept first.'));
    sec.hidden = false;
    cy.$(':selected').unselect();
    cy.$id('p' + id).select();
    if (selectedRow) selectedRow.classList.remove('selected');
    selectedRow = rows.get(id) || null;
    if (selectedRow) selectedRow.classList.add('selected');
    if (fromTable) sec.scrollIntoView({ block: 'nearest' });
  }

  // --- pairs table ---
  const pairColumns = [
    { key: 'violations', label: 'violations', sort: (p) => p.violations.length, text: (p) => p.violations.join(', ') },
    { key: 'grade', label: 'weakest', sort: (p) => gradeIndex[p.grade], text: (p) => gradeOf(p.grade).label, cls: 'grade' },
    { key: 'client', label: 'client', sort: (p) => p.client, text: (p) => p.client, cls: 'wrap' },
    { key: 'server', label: 'server', sort: (p) => p.server, text: (p) => p.server, cls: 'wrap' },
    { key: 'port', label: 'port', sort: (p) => p.port, text: (p) => String(p.port), num: true },
    { key: 'transport', label: 'proto', sort: (p) => p.transport, text: (p) => p.transport },
    { key: 'tls_versions', label: 'TLS', sort: (p) => Object.keys(p.tls_versions).sort().join(','), text: (p) => Object.keys(p.tls_versions).sort().join(', ') },
    { key: 'apps', label: 'app', sort: (p) => p.app_protocols.join(','), text: (p) => p.app_protocols.join(', ') },
    { key: 'flows', label: 'flows', sort: (p) => p.flows, text: (p) => String(p.flows), num: true },
    { key: 'bytes', label: 'bytes', sort: (p) => p.bytes, text: (p) => fmtBytes(p.bytes), num: true },
    { key: 'internal', label: 'internal', sort: (p) => (p.internal ? 1 : 0), text: (p) => (p.internal ? 'yes' : 'no') },
    { key: 'snis', label: 'SNI', sort: (p) => p.snis.join(','), text: (p) => p.snis.join(', '), cls: 'wrap' },
    { key: 'first_seen', label: 'first seen', sort: (p) => p.first_seen, text: (p) => fmtTime(p.first_seen), cls: 'time' },
    { key: 'last_seen', label: 'last seen', sort: (p) => p.last_seen, text: (p) => fmtTime(p.last_seen), cls: 'time' },
  ];
  const rows = new Map();
  let order = data.pairs.slice(); // violations first, as tlsaudit wrote them
  let sortKey = null, sortDir = 1;
  function renderTable() {
    const headRow = document.querySelector('#pairs thead tr');
    for (const c of pairColumns) {
      const th = el('th', { 'data-key': c.key, class: c.num ? 'num' : '' }, c.label);
      th.addEventListener('click', () => sortBy(c.key));
      headRow.append(th);
    }
    for (const p of data.pairs) {
      const tr = el('tr', { 'data-pair': String(p.id) });
      for (const c of pairColumns) {
        const td = el('td', { class: (c.num ? 'num ' : '') + (c.cls || '') }, dash(c.text(p)));
        if (c.key === 'grade') td.prepend(swatch(gradeOf(p.grade).color));
        tr.append(td);
      }
      tr.addEventListener('click', () => showPair(p.id, true));
      rows.set(p.id, tr);
    }
    const sel = document.getElementById('grade-filter');
    for (const g of grades) sel.append(el('option', { value: g.key }, g.label));
    for (const id of ['filter', 'grade-filter', 'violations-only', 'internal-only']) {
      document.getElementById(id).addEventListener('input', applyFilter);
    }
    layRows();
    applyFilter();
  }
  function sortBy(key) {
    const col = pairColumns.find((c) => c.key === key);
    sortDir = sortKey === key ? -sortDir : (col.num ? -1 : 1);
    sortKey = key;
    order = data.pairs.slice().sort((a, b) => {
      const x = col.sort(a), y = col.sort(b);
      return (x < y ? -1 : x > y ? 1 : 0) * sortDir;
    });
    for (const th of document.querySelectorAll('#pairs thead th')) {
      if (th.dataset.key === key) th.setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    layRows();
  }
  function layRows() {
    const body = document.querySelector('#pairs tbody');
    const frag = document.createDocumentFragment();
    for (const p of order) frag.append(rows.get(p.id));
    body.replaceChildren(frag);
  }
  function applyFilter() {
    const q = document.getElementById('filter').value.trim().toLowerCase();
    const grade = document.getElementById('grade-filter').value;
    const violOnly = document.getElementById('violations-only').checked;
    const intOnly = document.getElementById('internal-only').checked;
    let shown = 0;
    cy.batch(() => {
      for (const p of data.pairs) {
        const hay = [p.client, p.server, String(p.port), p.transport, p.snis.join(' '), p.app_protocols.join(' '), p.violations.join(' ')].join(' ').toLowerCase();
        const ok = (!q || hay.includes(q)) && (!grade || p.grade === grade) && (!violOnly || p.violations.length > 0) && (!intOnly || p.internal);
        rows.get(p.id).hidden = !ok;
        cy.$id('p' + p.id).toggleClass('filtered', !ok);
        if (ok) shown++;
      }
    });
    document.getElementById('shown').textContent = 'showing ' + shown + ' of ' + data.pairs.length + ' pairs';
  }

  const t0 = performance.now();
  renderSummary();
  const cy = renderMap();
  const t1 = performance.now();
  renderTable();
  const t2 = performance.now();
  // For people in the console and for the browser tests.
  window.tlsaudit = { cy: cy, data: data, showPair: showPair, ready: true, timings: { map: t1 - t0, table: t2 - t1 } };
})();
