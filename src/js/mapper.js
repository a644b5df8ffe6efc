// The mirror's URL mapping at run time, from the tables the server made
// from its configuration (ROUTES: [host, upstream path prefix, mount],
// longest prefix first; ASSETS: asset hosts). The server's mapper
// (src/url_map) made every URL in the markup; this maps what scripts
// build later, to the same mirror URLs.
function mirrorPath(u) {
  for (var i = 0; i < ROUTES.length; i++) {
    var r = ROUTES[i];
    if (u.hostname === r[0] && u.pathname.indexOf(r[1]) === 0) {
      return r[2] + u.pathname.slice(r[1].length) + u.search;
    }
  }
  if (ASSETS.indexOf(u.hostname) >= 0) {
    return '/_/asset/' + u.hostname + u.pathname + u.search;
  }
  return null;
}
