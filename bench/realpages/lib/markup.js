// What a page's markup names: the hosts of the original page, its
// subresources by kind (for the operator's config and the origin's answers),
// and, in the HTML the mirror served, every upstream URL left and where.
'use strict';

const { Parser } = require('htmlparser2');
const tldts = require('tldts');

// An absolute or protocol-relative URL's host, also in JSON-escaped form
// (`https:\/\/host`), anywhere in a text.
const HOST_RE = /(?:https?:)?(?:\/\/|\\\/\\\/)([a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)+)(?![a-z0-9_-])/gi;

function validHost(h) {
  return h.length <= 253 && /^[a-z0-9_.-]+$/.test(h) && !h.startsWith('.') && !h.endsWith('.')
    && /\.[a-z][a-z0-9-]*[a-z0-9]$/.test(h) && knownSuffix(h);
}

// A name under a suffix of the public suffix list (not `article.bundle.js`).
function knownSuffix(h) {
  const p = tldts.parse(h);
  return p.domain !== null && (p.isIcann === true || p.isPrivate === true);
}

// Every host the page names anywhere (markup, scripts, comments, text).
function namedHosts(html) {
  const hosts = new Set();
  for (const m of html.matchAll(HOST_RE)) {
    const h = m[1].toLowerCase();
    if (validHost(h)) hosts.add(h);
  }
  return hosts;
}

function registrable(host) {
  return tldts.getDomain(host) || host;
}

function splitRel(rel) {
  return new Set((rel || '').toLowerCase().split(/\s+/).filter(Boolean));
}

function srcsetUrls(v) {
  // Candidates are "URL [descriptor]" separated by commas; a URL may hold
  // commas (it is read up to whitespace), which the split below keeps.
  const out = [];
  const re = /\s*([^\s,][^\s]*)(?:\s+[^,]*)?(?:,|$)/g;
  for (const m of v.matchAll(re)) {
    let u = m[1];
    if (u.endsWith(',')) u = u.replace(/,+$/, '');
    if (u) out.push(u);
  }
  return out;
}

function cssUrls(text) {
  const out = [];
  for (const m of text.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/gi)) out.push(m[2]);
  for (const m of text.matchAll(/@import\s+(['"])([^'"]+)\1/gi)) out.push(m[2]);
  return out;
}

const IMAGE_ATTRS = new Set(['src', 'srcset', 'data-src', 'data-srcset', 'data-original', 'data-lazy-src',
  'data-lazy-srcset', 'data-hi-res-src', 'data-fallback-src', 'poster', 'background']);
const IMAGE_EXT_RE = /\.(png|jpe?g|gif|webp|avif|svg|ico|bmp)(\?|#|$)/i;

// The original page's subresources, as an operator reading its source
// would list them: URL → kind (image, css, js, font, frame).
function subresources(html, pageUrl) {
  const found = new Map();
  let base = new URL(pageUrl);
  const add = (raw, kind) => {
    if (!raw) return;
    const v = raw.trim();
    if (!v || v.startsWith('data:') || v.startsWith('#') || /^(javascript|mailto|blob|about):/i.test(v)) return;
    let u;
    try { u = new URL(v, base); } catch { return; }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return;
    u.hash = '';
    if (!found.has(u.href)) found.set(u.href, kind);
  };
  let inStyle = false;
  const parser = new Parser({
    onopentag(name, a) {
      if (name === 'base' && a.href) {
        try { base = new URL(a.href, pageUrl); } catch { /* keep */ }
      }
      if (name === 'style') inStyle = true;
      if (a.style) for (const u of cssUrls(a.style)) add(u, IMAGE_EXT_RE.test(u) ? 'image' : 'css');
      if (name === 'img' || name === 'source' || name === 'picture' || name === 'video' || name === 'amp-img'
        || (name === 'input' && (a.type || '').toLowerCase() === 'image')) {
        for (const [k, v] of Object.entries(a)) {
          if (!IMAGE_ATTRS.has(k) && !(k.startsWith('data-') && IMAGE_EXT_RE.test(v))) continue;
          if (name === 'source' && k === 'src' && a.type && !a.type.startsWith('image/')) continue;
          if (k.endsWith('srcset')) srcsetUrls(v).forEach((u) => add(u, 'image'));
          else add(v, 'image');
        }
      } else if (name === 'script' && a.src) {
        add(a.src, 'js');
      } else if (name === 'link' && a.href) {
        const rel = splitRel(a.rel);
        const as = (a.as || '').toLowerCase();
        if (rel.has('stylesheet')) add(a.href, 'css');
        else if (rel.has('modulepreload')) add(a.href, 'js');
        else if (rel.has('preload') || rel.has('prefetch')) {
          if (as === 'script') add(a.href, 'js');
          else if (as === 'style') add(a.href, 'css');
          else if (as === 'font') add(a.href, 'font');
          else if (as === 'image') add(a.href, 'image');
        } else if (rel.has('icon') || rel.has('apple-touch-icon') || rel.has('apple-touch-icon-precomposed')
          || rel.has('mask-icon') || rel.has('image_src')) add(a.href, 'image');
        if (a.imagesrcset) srcsetUrls(a.imagesrcset).forEach((u) => add(u, 'image'));
      } else if (name === 'meta' && a.content) {
        const p = (a.property || a.name || a.itemprop || '').toLowerCase();
        if (/^(og:image(:url|:secure_url)?|twitter:image(:src)?|image|thumbnail|thumbnailurl|msapplication-tileimage)$/.test(p)) add(a.content, 'image');
      } else if ((name === 'iframe' || name === 'frame') && a.src) {
        add(a.src, 'frame');
      } else if (name === 'embed' && a.src) {
        add(a.src, 'frame');
      }
    },
    ontext(t) {
      if (inStyle) for (const u of cssUrls(t)) add(u, IMAGE_EXT_RE.test(u) ? 'image' : 'css');
    },
    onclosetag(name) {
      if (name === 'style') inStyle = false;
    },
  }, { decodeEntities: true });
  parser.write(html);
  parser.end();
  return found;
}

// Where a leftover URL sits, and whether it counts against the page.
// Counted places are markup a browser may turn into a request (now or once
// a script or the reader acts); informational ones are text a browser
// never fetches by itself (script text, text nodes, comments, namespace
// identifiers, links to sites the mirror does not serve, the mirror's own
// original-link footer).
const INFO_PLACES = new Set([
  'inline script text', 'JSON-LD', 'event handler attribute', 'text node', 'comment',
  'namespace/vocabulary identifier', 'external link (a/area/link href, form action)', 'mirror footer', 'doctype',
  'text-like attribute (alt, title, aria-*, placeholder, value)', 'inside another URL\'s query string or path', 'CSS comment',
  'CSS text outside url() and @import (selectors, content)',
  'meta content naming a site the mirror does not serve (not fetched)',
  'data-* attribute naming a site the mirror does not serve (script data, not fetched)',
]);
// `<meta property=article:publisher content=https://www.facebook.com/x>`:
// metadata about a link, which no browser fetches; like an external link,
// informational. A meta URL on a served host is counted (it must be mapped).
const META_EXTERNAL_PLACE = 'meta content naming a site the mirror does not serve (not fetched)';
// `data-*` values are read by scripts only; what a script then asks of
// another host is measured as an off-mirror request. A `data-*` URL of a
// served host is counted (the script must get the mirror URL).
const DATA_EXTERNAL_PLACE = 'data-* attribute naming a site the mirror does not serve (script data, not fetched)';
// Attributes (besides a/area href and form action) that name a page, not
// a resource: a quotation's source, share and deep-link URLs.
const LINK_ATTRS = new Set(['cite', 'longdesc', 'st_url', 'addthis:url', 'organizationurl', 'tw:counturl']);
const URL_ATTRS = new Set(['href', 'src', 'action', 'formaction', 'poster', 'background', 'cite', 'data', 'content', 'xlink:href', 'longdesc', 'manifest', 'icon']);
const TEXT_ATTRS = new Set(['alt', 'title', 'placeholder', 'value', 'label', 'summary']);
// A namespace URI (`xmlns="http://www.w3.org/2000/svg"`), also inside a
// data: URL (`xmlns='http...`, `xmlns%3D%27http...`).
const XMLNS_BEFORE = /xmlns(?::[a-z]+)?\s*(?:=|%3D)\s*(?:['"]|%22|%27)?(?:https?(?::|%3A))?$/i;
const EXTERNAL_PLACE = 'external link (a/area/link href, form action)';
// Link types a browser fetches (icons are matched by name).
const FETCHING_RELS = new Set(['stylesheet', 'preload', 'modulepreload', 'prefetch', 'prerender', 'manifest', 'dns-prefetch', 'preconnect', 'image_src']);
const QUERY_PLACE = 'inside another URL\'s query string or path';
const CSS_COMMENT_PLACE = 'CSS comment';
// `[href^="http://ads.example/"]` in a style sheet's selectors: text.
const CSS_TEXT_PLACE = 'CSS text outside url() and @import (selectors, content)';
// (`itemid`: a microdata item's global identifier, never fetched.)
const VOCAB_ATTRS = new Set(['xmlns', 'prefix', 'itemtype', 'itemid', 'profile', 'vocab', 'typeof', 'property', 'rel', 'rev', 'itemprop']);

// Where a URL found at `at` ends: at whitespace, a quote, `<`, `>`, `(`,
// `)` or a backslash.
function endOfUrl(text, at) {
  const rest = text.slice(at);
  const m = /[\s"'<>()\\]/.exec(rest);
  return m ? at + m.index : text.length;
}

// Whether `at` is inside a `url(...)` or an `@import` of CSS text (the
// places CSS fetches from); elsewhere (selectors, `content`) it is text.
function inCssUrl(text, at) {
  const open = text.toLowerCase().lastIndexOf('url(', at);
  if (open >= 0 && text.indexOf(')', open) >= at) return true;
  const imp = text.toLowerCase().lastIndexOf('@import', at);
  return imp >= 0 && text.indexOf(';', imp) >= at;
}

// The hosts of the URLs a value names at its top level: a URL inside
// another's query (`sharer.php?u=https://www.site/a`) belongs to that one.
function ownHosts(v, hosts) {
  const out = [];
  let urlEnd = -1;
  for (const m of v.matchAll(HOST_RE)) {
    if (m.index < urlEnd) continue;
    urlEnd = endOfUrl(v, m.index);
    const h = m[1].toLowerCase();
    if (hosts.has(h)) out.push(h);
  }
  return out;
}

function hostOf(raw, base) {
  try {
    const u = new URL(raw.trim(), base);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname.toLowerCase() : null;
  } catch {
    return null;
  }
}

// Scans the HTML the mirror served.
//   hosts: the hosts the original page named
//   siteHosts, assetHosts: what the mirror serves for this site (upstream
//     and aliases; asset_hosts)
//   mirrorOrigin: "https://127.0.0.1:PORT" (the base of mirror paths)
function leftovers(html, { hosts, siteHosts, assetHosts, mirrorOrigin, pageUrl }) {
  const served = new Set([...siteHosts, ...assetHosts]);
  const classOf = (h) => (siteHosts.has(h) ? 'site' : assetHosts.has(h) ? 'asset' : 'other');
  const byPlace = {};
  const detail = {};
  const byClass = {};
  const detailClass = {};
  const samples = {};
  const dnsHints = [];
  const record = (place, host, context, what) => {
    byPlace[place] = (byPlace[place] || 0) + 1;
    const c = (byClass[place] ||= { site: 0, asset: 0, other: 0 });
    c[classOf(host)]++;
    const d = (detail[place] ||= {});
    d[what] = (d[what] || 0) + 1;
    const dc = (detailClass[place] ||= {});
    const key = `${what} ${classOf(host)}`;
    dc[key] = (dc[key] || 0) + 1;
    const s = (samples[place] ||= []);
    if (s.length < 3) s.push({ host, context: context.slice(0, 200) });
  };
  // kind: 'url' (an attribute holding one URL: a match past its '?' is a
  // parameter of another URL), 'css' (matches in /* */ are comments), or
  // undefined.
  const scan = (text, place, contextOf, what, kind) => {
    const q = kind === 'url' && !/\s/.test(text.trim()) ? text.indexOf('?') : -1;
    // A root-relative value (a mirror path): a URL in it is in its path.
    const rootRelative = kind === 'url' && /^\s*\/(?!\/)/.test(text);
    let urlEnd = -1;
    for (const m of text.matchAll(HOST_RE)) {
      const nested = m.index < urlEnd;
      if (!nested) urlEnd = endOfUrl(text, m.index);
      const h = m[1].toLowerCase();
      if (!hosts.has(h)) continue;
      let p = place;
      if (XMLNS_BEFORE.test(text.slice(Math.max(0, m.index - 24), m.index))) p = 'namespace/vocabulary identifier';
      else if (INFO_PLACES.has(place)) p = place;
      else if ((q >= 0 && m.index > q) || nested || rootRelative) p = QUERY_PLACE;
      else if (kind === 'css' && !inCssUrl(text, m.index)
        && !(text.lastIndexOf('/*', m.index) > text.lastIndexOf('*/', m.index))) p = CSS_TEXT_PLACE;
      // `/https://www.site/a` (a site's own doubled URL, mapped to a mirror
      // path): a URL inside another URL's path, which it reaches.
      else if (text[m.index - 1] === '/' && /^https?:/i.test(m[0]) && !INFO_PLACES.has(place)) p = QUERY_PLACE;
      else if (kind === 'css' && text.lastIndexOf('/*', m.index) > text.lastIndexOf('*/', m.index)) p = CSS_COMMENT_PLACE;
      record(p, h, contextOf(m), what);
    }
  };
  const stack = [];
  const flags = () => stack[stack.length - 1] || {};
  const parser = new Parser({
    onopentag(name, a) {
      const up = flags();
      const f = {
        name,
        noscript: up.noscript || name === 'noscript',
        svg: up.svg || name === 'svg',
        footer: up.footer || (a.id === 'newsmirror-footer'),
        script: name === 'script' ? ((a.type || '').toLowerCase().includes('ld+json') ? 'JSON-LD' : 'script') : null,
        style: name === 'style',
      };
      stack.push(f);
      const rel = splitRel(a.rel);
      if (name === 'link' && (rel.has('dns-prefetch') || rel.has('preconnect'))) {
        const h = a.href ? hostOf(a.href, mirrorOrigin) : null;
        if (h && h !== '127.0.0.1') dnsHints.push({ rel: a.rel, href: a.href, noscript: f.noscript, class: classOf(h) });
      }
      for (const [k, v] of Object.entries(a)) {
        if (!v) continue;
        let place;
        if (f.footer) place = 'mirror footer';
        else if (k.startsWith('on')) place = 'event handler attribute';
        else if (TEXT_ATTRS.has(k) || k.startsWith('aria-')) place = 'text-like attribute (alt, title, aria-*, placeholder, value)';
        else if (name === 'link' && (rel.has('dns-prefetch') || rel.has('preconnect'))) place = 'preconnect/dns-prefetch';
        else if (k === 'xmlns' || k.startsWith('xmlns:') || VOCAB_ATTRS.has(k)) place = 'namespace/vocabulary identifier';
        else if (k === 'srcset' || k === 'imagesrcset') place = 'srcset/imagesrcset';
        else if (k.startsWith('data-')) {
          // Any other host named in the value (JSON included) makes it
          // script data about another site; a served host's URL counts.
          // A value that is one URL names its own host (a share link's
          // `?url=` of the page is inside the query: informational).
          const named = ownHosts(v, hosts);
          place = named.length && named.every((h) => !served.has(h)) ? DATA_EXTERNAL_PLACE : 'data-* attribute';
        }
        else if (LINK_ATTRS.has(k)) {
          const h = hostOf(v, pageUrl);
          place = h && served.has(h) ? 'link to a served host (a/area/link href, form action)' : EXTERNAL_PLACE;
        }
        else if (name.includes('-')) place = 'custom element attribute';
        else if (f.svg && (k === 'href' || k === 'xlink:href')) place = 'svg href/xlink:href';
        else if (((name === 'a' || name === 'area') && k === 'href') || (name === 'form' && k === 'action')
          || (name === 'link' && k === 'href' && ![...rel].some((r) => FETCHING_RELS.has(r) || r.includes('icon')))) {
          // Navigation (also <link rel=canonical|alternate|amphtml|...>,
          // which no browser fetches): to a host the mirror does not
          // serve, it is an external link, kept as `external_links` says.
          const h = hostOf(v, pageUrl);
          place = h && served.has(h) ? 'link to a served host (a/area/link href, form action)' : EXTERNAL_PLACE;
        } else if (name === 'meta' && k === 'content') {
          // The hosts named in the value (a URL, or a structured value:
          // `name=..;action-uri=https://..`, a PICS label).
          const named = ownHosts(v, hosts);
          place = named.length && named.every((h) => !served.has(h))
            && !/image|logo|thumbnail|icon/i.test(a.name || a.property || a.itemprop || '')
            ? META_EXTERNAL_PLACE : 'meta content';
        }
        else if (name === 'link' && k === 'href') place = `link[rel=${[...rel].join(' ') || '?'}] href`;
        else if (k === 'style') place = 'style attribute';
        else place = `${name}[${k}]`;
        // Inside a <noscript> (the mirror rewrites it as markup): the same
        // classes, with the counted places under one name.
        if (f.noscript && !INFO_PLACES.has(place)) place = 'noscript';
        const meta = name === 'meta' ? (a.name || a.property || a.itemprop || a['http-equiv'] || '') : '';
        const kind = k === 'style' ? 'css' : (URL_ATTRS.has(k) || (k.startsWith('data-') && /^\s*(https?:|\/)/i.test(v)) ? 'url' : undefined);
        scan(v, place, () => `<${name} ${k}="${v}">`, meta ? `meta[${meta.toLowerCase()}]` : `${name}[${k}]`, kind);
      }
    },
    ontext(t) {
      const f = flags();
      let place;
      if (f.footer) place = 'mirror footer';
      else if (f.script === 'JSON-LD') place = 'JSON-LD';
      else if (f.script) place = 'inline script text';
      else if (f.style) place = 'style element';
      // Text inside <noscript> (also escaped markup, `&lt;img src=..&gt;`,
      // which a browser shows as text) is text.
      else place = 'text node';
      const inside = stack.filter((x) => x.name === 'noscript' || x.name === 'script' || x.name === 'style').map((x) => x.name);
      scan(t, place, (m) => t.slice(Math.max(0, m.index - 60), m.index + 100), `${f.name || '#document'} text${inside.length ? ` in ${inside[0]}` : ''}`, f.style ? 'css' : undefined);
    },
    onclosetag(name) {
      // htmlparser2 closes implied elements too; pop to the matching one.
      for (let i = stack.length - 1; i >= 0; i--) {
        if (stack[i].name === name) { stack.length = i; break; }
      }
    },
    oncomment(c) {
      scan(c, 'comment', (m) => c.slice(Math.max(0, m.index - 60), m.index + 100), '<!-- -->');
    },
    onprocessinginstruction(_name, data) {
      scan(data, 'doctype', () => data, '<!doctype>');
    },
  }, { decodeEntities: true });
  parser.write(html);
  parser.end();
  let counted = 0;
  let info = 0;
  for (const [p, n] of Object.entries(byPlace)) {
    if (INFO_PLACES.has(p)) info += n;
    else counted += n;
  }
  return { counted, info, byPlace, byClass, detail, detailClass, samples, dnsHints };
}

module.exports = { namedHosts, registrable, subresources, leftovers, validHost, INFO_PLACES };
