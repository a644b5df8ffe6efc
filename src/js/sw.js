async function forward(request, path) {
  const init = {
    method: request.method,
    headers: request.headers,
    credentials: 'same-origin',
    redirect: 'follow',
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    init.body = await request.blob();
  }
  return fetch(path, init);
}

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin === self.location.origin) {
    if (request.mode === 'navigate' && request.method === 'GET') {
      const headers = new Headers(request.headers);
      headers.set('X-Newsmirror-Worker', '1');
      const own = new Request(request, { headers });
      event.respondWith(ALTERNATES.length ? navigate(event, own) : fetch(own));
    } else if (ALTERNATES.length && request.method === 'GET' && url.pathname !== '/_/sw.js') {
      event.respondWith(resource(request));
    }
    return;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return;
  }
  const path = mirrorPath(url);
  if (path === null) {
    event.respondWith(new Response(null, { status: 204 }));
    return;
  }
  event.respondWith(forward(request, path));
});
