#!/usr/bin/env node
// The summary of a run: reads OUT/pages/*.json, writes OUT/summary.json and
// OUT/summary.md (and returns the Markdown). `node summary.js OUT` redoes it.
'use strict';

// Places a browser fetches from (an other host's URL there is a request).
const FETCHING_PLACES = new Set([
  'noscript', 'preconnect/dns-prefetch', 'srcset/imagesrcset', 'svg href/xlink:href',
  'style attribute', 'style element', 'custom element attribute',
]);
function fetchingPlace(p) {
  return FETCHING_PLACES.has(p) || p.startsWith('link[rel=')
    || /\[(src|poster|background|data|srcset|imagesrcset|href|xlink:href)\]$/.test(p);
}

const fs = require('fs');
const path = require('path');
const { INFO_PLACES } = require('./lib/markup');

const TYPES = ['script', 'font', 'xhr', 'image', 'stylesheet', 'frame', 'other'];

function inc(map, key, n = 1) {
  map[key] = (map[key] || 0) + n;
}

function sorted(map, limit = Infinity) {
  return Object.entries(map).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, limit);
}

// Ratios mirror/direct: the mean is of ratios capped at 1 (a page that
// shows more through the mirror does not make up for one that shows less).
function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, mean: null, median: null, ge95: 0 };
  return {
    n: v.length,
    mean: v.reduce((a, b) => a + Math.min(b, 1), 0) / v.length,
    median: v[Math.floor(v.length / 2)],
    ge95: v.filter((x) => x >= 0.95).length,
    above105: v.filter((x) => x > 1.05).length,
  };
}

function summarizeMode(results, mode) {
  const s = {
    pages: 0, measured: 0, pass: 0, pass_network: 0, pass_fetched: 0, zero_off_mirror: 0, zero_network: 0, csp_refused: 0, zero_leftover: 0, errors: [],
    off_mirror: { total: 0, by_type: Object.fromEntries(TYPES.map((t) => [t, 0])), failed: 0, by_error: {}, by_initiator: {} },
    off_mirror_hosts: {}, off_mirror_host_pages: {},
    leftover: { counted: 0, info: 0, by_place: {}, pages_by_place: {}, detail: {}, by_class: {}, detail_by_class: {} },
    dns_hints: { total: 0, pages: 0, in_noscript: 0, by_class: { site: 0, asset: 0, other: 0 }, by_rel: {} },
    text_ratio: null, image_ratio: null, below95: [], left_mirror: [],
    failing: [],
  };
  const text = [];
  const img = [];
  for (const r of results) {
    const m = r.modes?.[mode];
    if (!m) continue;
    s.pages++;
    if (m.error || m.status !== 200) {
      s.errors.push({ id: r.id, url: r.url, error: m.error || `status ${m.status}` });
      if (m.error) continue;
    }
    s.measured++;
    if (m.pass) s.pass++;
    else s.failing.push({ url: r.url, off_mirror: m.off_mirror.length, leftover: m.leftover.counted });
    if (m.off_mirror.length === 0) s.zero_off_mirror++;
    // The mirror's CSP refuses a request before the browser looks the host
    // up: such an attempt is a missing resource, not a request that left.
    const reached = m.off_mirror.filter((o) => o.failure !== 'csp');
    s.csp_refused += m.off_mirror.length - reached.length;
    if (reached.length === 0) s.zero_network++;
    if (m.status === 200 && reached.length === 0 && m.leftover.counted === 0) s.pass_network++;
    // A second reading of the leftovers: URLs of hosts the mirror serves
    // (it should have mapped them) anywhere counted, and other hosts' URLs
    // only where a browser fetches them; other hosts in data it never
    // fetches (data-* values, meta content, cite) are reported, not failed.
    const lo = m.leftover;
    let served = 0;
    let otherFetched = 0;
    for (const [p, n] of Object.entries(lo.by_place || {})) {
      if (INFO_PLACES.has(p)) continue;
      const c = (lo.by_class || {})[p] || { site: 0, asset: 0, other: n };
      served += c.site + c.asset;
      if (fetchingPlace(p)) otherFetched += c.other;
    }
    if (m.status === 200 && reached.length === 0 && served === 0 && otherFetched === 0) s.pass_fetched++;
    if (m.leftover.counted === 0) s.zero_leftover++;
    const hostsHere = new Set();
    for (const o of m.off_mirror) {
      s.off_mirror.total++;
      inc(s.off_mirror.by_type, o.type);
      if (o.failure) { s.off_mirror.failed++; inc(s.off_mirror.by_error, o.failure); }
      inc(s.off_mirror.by_initiator, (o.initiator || 'unknown').split(' ')[0]);
      inc(s.off_mirror_hosts, o.host);
      hostsHere.add(o.host);
    }
    for (const h of hostsHere) inc(s.off_mirror_host_pages, h);
    s.leftover.counted += m.leftover.counted;
    s.leftover.info += m.leftover.info;
    for (const [p, n] of Object.entries(m.leftover.by_place)) {
      inc(s.leftover.by_place, p, n);
      inc(s.leftover.pages_by_place, p);
    }
    for (const [p, c] of Object.entries(m.leftover.by_class || {})) {
      const agg = (s.leftover.by_class[p] ||= { site: 0, asset: 0, other: 0 });
      for (const [k, n] of Object.entries(c)) agg[k] += n;
    }
    for (const d of m.dns_hints) {
      if (d.class) s.dns_hints.by_class[d.class]++;
      inc(s.dns_hints.by_rel, (d.rel || '').toLowerCase().trim());
    }
    for (const [p, d] of Object.entries(m.leftover.detail_by_class || {})) {
      const agg = (s.leftover.detail_by_class[p] ||= {});
      for (const [k, n] of Object.entries(d)) inc(agg, k, n);
    }
    for (const [p, d] of Object.entries(m.leftover.detail || {})) {
      const agg = (s.leftover.detail[p] ||= {});
      for (const [k, n] of Object.entries(d)) inc(agg, k, n);
    }
    s.dns_hints.total += m.dns_hints.length;
    if (m.dns_hints.length) s.dns_hints.pages++;
    s.dns_hints.in_noscript += m.dns_hints.filter((d) => d.noscript).length;
    text.push(m.text_ratio);
    img.push(m.image_ratio);
    if (m.text_ratio < 0.95 || m.image_ratio < 0.95) {
      s.below95.push({ url: r.url, text: `${m.text}/${r.direct.text}`, images: `${m.images_loaded}/${r.direct.imagesLoaded}` });
    }
    if (m.left_mirror) s.left_mirror.push({ url: r.url, final_url: m.final_url });
  }
  s.text_ratio = stats(text);
  s.image_ratio = stats(img);
  return s;
}

const pct = (x) => (x === null ? '-' : `${(100 * x).toFixed(1)} %`);

function markdown(meta, sums) {
  const L = [];
  L.push(`# Real pages through the mirror: ${meta.label || meta.binary}`, '');
  L.push(`- date: ${meta.date}`);
  L.push(`- binary: \`${meta.binary}\``);
  L.push(`- machine: ${meta.machine}; Chromium ${meta.chromium}`);
  L.push(`- pages: ${meta.pages}; modes: ${meta.modes.join(', ')}; ${meta.jobs} pages at a time; load timeout ${meta.timeout_ms} ms, then ${meta.settle_ms} ms`);
  L.push(`- run time: ${meta.seconds} s`);
  L.push(`- the origin answered: ${Object.entries(meta.origin_answers).map(([k, v]) => `${v} ${k}`).join(', ')}`);
  L.push('');
  const modes = Object.keys(sums);
  const row = (name, f) => L.push(`| ${name} | ${modes.map((m) => f(sums[m])).join(' | ')} |`);
  const label = { keep: '`remove = []`', remove: '`remove = ["script", "iframe"]`', noscript: '`javascript = "remove"`' };
  L.push(`| | ${modes.map((m) => `${m} (${label[m] || m})`).join(' | ')} |`);
  L.push(`|---|${modes.map(() => '---').join('|')}|`);
  row('pages passing (no off-mirror request, no counted upstream URL)', (s) => `**${s.pass} / ${s.measured}**`);
  row('pages without off-mirror requests', (s) => `${s.zero_off_mirror} / ${s.measured}`);
  row('pages passing if attempts the CSP refused (no DNS, no connection) do not count', (s) => `${s.pass_network} / ${s.measured}`);
  row('pages where no request reached the network', (s) => `${s.zero_network} / ${s.measured}`);
  row('pages passing if, besides, other hosts count only where fetched (not in data-*, meta content, cite)', (s) => `${s.pass_fetched} / ${s.measured}`);
  row('off-mirror attempts refused by the mirror\'s CSP', (s) => `${s.csp_refused}`);
  row('pages without counted upstream URLs in the markup', (s) => `${s.zero_leftover} / ${s.measured}`);
  row('off-mirror requests', (s) => `${s.off_mirror.total} (${s.off_mirror.failed} failed)`);
  for (const t of TYPES) row(`&nbsp;&nbsp;${t}`, (s) => `${s.off_mirror.by_type[t]}`);
  row('upstream URLs left, counted', (s) => `${s.leftover.counted}`);
  row('upstream URLs left, informational (script text, text, links out, ...)', (s) => `${s.leftover.info}`);
  row('DNS hints left (dns-prefetch/preconnect), pages', (s) => `${s.dns_hints.total}, ${s.dns_hints.pages} pages`);
  row('text mirror/direct: mean (capped at 100 %), median, pages ≥ 95 %, pages > 105 %', (s) => `${pct(s.text_ratio.mean)}, ${pct(s.text_ratio.median)}, ${s.text_ratio.ge95} / ${s.text_ratio.n}, ${s.text_ratio.above105}`);
  row('loaded images mirror/direct: mean (capped at 100 %), median, pages ≥ 95 %, pages > 105 %', (s) => `${pct(s.image_ratio.mean)}, ${pct(s.image_ratio.median)}, ${s.image_ratio.ge95} / ${s.image_ratio.n}, ${s.image_ratio.above105}`);
  row('mirrored loads that ended off the mirror (a script navigated away)', (s) => `${s.left_mirror.length}`);
  row('pages with errors', (s) => `${s.errors.length}`);
  L.push('');
  for (const m of modes) {
    const s = sums[m];
    L.push(`## Mode ${m}`, '');
    L.push('Upstream URLs left in the served markup, by place (occurrences; pages):', '');
    L.push('Hosts: site = the upstream and its alias, asset = asset_hosts, other = any other host the page named.', '');
    L.push('| place | counted | occurrences | pages | site / asset / other | most frequent (element[attribute]: occurrences) |', '|---|---|---|---|---|---|');
    for (const [p, n] of sorted(s.leftover.by_place)) {
      const top = sorted(s.leftover.detail[p] || {}, 4).map(([k, v]) => `\`${k}\` ${v}`).join(', ');
      const c = s.leftover.by_class[p] || { site: '-', asset: '-', other: '-' };
      L.push(`| ${p} | ${INFO_PLACES.has(p) ? 'no' : 'yes'} | ${n} | ${s.leftover.pages_by_place[p]} | ${c.site} / ${c.asset} / ${c.other} | ${top} |`);
    }
    L.push('', `DNS hints left: ${s.dns_hints.total} on ${s.dns_hints.pages} pages; to site / asset / other hosts: ${s.dns_hints.by_class.site} / ${s.dns_hints.by_class.asset} / ${s.dns_hints.by_class.other}; by rel: ${sorted(s.dns_hints.by_rel).map(([k, v]) => `\`${k}\` ${v}`).join(', ')}.`);
    L.push('', 'Top off-mirror hosts (requests; pages):', '');
    L.push('| host | requests | pages |', '|---|---|---|');
    for (const [h, n] of sorted(s.off_mirror_hosts, 20)) L.push(`| ${h} | ${n} | ${s.off_mirror_host_pages[h]} |`);
    L.push('', `Off-mirror requests by initiator type: ${sorted(s.off_mirror.by_initiator).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}; by error: ${sorted(s.off_mirror.by_error).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`, '');
    if (s.below95.length) {
      L.push('Pages below 95 % of the direct load (text, loaded images; mirror/direct):', '');
      for (const b of s.below95) L.push(`- ${b.url}: text ${b.text}, images ${b.images}`);
      L.push('');
    }
    if (s.left_mirror.length) {
      L.push('Mirrored loads that ended elsewhere:', '');
      for (const b of s.left_mirror) L.push(`- ${b.url} → ${b.final_url}`);
      L.push('');
    }
    if (s.errors.length) {
      L.push('Errors:', '');
      for (const e of s.errors) L.push(`- ${e.url}: ${e.error}`);
      L.push('');
    }
  }
  return `${L.join('\n')}\n`;
}

function summarize(out, meta) {
  const dir = path.join(out, 'pages');
  const results = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  const modes = meta.modes || ['keep', 'remove'];
  const sums = Object.fromEntries(modes.map((m) => [m, summarizeMode(results, m)]));
  // Per page, the figures compare.js diffs between two runs.
  const pages = results.map((r) => ({
    id: r.id,
    url: r.url,
    modes: Object.fromEntries(Object.entries(r.modes || {}).map(([k, m]) => [k, {
      pass: m.pass,
      off_mirror: m.off_mirror ? m.off_mirror.length : null,
      counted: m.leftover ? m.leftover.counted : null,
      places: m.leftover ? Object.fromEntries(Object.entries(m.leftover.by_place).filter(([p]) => !INFO_PLACES.has(p))) : null,
      dns_hints: m.dns_hints ? m.dns_hints.length : null,
      text_ratio: m.text_ratio === undefined ? null : Number(m.text_ratio.toFixed(3)),
      image_ratio: m.image_ratio === undefined ? null : Number(m.image_ratio.toFixed(3)),
    }])),
  }));
  fs.writeFileSync(path.join(out, 'summary.json'), `${JSON.stringify({ meta, modes: sums, pages }, null, 1)}\n`);
  const md = markdown(meta, sums);
  fs.writeFileSync(path.join(out, 'summary.md'), md);
  return md;
}

module.exports = { summarize };

if (require.main === module) {
  const out = process.argv[2];
  const old = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8'));
  process.stdout.write(summarize(out, old.meta));
}
