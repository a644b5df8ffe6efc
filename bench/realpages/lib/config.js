// The mirror configuration an operator would write for one page's site
// (README, "Setting up a mirror of a real site"), pointed at the local origin.
'use strict';

const { registrable, validHost } = require('./markup');

// Each mode: the site's `remove` list and its `javascript` key.
const MODES = {
  keep: { remove: [], javascript: 'keep' },
  remove: { remove: ['script', 'iframe'], javascript: 'keep' },
  noscript: { remove: [], javascript: 'remove' },
};

// The rule (docs/real-pages.md):
//   upstream     scheme + host of the page's URL, mount "/"
//   aliases      the www/bare counterpart of the page's host
//   asset_hosts  hosts of the page's subresources (img/source/srcset/lazy
//                data-* attributes, icons, og:image, script src, stylesheets,
//                preloads, style url()) that share the page's registrable
//                domain (the site's own CDNs), plus every host of a script,
//                stylesheet or font (which proxy_all_images cannot carry);
//                images of other hosts go through proxy_all_images
//   origins      every host the page names anywhere → the local origin
function deriveSite(pageUrl, subres, named) {
  const u = new URL(pageUrl);
  const host = u.hostname.toLowerCase();
  const domain = registrable(host);
  const aliases = [];
  if (host === domain) aliases.push(`www.${domain}`);
  else if (host === `www.${domain}`) aliases.push(domain);
  const own = new Set([host, ...aliases]);
  const assets = new Set();
  for (const [url, kind] of subres) {
    let h;
    try { h = new URL(url).hostname.toLowerCase(); } catch { continue; }
    if (own.has(h) || !validHost(h) || kind === 'frame') continue;
    if (registrable(h) === domain || kind === 'js' || kind === 'css' || kind === 'font') assets.add(h);
  }
  const origins = new Set([...named, ...own, ...assets].filter(validHost));
  return {
    upstream: `${u.protocol}//${u.host}`,
    host,
    aliases: aliases.filter(validHost),
    assetHosts: [...assets].sort(),
    origins: [...origins].sort(),
  };
}

const q = (s) => JSON.stringify(s);

function toml({ site, mode, listenPort, originPort, signingKey, name, tls }) {
  const lines = [
    '# Made by bench/realpages (lib/config.js) for one corpus page.',
    '[server]',
    `listen = "127.0.0.1:${listenPort}"`,
    `signing_key = ${q(signingKey)}`,
    '',
    '[tls]',
    `cert = ${q(tls.cert)}`,
    `key = ${q(tls.key)}`,
    '',
    '[cache]',
    'max_bytes = "64MiB"',
    '',
    '[upstream]',
    'connect_timeout = "2s"',
    'header_timeout = "10s"',
    '',
    '[upstream.origins]',
    ...site.origins.map((h) => `${q(h)} = "http://127.0.0.1:${originPort}"`),
    '',
    '[[site]]',
    `name = ${q(name)}`,
    `upstream = ${q(site.upstream)}`,
    `aliases = [${site.aliases.map(q).join(', ')}]`,
    'mount = "/"',
    `asset_hosts = [${site.assetHosts.map(q).join(', ')}]`,
    'proxy_all_images = true',
    `remove = [${MODES[mode].remove.map(q).join(', ')}]`,
    `javascript = ${q(MODES[mode].javascript)}`,
    '',
  ];
  return lines.join('\n');
}

module.exports = { deriveSite, toml, MODES };
