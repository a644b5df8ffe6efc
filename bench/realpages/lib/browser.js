// Headless Chromium (Debian's, driven by playwright-core over CDP): one
// browser for direct loads, whose resolver sends every host to the local
// origin, and one for mirrored loads, whose resolver knows nothing but
// 127.0.0.1.
'use strict';

const { chromium } = require('playwright-core');

const COMMON_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--webrtc-ip-handling-policy=disable_non_proxied_udp',
  '--force-webrtc-ip-handling-policy',
];

async function launch(kind, originPort, executablePath) {
  const rules = kind === 'direct'
    ? `MAP * 127.0.0.1:${originPort}`
    : 'MAP * ~NOTFOUND, EXCLUDE 127.0.0.1';
  // playwright-core gives each launch a new temporary --user-data-dir.
  return chromium.launch({
    executablePath,
    headless: true,
    chromiumSandbox: false,
    args: [...COMMON_ARGS, `--host-resolver-rules=${rules}`],
  });
}

const TYPE = {
  script: 'script', font: 'font', xhr: 'xhr', fetch: 'xhr', eventsource: 'xhr', websocket: 'xhr',
  image: 'image', media: 'image', stylesheet: 'stylesheet', document: 'frame',
};

function initiatorText(init) {
  if (!init) return 'unknown';
  const frame = init.stack?.callFrames?.[0];
  if (frame) return `${init.type} ${frame.url || '(inline)'}:${frame.lineNumber + 1}`;
  if (init.url) return `${init.type} ${init.url}${init.lineNumber !== undefined ? `:${init.lineNumber + 1}` : ''}`;
  return init.type;
}

// Loads url in a new context and measures it. onMirror(url) says whether a
// request stays on the mirror (mirrored loads); direct loads count requests only.
async function measure(browser, url, { direct, timeoutMs, settleMs, onMirror }) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, // the origin's and the mirror's certificates are our own
    viewport: { width: 1280, height: 1024 },
    serviceWorkers: 'block',
    acceptDownloads: false,
  });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const initiators = new Map();
  cdp.on('Network.requestWillBeSent', (e) => {
    if (!initiators.has(e.request.url)) initiators.set(e.request.url, initiatorText(e.initiator));
  });
  await cdp.send('Network.enable');
  const requests = [];
  const failures = new Map();
  context.on('request', (r) => requests.push(r));
  context.on('requestfailed', (r) => failures.set(r, r.failure()?.errorText || 'failed'));
  const sockets = [];
  page.on('websocket', (ws) => sockets.push(ws.url()));
  let loadError = null;
  const t0 = Date.now();
  try {
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
  } catch (e) {
    loadError = String(e.message || e).split('\n')[0];
  }
  const loadMs = Date.now() - t0;
  await page.waitForTimeout(settleMs);
  let dom = { text: 0, injectedText: 0, images: 0, imagesLoaded: 0 };
  try {
    dom = await page.evaluate(() => {
      const injected = ['newsmirror-nav', 'newsmirror-footer']
        .map((id) => document.getElementById(id))
        .reduce((n, el) => n + (el ? el.innerText.length : 0), 0);
      const imgs = [...document.images];
      return {
        text: document.body ? document.body.innerText.length - injected : 0,
        injectedText: injected,
        images: imgs.length,
        imagesLoaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
        finalUrl: location.href,
      };
    });
  } catch (e) {
    loadError = loadError || `evaluate: ${String(e.message || e).split('\n')[0]}`;
  }
  const offMirror = [];
  let total = 0;
  for (const r of requests) {
    const u = r.url();
    if (!/^(https?|wss?):/.test(u)) continue;
    total++;
    if (direct || onMirror(u)) continue;
    const frame = r.frame();
    offMirror.push({
      url: u.length > 300 ? `${u.slice(0, 300)}…` : u,
      host: new URL(u).host,
      type: TYPE[r.resourceType()] || 'other',
      resourceType: r.resourceType(),
      initiator: initiators.get(u) || (frame && frame !== page.mainFrame() ? `frame ${frame.url()}` : 'unknown'),
      failure: failures.get(r) || null,
    });
  }
  for (const u of sockets) {
    if (!direct && !onMirror(u)) offMirror.push({ url: u, host: new URL(u).host, type: 'xhr', resourceType: 'websocket', initiator: 'script', failure: null });
  }
  await context.close();
  return { ...dom, loadMs, loadError, requests: total, offMirror };
}

// Makes JPEG and WebP bytes with the browser's own encoders.
async function makeImages(browser) {
  const page = await browser.newPage();
  const urls = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 8;
    c.height = 8;
    const g = c.getContext('2d');
    g.fillStyle = '#888';
    g.fillRect(0, 0, 8, 8);
    return { jpeg: c.toDataURL('image/jpeg', 0.8), webp: c.toDataURL('image/webp', 0.8), png: c.toDataURL('image/png') };
  });
  await page.close();
  const out = {};
  for (const [k, v] of Object.entries(urls)) {
    const [head, b64] = v.split(',');
    out[k] = [head.slice(5, head.indexOf(';')), Buffer.from(b64, 'base64')];
  }
  return out;
}

module.exports = { launch, measure, makeImages };
