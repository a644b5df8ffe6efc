#!/usr/bin/env node
// Before and after: `node compare.js BEFORE/summary.json AFTER/summary.json`
// prints the headline figures of two runs side by side, per mode, and the
// pages whose result changed.
'use strict';

const fs = require('fs');

const [a, b] = process.argv.slice(2).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
if (!a || !b) {
  console.error('usage: node compare.js BEFORE/summary.json AFTER/summary.json');
  process.exit(2);
}
const pct = (x) => (x === null || x === undefined ? '-' : `${(100 * x).toFixed(1)} %`);
const FIGURES = [
  ['pages passing', (s) => `${s.pass} / ${s.measured}`],
  ['pages without off-mirror requests', (s) => `${s.zero_off_mirror} / ${s.measured}`],
  ['pages without counted upstream URLs', (s) => `${s.zero_leftover} / ${s.measured}`],
  ['off-mirror requests', (s) => `${s.off_mirror.total}`],
  ['upstream URLs left, counted', (s) => `${s.leftover.counted}`],
  ['DNS hints left', (s) => `${s.dns_hints.total}`],
  ['text ratio mean / pages ≥ 95 %', (s) => `${pct(s.text_ratio.mean)} / ${s.text_ratio.ge95}`],
  ['image ratio mean / pages ≥ 95 %', (s) => `${pct(s.image_ratio.mean)} / ${s.image_ratio.ge95}`],
];
const out = [`before: ${a.meta.label} (${a.meta.date})`, `after:  ${b.meta.label} (${b.meta.date})`, ''];
for (const mode of Object.keys(a.modes).filter((m) => b.modes[m])) {
  out.push(`| ${mode} | before | after |`, '|---|---|---|');
  for (const [name, f] of FIGURES) out.push(`| ${name} | ${f(a.modes[mode])} | ${f(b.modes[mode])} |`);
  const places = new Set([...Object.keys(a.modes[mode].leftover.by_place), ...Object.keys(b.modes[mode].leftover.by_place)]);
  for (const p of [...places].sort()) {
    const x = a.modes[mode].leftover.by_place[p] || 0;
    const y = b.modes[mode].leftover.by_place[p] || 0;
    if (x !== y) out.push(`| &nbsp;&nbsp;${p} | ${x} | ${y} |`);
  }
  out.push('');
  const before = new Map((a.pages || []).map((p) => [p.id, p.modes[mode]]));
  for (const p of b.pages || []) {
    const x = before.get(p.id);
    const y = p.modes[mode];
    if (!x || !y || (x.pass === y.pass && x.off_mirror === y.off_mirror && x.counted === y.counted)) continue;
    out.push(`- ${mode} ${p.url}: ${x.pass ? 'pass' : 'fail'} → ${y.pass ? 'pass' : 'fail'}, off-mirror ${x.off_mirror} → ${y.off_mirror}, counted URLs ${x.counted} → ${y.counted}`);
  }
  out.push('');
}
process.stdout.write(`${out.join('\n')}\n`);
