// A held-out set of real pages for the harness: the pages of
// ../shared/corpora/readability/ (real articles saved by Mozilla's
// Readability tests; never used to develop the mirror's rewriter) that
// name their own URL (`<link rel=canonical>` or `og:url`), written in the
// aeb corpus's layout (ground-truth.json with each page's URL,
// html/<id>.html.gz), so that run.sh --corpus DIR measures them.
//
//   node bench/realpages/held-out.js [READABILITY_DIR] OUT_DIR
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const crypto = require('node:crypto');

const args = process.argv.slice(2);
const out = args.pop();
const src = args[0] || path.join(__dirname, '..', '..', '..', 'shared', 'corpora', 'readability');
if (!out) {
  console.error('usage: node held-out.js [READABILITY_DIR] OUT_DIR');
  process.exit(2);
}

// The page's own absolute URL, from its canonical link or og:url.
function ownUrl(html) {
  const tags = html.match(/<(?:link|meta)\b[^>]*>/gi) || [];
  for (const want of ['canonical', 'og:url']) {
    for (const tag of tags) {
      const attr = (name) => {
        const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
        return m ? (m[1] ?? m[2] ?? m[3]) : null;
      };
      const key = (attr('rel') || attr('property') || attr('name') || '').toLowerCase();
      if (key.split(/\s+/).includes(want)) {
        const v = attr(want === 'canonical' ? 'href' : 'content');
        try {
          const u = new URL(v.replace(/&amp;/g, '&'));
          if (u.protocol === 'http:' || u.protocol === 'https:') return u.href;
        } catch {
          // not absolute: try the next
        }
      }
    }
  }
  return null;
}

fs.mkdirSync(path.join(out, 'html'), { recursive: true });
const truth = {};
let skipped = 0;
for (const name of fs.readdirSync(src).sort()) {
  const file = path.join(src, name, 'source.html');
  if (!fs.existsSync(file)) continue;
  const html = fs.readFileSync(file);
  const url = ownUrl(html.toString('utf8'));
  if (!url) {
    skipped++;
    continue;
  }
  const id = crypto.createHash('sha256').update(name).digest('hex');
  fs.writeFileSync(path.join(out, 'html', `${id}.html.gz`), zlib.gzipSync(html));
  truth[id] = { url, name };
}
fs.writeFileSync(path.join(out, 'ground-truth.json'), JSON.stringify(truth, null, 1));
console.error(`${Object.keys(truth).length} pages with their own URL, ${skipped} without, in ${out}`);
