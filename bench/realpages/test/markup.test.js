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

test('the origin answers by extension, then by where the pages use a URL, then by what is asked', () => {
  const kinds = new Map([['https://img.example.com/photo', 'image']]);
  assert.strictEqual(classify(new URL('https://a.example.com/x.JPG?w=1'), kinds, {}).format, 'jpeg');
  assert.strictEqual(classify(new URL('https://a.example.com/s.css'), kinds, {}).kind, 'css');
  assert.strictEqual(classify(new URL('https://img.example.com/photo#f'), kinds, {}).kind, 'image');
  assert.strictEqual(classify(new URL('http://img.example.com/photo'), kinds, {}).kind, 'image');
  assert.strictEqual(classify(new URL('https://a.example.com/p'), kinds, { 'sec-fetch-dest': 'image' }).kind, 'image');
  assert.strictEqual(classify(new URL('https://a.example.com/api'), kinds, { accept: '*/*' }).kind, 'none');
});
