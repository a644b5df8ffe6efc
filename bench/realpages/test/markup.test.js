// The harness's own checks (no browser, no mirror): `npm test` in bench/realpages/.
'use strict';

const test = require('node:test');
const assert = require('node:assert');
const { namedHosts, subresources, leftovers } = require('../lib/markup');
const { deriveSite } = require('../lib/config');
const { classify } = require('../lib/origin');

const PAGE = 'https://www.news.example.com/a/story.html';

test('named hosts are found in markup, scripts and JSON-escaped URLs, and only under known suffixes', () => {
  const hosts = namedHosts('<img src="//img.news.example.com/x.jpg"><script>u="https:\\/\\/cdn.other.org\\/a.js";'
    + 'x="js//article.bundle.js"</script><a href="https://www.news.example.com/b">');
  assert.deepStrictEqual([...hosts].sort(), ['cdn.other.org', 'img.news.example.com', 'www.news.example.com']);
});

test('asset hosts: own registrable domain for any subresource, any host for scripts and stylesheets', () => {
  const html = '<img src="https://img.news.example.com/a.jpg"><img src="https://wire.photos.net/b.jpg">'
    + '<script src="https://cdn.jsdelivr.net/x.js"></script><link rel=stylesheet href="//fonts.example.org/c.css">'
    + '<iframe src="https://video.example.net/e"></iframe><a href="https://news.example.com/">home</a>';
  const site = deriveSite(PAGE, subresources(html, PAGE), namedHosts(html));
  assert.strictEqual(site.upstream, 'https://www.news.example.com');
  assert.deepStrictEqual(site.aliases, []); // only www.X and X are each other's alias
  assert.deepStrictEqual(site.assetHosts, ['cdn.jsdelivr.net', 'fonts.example.org', 'img.news.example.com']);
  assert.ok(site.origins.includes('wire.photos.net') && site.origins.includes('video.example.net'));
});

test('leftovers are sorted by place, and informational places do not count', () => {
  const hosts = new Set(['www.news.example.com', 'img.news.example.com', 'cdn.x.org', 'twitter.com', 'www.w3.org']);
  const html = `<html><head><link rel="dns-prefetch" href="//img.news.example.com">
    <script>var a = "https://cdn.x.org/t.js";</script></head><body>
    <noscript><img src="https://img.news.example.com/n.jpg"></noscript>
    <img data-lazy-srcset="https://img.news.example.com/l.jpg 2x" src="/_/asset/img.news.example.com/l.jpg">
    <svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="https://www.news.example.com/s.svg#i"></use></svg>
    <lazy-image src="https://cdn.x.org/i.jpg"></lazy-image>
    <a href="https://twitter.com/share?u=https://www.news.example.com/a">t</a>
    <footer id="newsmirror-footer"><a href="https://www.news.example.com/a">https://www.news.example.com/a</a></footer>
    </body></html>`;
  const r = leftovers(html, {
    hosts,
    siteHosts: new Set(['www.news.example.com']),
    assetHosts: new Set(['img.news.example.com']),
    mirrorOrigin: 'https://127.0.0.1:1',
    pageUrl: 'https://www.news.example.com/a',
  });
  assert.deepStrictEqual(r.byPlace, {
    'preconnect/dns-prefetch': 1,
    'inline script text': 1,
    noscript: 1,
    'data-* attribute': 1,
    'namespace/vocabulary identifier': 1,
    'svg href/xlink:href': 1,
    'custom element attribute': 1,
    'external link (a/area/link href, form action)': 2,
    'mirror footer': 2,
  });
  assert.strictEqual(r.counted, 5);
  assert.strictEqual(r.dnsHints.length, 1);
  assert.strictEqual(r.dnsHints[0].class, 'asset');
});

test('other sites named in script data, metadata and quotations are links out; served hosts there count', () => {
  const hosts = new Set(['www.news.example.com', 'www.facebook.com', 'www.icra.org', 'twitter.com']);
  // (and a URL inside another's path or query, text in a noscript)
  const html = `<html><head>
    <meta name="pics-label" content='(pics-1.1 "http://www.icra.org/r.html" l gen true)'>
    <meta name="msapplication-task" content="name=Feed;action-uri=https://www.news.example.com/feed/">
    </head><body>
    <a data-payload='{"url":"https://www.facebook.com/x"}'>f</a>
    <span data-id="1 https://www.news.example.com/?p=1"></span>
    <blockquote cite="https://twitter.com/x/status/1">q</blockquote>
    <noscript><a href="https://twitter.com/x">t</a><img src="https://www.news.example.com/n.jpg">
    &lt;img src="//www.facebook.com/tr?id=1"&gt;</noscript>
    <a data-link="https://twitter.com/share?url=https://www.news.example.com/a">s</a>
    <nav data-contexturl="/https://www.news.example.com/a"></nav>
    </body></html>`;
  const r = leftovers(html, {
    hosts,
    siteHosts: new Set(['www.news.example.com']),
    assetHosts: new Set(),
    mirrorOrigin: 'https://127.0.0.1:1',
    pageUrl: 'https://www.news.example.com/a',
  });
  assert.deepStrictEqual(r.byPlace, {
    'meta content naming a site the mirror does not serve (not fetched)': 1,
    'meta content': 1,
    'data-* attribute naming a site the mirror does not serve (script data, not fetched)': 3,
    'data-* attribute': 1,
    'external link (a/area/link href, form action)': 2,
    noscript: 1,
    'text node': 1,
    "inside another URL's query string or path": 1,
  });
  assert.strictEqual(r.counted, 3);
});

test('a URL inside another URL, CSS selectors and identifiers are not places of their own', () => {
  const hosts = new Set(['www.site.example', 'www.facebook.com', 'ads.example.net', 'static.site.example']);
  const html = `<html><head><style>[href^="http://ads.example.net/x"] { display: none }
    .a { background: url(https://static.site.example/bg.png) }</style></head><body>
    <button data-evento="share('http://www.facebook.com/sharer.php?u=http://www.site.example/1')">s</button>
    <a href="/blog/%E2%80%8Bhttps://www.site.example/blog/x">b</a>
    <figure itemid="https://static.site.example/i.jpg"></figure>
    <img longdesc="http://ads.example.net/d.jpg" src="/x.jpg">
    </body></html>`;
  const r = leftovers(html, {
    hosts,
    siteHosts: new Set(['www.site.example']),
    assetHosts: new Set(),
    mirrorOrigin: 'https://127.0.0.1:1',
    pageUrl: 'https://www.site.example/a',
  });
  assert.deepStrictEqual(r.byPlace, {
    'CSS text outside url() and @import (selectors, content)': 1,
    'style element': 1,
    'data-* attribute naming a site the mirror does not serve (script data, not fetched)': 2,
    "inside another URL's query string or path": 1,
    'namespace/vocabulary identifier': 1,
    'external link (a/area/link href, form action)': 1,
  });
  assert.strictEqual(r.counted, 1); // the url() of a host the mirror does not serve
});

test('the origin answers by extension, then by where the pages use a URL, then by what is asked', () => {
  const kinds = new Map([['https://img.example.com/photo', 'image']]);
  assert.strictEqual(classify(new URL('https://a.example.com/x.JPG?w=1'), kinds, {}).format, 'jpeg');
  assert.strictEqual(classify(new URL('https://a.example.com/s.css'), kinds, {}).kind, 'css');
  assert.strictEqual(classify(new URL('https://img.example.com/photo#f'), kinds, {}).kind, 'image');
  assert.strictEqual(classify(new URL('http://img.example.com/photo'), kinds, {}).kind, 'image');
  assert.strictEqual(classify(new URL('https://a.example.com/p'), kinds, { 'sec-fetch-dest': 'image' }).kind, 'image');
  assert.strictEqual(classify(new URL('https://a.example.com/api'), kinds, { accept: '*/*' }).kind, 'none');
});
