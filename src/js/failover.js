// Failover (`[mirrors] alternates`): when this origin does not answer (a
// network error or no answer within TIMEOUT_MS), the same path is asked of
// the other origins of this mirror (ALTERNATES, made by the server from
// its configuration; never any other host), and the answer is served here
// with a banner naming the mirror that answered. Pages read are kept in
// the Cache API (at most SAVED_MAX); when no mirror answers, a saved copy
// is served, or a page listing the mirrors and the saved pages.
var SAVED = 'newsmirror-saved-v1';
var SAVED_MAX = 30;
var TIMEOUT_MS = 8000;
// After a failure this origin is not tried again for this long.
var SKIP_MS = 30000;
var downUntil = 0;
var answering = null;
// The same list may be configured on every mirror: never this origin.
ALTERNATES = ALTERNATES.filter(function (o) { return o !== self.location.origin; });

function timed(input, init) {
  var ctl = new AbortController();
  var timer = setTimeout(function () { ctl.abort(); }, TIMEOUT_MS);
  init.signal = ctl.signal;
  return fetch(input, init).finally(function () { clearTimeout(timer); });
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

// ALTERNATES, the one that answered last first.
function order() {
  if (!answering) return ALTERNATES.slice();
  return [answering].concat(ALTERNATES.filter(function (o) { return o !== answering; }));
}

// The same path and query from the first alternate that answers (below 500).
async function fromAlternates(pathAndQuery) {
  var list = order();
  for (var i = 0; i < list.length; i++) {
    try {
      var r = await timed(list[i] + pathAndQuery, { mode: 'cors', credentials: 'omit', redirect: 'follow' });
      if (r.status < 500) {
        answering = list[i];
        return { response: r, origin: list[i] };
      }
    } catch (e) {
      // next one
    }
  }
  return null;
}

// A response of ours with this body (the encoding and length were the
// network's).
function rebuilt(r, body) {
  var headers = new Headers(r.headers);
  headers.delete('content-encoding');
  headers.delete('content-length');
  return new Response(body, { status: r.status, statusText: r.statusText, headers: headers });
}

function withBanner(html, text) {
  var banner = '<div id="newsmirror-failover" role="status">' + escapeHtml(text) + '</div>';
  var m = /<body\b[^>]*>/i.exec(html);
  if (!m) return banner + html;
  var at = m.index + m[0].length;
  return html.slice(0, at) + banner + html.slice(at);
}

function isHtml(r) {
  return (r.headers.get('content-type') || '').indexOf('text/html') === 0;
}

function savedKey(request) {
  var u = new URL(request.url);
  u.hash = '';
  return u.href;
}

// Keeps a page read, the newest last, at most SAVED_MAX.
async function save(request, response) {
  if (!response.ok || !isHtml(response)) return;
  var cache = await caches.open(SAVED);
  var key = savedKey(request);
  await cache.delete(key);
  await cache.put(key, response);
  var keys = await cache.keys();
  for (var i = 0; i + SAVED_MAX < keys.length; i++) {
    await cache.delete(keys[i]);
  }
}

async function offline(request) {
  var cache = await caches.open(SAVED);
  var saved = await cache.match(savedKey(request));
  if (saved) {
    return rebuilt(saved, withBanner(await saved.text(), WORDS.saved_banner));
  }
  var url = new URL(request.url);
  var mirrors = ALTERNATES.map(function (o) {
    var href = o + url.pathname + url.search;
    return '<li><a href="' + escapeHtml(href) + '" rel="noreferrer">' + escapeHtml(o) + '</a></li>';
  }).join('') + STATIC_COPIES.map(function (s) {
    return '<li><a href="' + escapeHtml(s) + '" rel="noreferrer">' + escapeHtml(s) + '</a></li>';
  }).join('');
  var keys = (await cache.keys()).reverse();
  var pages = '';
  for (var i = 0; i < keys.length; i++) {
    var r = await cache.match(keys[i]);
    var title = r ? /<title[^>]*>([^<]*)<\/title>/i.exec(await r.text()) : null;
    var path = new URL(keys[i].url);
    pages += '<li><a href="' + escapeHtml(path.pathname + path.search) + '">' +
      (title && title[1].trim() ? title[1].trim() : escapeHtml(path.pathname)) + '</a></li>';
  }
  var html = '<!DOCTYPE html><html lang="' + WORDS.code + '" dir="' + WORDS.dir + '"><head>' +
    '<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<title>' + escapeHtml(WORDS.offline_title) + '</title></head><body>' +
    '<main class="newsmirror-mirrors" id="newsmirror-offline"><h1>' + escapeHtml(WORDS.offline_title) + '</h1>' +
    '<h2>' + escapeHtml(WORDS.try_mirrors) + '</h2><ul id="newsmirror-offline-mirrors">' + mirrors + '</ul>' +
    '<h2>' + escapeHtml(WORDS.saved_pages) + '</h2><ul id="newsmirror-offline-saved">' + pages + '</ul>' +
    '</main></body></html>';
  return new Response(html, {
    status: 503,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:",
      'Cache-Control': 'no-store',
    },
  });
}

// A navigation: here first, then the alternates, then what was saved.
async function navigate(event, own) {
  var request = event.request;
  if (Date.now() >= downUntil) {
    try {
      var r = await timed(own, {});
      event.waitUntil(save(request, r.clone()).catch(function () {}));
      return r;
    } catch (e) {
      downUntil = Date.now() + SKIP_MS;
    }
  }
  var url = new URL(request.url);
  var alt = await fromAlternates(url.pathname + url.search);
  if (!alt) return offline(request);
  if (!isHtml(alt.response)) return rebuilt(alt.response, alt.response.body);
  var html = await alt.response.text();
  var page = rebuilt(alt.response, html);
  event.waitUntil(save(request, page.clone()).catch(function () {}));
  var host = new URL(alt.origin).host;
  return rebuilt(alt.response, withBanner(html, WORDS.banner.replace('{mirror}', host)));
}

// Any other GET of this origin: here first, then the alternates.
async function resource(request) {
  if (Date.now() >= downUntil) {
    try {
      return await timed(request, {});
    } catch (e) {
      downUntil = Date.now() + SKIP_MS;
    }
  }
  var url = new URL(request.url);
  var alt = await fromAlternates(url.pathname + url.search);
  if (!alt) return Response.error();
  return rebuilt(alt.response, alt.response.body);
}
