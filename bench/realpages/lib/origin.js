// The local origin: serves the corpus pages at their real host names, and a
// plausible answer for every other request (any path on any host), over
// plain HTTP and TLS on one port (the first byte decides: 0x16 is a TLS
// handshake). The mirror reaches it through [upstream.origins] (plain
// HTTP); Chromium's direct loads reach it through --host-resolver-rules
// "MAP * 127.0.0.1:PORT" (TLS for https:// URLs, certificate errors
// ignored).
'use strict';

const fs = require('fs');
const http = require('http');
const net = require('net');
const path = require('path');
const tls = require('tls');
const { Duplex } = require('stream');
const { execFileSync } = require('child_process');

// A socket's bytes as a plain stream, starting with those already read.
class Replay extends Duplex {
  constructor(socket, first) {
    super();
    this.socket = socket;
    this.push(first);
    socket.on('data', (d) => { if (!this.push(d)) socket.pause(); });
    socket.on('end', () => this.push(null));
    socket.on('close', () => this.destroy());
    socket.on('error', (e) => this.destroy(e));
  }

  _read() { this.socket.resume(); }

  _write(chunk, enc, cb) { this.socket.write(chunk, enc, cb); }

  _final(cb) { this.socket.end(); cb(); }

  _destroy(err, cb) { this.socket.destroy(); cb(err); }
}

// Small valid images: PNG, GIF and SVG here; JPEG and WebP are made by
// Chromium's canvas at start (harness.js, makeImages) and passed in.
const BASE_IMAGES = {
  png: ['image/png', Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64')],
  gif: ['image/gif', Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64')],
  svg: ['image/svg+xml', Buffer.from(
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16"><rect width="16" height="16" fill="#888"/></svg>')],
};
const IMAGE_EXT = {
  png: 'png', apng: 'png', ico: 'png', cur: 'png', bmp: 'png', avif: 'png',
  gif: 'gif', jpg: 'jpeg', jpeg: 'jpeg', jpe: 'jpeg', jfif: 'jpeg', pjpeg: 'jpeg',
  webp: 'webp', svg: 'svg',
};

function extension(pathname) {
  const last = pathname.split('/').pop() || '';
  const dot = last.lastIndexOf('.');
  return dot < 0 ? '' : last.slice(dot + 1).toLowerCase();
}

// What the origin answers for an URL that is not a page: decided by the
// URL's extension, then by where the corpus pages use that URL (an image,
// script or stylesheet place: CDNs often serve images without extension),
// then by what the requester says it wants (Sec-Fetch-Dest, Accept).
function classify(url, kinds, headers) {
  const ext = extension(url.pathname);
  if (IMAGE_EXT[ext]) return { kind: 'image', format: IMAGE_EXT[ext] };
  if (ext === 'css') return { kind: 'css' };
  if (ext === 'js' || ext === 'mjs') return { kind: 'js' };
  const key = url.href.replace(/#.*$/, '');
  const known = kinds.get(key) || kinds.get(key.replace(/^http:/, 'https:')) || kinds.get(key.replace(/^https:/, 'http:'));
  if (known === 'image') return { kind: 'image', format: 'png' };
  if (known === 'css' || known === 'js') return { kind: known };
  const dest = headers['sec-fetch-dest'] || '';
  const accept = headers.accept || '';
  if (dest === 'image' || accept.startsWith('image/')) return { kind: 'image', format: 'png' };
  if (dest === 'style' || accept.startsWith('text/css')) return { kind: 'css' };
  if (dest === 'script') return { kind: 'js' };
  return { kind: 'none' };
}

function pageKey(host, pathAndQuery) {
  return `${host.toLowerCase()}${pathAndQuery}`;
}

function makeCert(dir) {
  const key = path.join(dir, 'origin-key.pem');
  const cert = path.join(dir, 'origin-cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=realpages-origin'],
  { stdio: 'ignore' });
  return { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
}

// pages: [{url, html (Buffer)}]; kinds: Map absolute URL → image|css|js.
async function startOrigin({ pages, kinds, workDir, images }) {
  const IMAGES = { jpeg: BASE_IMAGES.png, webp: BASE_IMAGES.png, ...BASE_IMAGES, ...images };
  const byKey = new Map();
  for (const p of pages) {
    const u = new URL(p.url);
    byKey.set(pageKey(u.host, u.pathname + u.search), p);
  }
  const stats = { pages: 0, image: 0, css: 0, js: 0, none: 0, byHost: new Map() };

  const server = http.createServer((req, res) => {
    const host = (req.headers.host || '').toLowerCase();
    const scheme = req.socket.encrypted ? 'https' : 'http';
    let url;
    try {
      url = new URL(req.url, `${scheme}://${host || 'origin.invalid'}`);
    } catch {
      res.writeHead(400).end();
      return;
    }
    stats.byHost.set(url.hostname, (stats.byHost.get(url.hostname) || 0) + 1);
    const page = byKey.get(pageKey(url.host, url.pathname + url.search))
      || byKey.get(pageKey(url.hostname, url.pathname + url.search));
    if (page) {
      stats.pages++;
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-length': page.html.length,
        'cache-control': 'max-age=300',
      });
      res.end(req.method === 'HEAD' ? undefined : page.html);
      return;
    }
    const c = classify(url, kinds, req.headers);
    stats[c.kind]++;
    let type;
    let body;
    let status = 200;
    if (c.kind === 'image') [type, body] = IMAGES[c.format];
    else if (c.kind === 'css') [type, body] = ['text/css; charset=utf-8', Buffer.alloc(0)];
    else if (c.kind === 'js') [type, body] = ['text/javascript; charset=utf-8', Buffer.alloc(0)];
    else [status, type, body] = [404, 'text/plain; charset=utf-8', Buffer.from('not found\n')];
    res.writeHead(status, { 'content-type': type, 'content-length': body.length, 'cache-control': 'max-age=300' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 5000;

  const secureContext = tls.createSecureContext(makeCert(workDir));
  const front = net.createServer((socket) => {
    socket.once('error', () => socket.destroy());
    socket.once('data', (first) => {
      socket.pause();
      if (first[0] === 0x16) {
        // A TLSSocket over a net.Socket reads its handle directly and
        // would miss the bytes read here: give it a stream instead.
        const t = new tls.TLSSocket(new Replay(socket, first), { isServer: true, secureContext });
        t.once('error', () => t.destroy());
        server.emit('connection', t);
      } else {
        socket.unshift(first);
        server.emit('connection', socket);
        socket.resume();
      }
    });
  });
  await new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(0, '127.0.0.1', resolve);
  });
  return {
    port: front.address().port,
    stats,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      front.close(() => resolve());
      setTimeout(resolve, 1000).unref();
    }),
  };
}

module.exports = { startOrigin, classify, BASE_IMAGES };
