#!/usr/bin/env node
// Real-page browser harness (issue 12, part 6). run.sh is the entry point;
// this does the work:
//   1. serves the corpus pages at their real host names from a local origin
//      (lib/origin.js), with a small image, empty CSS/JS or 404 for
//      everything else;
//   2. per page, derives the config an operator would write (lib/config.js),
//      runs `newsmirror check`, then one mirror process per mode;
//   3. loads the page directly (Chromium resolves every host to the origin)
//      and through the mirror (Chromium resolves nothing but 127.0.0.1),
//      and fetches the HTML the mirror served;
//   4. writes pages/<id>.json, then summary.md and summary.json (summary.js).
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const zlib = require('zlib');
const crypto = require('crypto');
const { spawn, execFile, execFileSync } = require('child_process');

const { startOrigin } = require('./lib/origin');
const { namedHosts, subresources, leftovers } = require('./lib/markup');
const { deriveSite, toml } = require('./lib/config');
const { launch, measure, makeImages } = require('./lib/browser');
const { summarize } = require('./summary');

function parseArgs(argv) {
  const o = {
    binary: null, mode: 'both', pages: Infinity, corpus: null, out: null, jobs: 3,
    timeout: 15000, settle: 2000, chromium: '/usr/bin/chromium', only: null, label: '',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--binary') o.binary = next();
    else if (a === '--mode') o.mode = next();
    else if (a === '--pages') o.pages = Number(next());
    else if (a === '--corpus') o.corpus = next();
    else if (a === '--out') o.out = next();
    else if (a === '--jobs') o.jobs = Number(next());
    else if (a === '--timeout') o.timeout = Number(next());
    else if (a === '--settle') o.settle = Number(next());
    else if (a === '--chromium') o.chromium = next();
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--label') o.label = next();
    else throw new Error(`unknown argument ${a}`);
  }
  if (!o.binary || !o.corpus || !o.out) throw new Error('--binary, --corpus and --out are required');
  if (!['keep', 'remove', 'noscript', 'both', 'all'].includes(o.mode)) {
    throw new Error('--mode is keep, remove, noscript, both (keep and remove) or all');
  }
  return o;
}

const log = (...a) => console.error('[realpages]', ...a);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// GET with Node's client (the mirror's certificate is our own, not checked).
function get(url, timeoutMs, headers = {}) {
  return new Promise((resolve) => {
    const client = url.startsWith('https:') ? https : http;
    const req = client.get(url, {
      headers: { accept: 'text/html,*/*;q=0.8', 'accept-language': 'en-US', ...headers },
      timeout: timeoutMs,
      rejectUnauthorized: false,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => resolve({ status: 0, error: String(e), body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: String(e), body: Buffer.alloc(0) }));
  });
}

function check(binary, file) {
  return new Promise((resolve) => {
    execFile(binary, ['check', '--config', file], { timeout: 20000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim().slice(0, 2000) });
    });
  });
}

async function startMirror(binary, file, port, logFile) {
  const out = fs.openSync(logFile, 'w');
  const child = spawn(binary, ['serve', '--config', file], {
    stdio: ['ignore', out, out],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => { exited = true; });
  for (let i = 0; i < 100 && !exited; i++) {
    const r = await get(`https://127.0.0.1:${port}/_/healthz`, 1000);
    if (r.status === 200) {
      return {
        child,
        stop: () => new Promise((resolve) => {
          if (exited) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 3000).unref();
        }),
      };
    }
    await new Promise((r2) => setTimeout(r2, 100));
  }
  if (!exited) child.kill('SIGKILL');
  return null;
}

function ratio(mirror, direct) {
  if (direct > 0) return mirror / direct;
  return mirror > 0 ? 1 : 1;
}

async function runPage(ctx, page) {
  const { opts, origin, browsers, signingKey, modes } = ctx;
  const site = deriveSite(page.url, page.subres, page.named);
  const u = new URL(page.url);
  const pathAndQuery = u.pathname + u.search;
  const result = {
    id: page.id,
    url: page.url,
    site: { upstream: site.upstream, aliases: site.aliases, asset_hosts: site.assetHosts, origins: site.origins.length },
    named_hosts: page.named.size,
    direct: null,
    modes: {},
  };
  result.direct = await measure(browsers.direct, page.url, { direct: true, timeoutMs: opts.timeout, settleMs: opts.settle });
  delete result.direct.offMirror;
  const siteHosts = new Set([site.host, ...site.aliases]);
  const assetHosts = new Set(site.assetHosts);
  // A page that only uses relative URLs never names its own host.
  const leftoverHosts = new Set([...page.named, ...siteHosts, ...assetHosts]);
  for (const mode of modes) {
    const port = await freePort();
    const file = path.join(opts.out, 'configs', `${page.id.slice(0, 12)}-${mode}.toml`);
    fs.writeFileSync(file, toml({ site, mode, listenPort: port, originPort: origin.port, signingKey, name: `p${page.n}`, tls: ctx.mirrorTls }));
    const r = { config: path.relative(opts.out, file) };
    result.modes[mode] = r;
    const c = await check(opts.binary, file);
    r.check = c.ok ? 'ok' : c.output;
    if (!c.ok) { r.pass = false; r.error = 'check failed'; continue; }
    const mirror = await startMirror(opts.binary, file, port, path.join(opts.out, 'logs', `${page.id.slice(0, 12)}-${mode}.log`));
    if (!mirror) { r.pass = false; r.error = 'mirror did not start'; continue; }
    try {
      const mirrorOrigin = `https://127.0.0.1:${port}`;
      const mirrorUrl = `${mirrorOrigin}${pathAndQuery}`;
      r.mirror_url = mirrorUrl;
      const html = await get(mirrorUrl, opts.timeout);
      r.status = html.status;
      r.html_bytes = html.body.length;
      fs.writeFileSync(path.join(opts.out, 'served', `${page.id.slice(0, 12)}-${mode}.html.gz`), zlib.gzipSync(html.body));
      const left = leftovers(html.body.toString('utf8'), { hosts: leftoverHosts, siteHosts, assetHosts, mirrorOrigin, pageUrl: page.url });
      r.leftover = { counted: left.counted, info: left.info, by_place: left.byPlace, by_class: left.byClass, detail: left.detail, detail_by_class: left.detailClass, samples: left.samples };
      r.dns_hints = left.dnsHints;
      const host = `127.0.0.1:${port}`;
      const m = await measure(browsers.mirror, mirrorUrl, {
        direct: false,
        timeoutMs: opts.timeout,
        settleMs: opts.settle,
        onMirror: (x) => { try { return new URL(x).host === host; } catch { return false; } },
      });
      r.off_mirror = m.offMirror;
      r.requests = m.requests;
      r.text = m.text;
      r.injected_text = m.injectedText;
      r.images = m.images;
      r.images_loaded = m.imagesLoaded;
      r.final_url = m.finalUrl;
      r.left_mirror = !String(m.finalUrl || '').startsWith(mirrorOrigin);
      r.load_ms = m.loadMs;
      r.load_error = m.loadError;
      r.text_ratio = ratio(m.text, result.direct.text);
      r.image_ratio = ratio(m.imagesLoaded, result.direct.imagesLoaded);
      r.pass = html.status === 200 && m.offMirror.length === 0 && left.counted === 0;
    } finally {
      await mirror.stop();
    }
  }
  return result;
}

async function pool(items, jobs, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(jobs, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  });
  await Promise.all(workers);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  for (const d of ['pages', 'configs', 'logs', 'served']) fs.mkdirSync(path.join(opts.out, d), { recursive: true });
  const truth = JSON.parse(fs.readFileSync(path.join(opts.corpus, 'ground-truth.json'), 'utf8'));
  let ids = Object.keys(truth).sort();
  if (opts.only) ids = ids.filter((id) => opts.only.some((p) => id.startsWith(p)));
  ids = ids.slice(0, opts.pages);
  const pages = ids.map((id, n) => {
    const html = zlib.gunzipSync(fs.readFileSync(path.join(opts.corpus, 'html', `${id}.html.gz`)));
    const text = html.toString('utf8');
    return { id, n, url: truth[id].url, html, named: namedHosts(text), subres: subresources(text, truth[id].url) };
  });
  const kinds = new Map();
  for (const p of pages) {
    for (const [url, kind] of p.subres) {
      if (kind === 'image' || kind === 'css' || kind === 'js') kinds.set(url, kind);
    }
  }
  const modes = {
    both: ['keep', 'remove'],
    all: ['keep', 'remove', 'noscript'],
  }[opts.mode] || [opts.mode];
  log(`${pages.length} pages, modes ${modes.join(', ')}, ${opts.jobs} at a time`);

  const mirrorBrowser = await launch('mirror', 0, opts.chromium);
  const images = await makeImages(mirrorBrowser);
  const origin = await startOrigin({ pages, kinds, workDir: opts.out, images });
  const directBrowser = await launch('direct', origin.port, opts.chromium);
  // The mirror speaks HTTPS, as in front of readers (pages whose scripts
  // insist on https: would otherwise leave a plain-HTTP mirror).
  const mirrorTls = { cert: path.join(opts.out, 'mirror-cert.pem'), key: path.join(opts.out, 'mirror-key.pem') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', mirrorTls.key, '-out', mirrorTls.cert, '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const ctx = {
    mirrorTls,
    opts,
    origin,
    modes,
    browsers: { direct: directBrowser, mirror: mirrorBrowser },
    signingKey: crypto.randomBytes(32).toString('hex'),
  };
  const chromiumVersion = directBrowser.version();
  let done = 0;
  try {
    await pool(pages, opts.jobs, async (page) => {
      let result;
      try {
        result = await runPage(ctx, page);
      } catch (e) {
        result = { id: page.id, url: page.url, error: String(e.stack || e) };
      }
      fs.writeFileSync(path.join(opts.out, 'pages', `${page.id}.json`), `${JSON.stringify(result, null, 1)}\n`);
      done++;
      const m = Object.entries(result.modes || {}).map(([k, v]) => `${k} ${v.pass ? 'pass' : 'FAIL'} off=${v.off_mirror?.length ?? '-'} left=${v.leftover?.counted ?? '-'}`).join(', ');
      log(`${done}/${pages.length} ${page.url.slice(0, 70)}: ${m || result.error}`);
    });
  } finally {
    await directBrowser.close();
    await mirrorBrowser.close();
    await origin.close();
  }
  const meta = {
    label: opts.label,
    binary: opts.binary,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores (${os.cpus()[0]?.model || '?'}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    chromium: chromiumVersion,
    pages: pages.length,
    modes,
    jobs: opts.jobs,
    timeout_ms: opts.timeout,
    settle_ms: opts.settle,
    seconds: Math.round((Date.now() - started) / 1000),
    origin_answers: { pages: origin.stats.pages, image: origin.stats.image, css: origin.stats.css, js: origin.stats.js, not_found: origin.stats.none },
  };
  const md = summarize(opts.out, meta);
  process.stdout.write(md);
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
