// The in-page half (`/_/rt.js`, the first script of every page whose
// scripts are kept): the URLs a page's scripts give the browser at run
// time (a script element's src, an image, fetch, XHR, a beacon, markup
// written with innerHTML or document.write, a style's url()) are mapped
// before the browser sees them, on the first visit already. A mirrored
// host's URL becomes its mirror URL; any other host's subresource becomes
// VOID, the mirror's empty answer, so that nothing is asked of another
// host and pages do not wait on a blocked third party. Links to other
// hosts are left as they are (the site's `external_links` decides those,
// in the markup). The mirror's Content-Security-Policy stays the
// guarantee: what this misses is refused by the browser.
var VOID = '/_/void';
var here = location.origin;

function underMount(path) {
  if (path.indexOf('/_/') === 0) return true;
  for (var i = 0; i < ROUTES.length; i++) {
    if (path.indexOf(ROUTES[i][2]) === 0) return true;
  }
  return false;
}

// The site this page belongs to (longest mount first), for root-relative
// URLs that a script builds as on the site itself.
var PAGE = null;
for (var i = 0; i < ROUTES.length; i++) {
  var m = ROUTES[i][2];
  if (location.pathname.indexOf(m) === 0 && (!PAGE || m.length > PAGE[2].length)) PAGE = ROUTES[i];
}

// `nav`: a link or a form (other hosts kept); otherwise a subresource.
function map(v, nav) {
  if (v === null || v === undefined) return v;
  var s = String(v);
  if (s.indexOf('//') < 0 && s.charAt(0) !== '/') return v;
  var u;
  try {
    u = new URL(s, document.baseURI);
  } catch (e) {
    return v;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return v;
  var p;
  if (u.origin === here) {
    if (!PAGE || underMount(u.pathname)) return v;
    p = mirrorPath(new URL(u.pathname + u.search, 'https://' + PAGE[0]));
    return p === null ? v : p + u.hash;
  }
  p = mirrorPath(u);
  if (p !== null) return p + u.hash;
  return nav ? v : VOID;
}
function res(v) {
  return map(v, false);
}
function nav(v) {
  return map(v, true);
}
function srcset(v) {
  if (v === null || v === undefined) return v;
  var s = String(v);
  if (s.indexOf('/') < 0 || /^\s*data:/i.test(s)) return v;
  return s
    .split(',')
    .map(function (c) {
      var m = /^(\s*)(\S+)([\s\S]*)$/.exec(c);
      return m ? m[1] + res(m[2]) + m[3] : c;
    })
    .join(',');
}
function css(v) {
  if (typeof v !== 'string' || v.indexOf('//') < 0) return v;
  return v.replace(/url\(\s*(["']?)([^"')]*)\1\s*\)/gi, function (all, q, u) {
    var m = res(u);
    return m === u ? all : 'url("' + m + '")';
  });
}

// An attribute's value, by attribute and element.
var FETCHING_HREF = { link: 1, use: 1, image: 1, feimage: 1 };
function attr(el, name, v) {
  var n = String(name).toLowerCase();
  var tag = el && el.localName ? el.localName.toLowerCase() : '';
  switch (n) {
    case 'src':
    case 'poster':
    case 'background':
      return res(v);
    case 'srcset':
    case 'imagesrcset':
      return srcset(v);
    case 'href':
    case 'xlink:href':
      return FETCHING_HREF[tag] ? res(v) : nav(v);
    case 'action':
    case 'formaction':
      return nav(v);
    case 'data':
      return tag === 'object' ? res(v) : v;
    case 'style':
      return css(v);
    default:
      return v;
  }
}

// Markup written by a script: the URL attributes in it. A script may
// write a tag in pieces (`document.write("<script src='" + u)`, then the
// query, then `'>`): a quoted value may run to the end of the piece.
var MARKUP =
  /(\s)(src|srcset|imagesrcset|href|xlink:href|data|poster|background|action|formaction)(\s*=\s*)(?:"([^"]*)("|$)|'([^']*)('|$)|([^\s"'>]+))/gi;
function markup(h) {
  if (typeof h !== 'string' || h.indexOf('//') < 0) return h;
  return h.replace(MARKUP, function (all, sp, name, eq, dq, dqEnd, sq, sqEnd, bare, at) {
    var v = dq !== undefined ? dq : sq !== undefined ? sq : bare;
    if (v.indexOf('//') < 0) return all;
    var lt = h.lastIndexOf('<', at);
    var t = lt < 0 ? null : /^<([a-zA-Z][^\s\/>]*)/.exec(h.slice(lt, lt + 64));
    var decoded = v.replace(/&amp;/g, '&');
    var mapped = attr({ localName: t ? t[1] : '' }, name, decoded);
    if (mapped === decoded) return all;
    var q = dq !== undefined ? '"' : sq !== undefined ? "'" : '';
    var end = dq !== undefined ? dqEnd : sq !== undefined ? sqEnd : '';
    var text = String(mapped).replace(/&/g, '&amp;');
    if (q) text = text.split(q).join(q === '"' ? '&quot;' : '&#39;');
    return sp + name + eq + q + text + end;
  });
}
// The hooks, in this window and in every same-origin frame a script
// reaches (an ad loader's about:blank iframe, whose document it writes:
// each frame has its own prototypes).
var INSTALLED = typeof Symbol === 'function' ? Symbol('newsmirror') : '__newsmirror';
function install(W) {
  if (!W || W[INSTALLED]) return;
  Object.defineProperty(W, INSTALLED, { value: true });
  function hook(C, prop, f) {
    var P = C && C.prototype;
    var d = P && Object.getOwnPropertyDescriptor(P, prop);
    if (!d || !d.set) return;
    Object.defineProperty(P, prop, {
      configurable: true,
      enumerable: d.enumerable,
      get: d.get,
      set: function (v) {
        d.set.call(this, f(v));
      },
    });
  }
  [
    ['HTMLScriptElement', 'src'],
    ['HTMLImageElement', 'src'],
    ['HTMLSourceElement', 'src'],
    ['HTMLLinkElement', 'href'],
    ['HTMLIFrameElement', 'src'],
    ['HTMLFrameElement', 'src'],
    ['HTMLMediaElement', 'src'],
    ['HTMLVideoElement', 'poster'],
    ['HTMLEmbedElement', 'src'],
    ['HTMLObjectElement', 'data'],
    ['HTMLInputElement', 'src'],
    ['HTMLTrackElement', 'src'],
  ].forEach(function (p) {
    hook(W[p[0]], p[1], res);
  });
  hook(W.HTMLImageElement, 'srcset', srcset);
  hook(W.HTMLSourceElement, 'srcset', srcset);
  hook(W.HTMLLinkElement, 'imageSrcset', srcset);
  [
    ['HTMLAnchorElement', 'href'],
    ['HTMLAreaElement', 'href'],
    ['HTMLFormElement', 'action'],
    ['HTMLButtonElement', 'formAction'],
    ['HTMLInputElement', 'formAction'],
  ].forEach(function (p) {
    hook(W[p[0]], p[1], nav);
  });
  hook(W.Element, 'innerHTML', markup);
  hook(W.Element, 'outerHTML', markup);
  hook(W.ShadowRoot, 'innerHTML', markup);
  hook(W.HTMLIFrameElement, 'srcdoc', markup);
  hook(W.CSSStyleDeclaration, 'cssText', css);

  var E = W.Element.prototype;
  var setAttribute = E.setAttribute;
  E.setAttribute = function (name, v) {
    return setAttribute.call(this, name, attr(this, name, v));
  };
  var setAttributeNS = E.setAttributeNS;
  E.setAttributeNS = function (ns, name, v) {
    return setAttributeNS.call(this, ns, name, attr(this, name, v));
  };
  var insertAdjacentHTML = E.insertAdjacentHTML;
  E.insertAdjacentHTML = function (where, h) {
    return insertAdjacentHTML.call(this, where, markup(h));
  };
  var setProperty = W.CSSStyleDeclaration && W.CSSStyleDeclaration.prototype.setProperty;
  if (setProperty) {
    W.CSSStyleDeclaration.prototype.setProperty = function (name, v, priority) {
      return setProperty.call(this, name, css(v), priority);
    };
  }
  // `el.style.backgroundImage = 'url(…)'` goes through no hookable setter
  // (Blink's style properties are named interceptors): the style attribute
  // it changes is mapped when the mutation is delivered, a microtask later,
  // before the next style recalculation would fetch the image.
  if (W.MutationObserver) {
    new W.MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        var el = records[i].target;
        var v = el.getAttribute('style');
        if (v && v.indexOf('//') >= 0) {
          var mapped = css(v);
          if (mapped !== v) setAttribute.call(el, 'style', mapped);
        }
      }
    }).observe(W.document, { attributes: true, attributeFilter: ['style'], subtree: true });
  }
  ['write', 'writeln'].forEach(function (k) {
    var write = W.Document.prototype[k];
    W.Document.prototype[k] = function () {
      return write.apply(this, Array.prototype.map.call(arguments, markup));
    };
  });
  if (W.Range) {
    var fragment = W.Range.prototype.createContextualFragment;
    W.Range.prototype.createContextualFragment = function (h) {
      return fragment.call(this, markup(h));
    };
  }

  // Requests made by scripts.
  if (W.fetch) {
    var fetch0 = W.fetch;
    W.fetch = function (input, init) {
      var u = input instanceof W.Request ? input.url : input;
      var m = res(u);
      if (m === VOID) return W.Promise.resolve(new W.Response(null, { status: 204 }));
      if (m !== u) input = input instanceof W.Request ? new W.Request(m, input) : m;
      return fetch0.call(W, input, init);
    };
  }
  if (W.XMLHttpRequest) {
    var open = W.XMLHttpRequest.prototype.open;
    W.XMLHttpRequest.prototype.open = function (method, url) {
      var a = Array.prototype.slice.call(arguments);
      a[1] = res(url);
      return open.apply(this, a);
    };
  }
  var nv = W.navigator;
  if (nv.sendBeacon) {
    var beacon = nv.sendBeacon;
    nv.sendBeacon = function (u, data) {
      var m = res(u);
      return m === VOID ? true : beacon.call(nv, m, data);
    };
  }
  function wrap(name, f) {
    var C = W[name];
    if (!C) return;
    var N = function (u, o) {
      return arguments.length > 1 ? new C(f(u), o) : new C(f(u));
    };
    N.prototype = C.prototype;
    Object.setPrototypeOf(N, C);
    W[name] = N;
  }
  wrap('EventSource', res);
  wrap('WebSocket', function (u) {
    var s = String(u);
    var h;
    try {
      h = new URL(s.replace(/^ws(s?):/i, 'http$1:'), document.baseURI);
    } catch (e) {
      return u;
    }
    if (h.origin === here) return u;
    // The mirror carries no WebSocket: this one fails on the mirror.
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + VOID;
  });
  if (W.open) {
    var open0 = W.open;
    W.open = function (u) {
      var a = Array.prototype.slice.call(arguments);
      if (a.length) a[0] = nav(u);
      return open0.apply(W, a);
    };
  }
  // A frame's window, as a script gets it: hooked before the script uses it.
  ['HTMLIFrameElement', 'HTMLFrameElement', 'HTMLObjectElement'].forEach(function (name) {
    var P = W[name] && W[name].prototype;
    ['contentWindow', 'contentDocument'].forEach(function (prop) {
      var d = P && Object.getOwnPropertyDescriptor(P, prop);
      if (!d || !d.get) return;
      Object.defineProperty(P, prop, {
        configurable: true,
        enumerable: d.enumerable,
        get: function () {
          var v = d.get.call(this);
          try {
            install(prop === 'contentWindow' ? v : v && v.defaultView);
          } catch (e) {
            // Another origin's frame: not ours to hook, and the CSP's.
          }
          return v;
        },
      });
    });
  });
}
install(window);

if (navigator.serviceWorker) {
  navigator.serviceWorker.register('/_/sw.js', { scope: '/' }).catch(function () {});
}
