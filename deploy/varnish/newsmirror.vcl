# Varnish in front of newsmirror: a stand-in for a CDN, and a real one for
# a single-server deployment. tests/varnish.rs runs it against the mirror.
#
#   varnishd -a :80 -f /etc/varnish/newsmirror.vcl -s malloc,1G \
#            -p http_gzip_support=off
#
# http_gzip_support=off: the mirror compresses (br and gzip variants, made
# once per entry) and says Vary: Accept-Encoding; Varnish keeps one object
# per normalised Accept-Encoding (br, gzip or none, see vcl_recv) instead of
# rewriting the header to gzip and gunzipping itself.
#
# What it caches: what the mirror marks cacheable, for the mirror's
# s-maxage (Varnish prefers s-maxage to max-age; the mirror sends
# `public, max-age=<cdn.max_age>, s-maxage=<cdn.s_maxage>, ...`).
# `private` and `no-store` answers are passed (builtin VCL).
#
# Purging, from localhost only (acl purgers):
#   BAN / with `Surrogate-Key: <key>`   every object whose Surrogate-Key
#                                        header lists <key>, all variants
#   PURGE <path>                         that URL, all variants
# Purge the mirror first (admin POST /purge), then Varnish: in the other
# order Varnish may fetch the mirror's old copy again.

vcl 4.1;

backend newsmirror {
    .host = "127.0.0.1";
    .port = "8080";
    .probe = {
        .url = "/_/healthz";
        .interval = 5s;
        .timeout = 2s;
        .window = 5;
        .threshold = 3;
        .initial = 3;
    }
}

acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE" || req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        if (req.method == "PURGE") {
            return (purge);
        }
        if (!req.http.Surrogate-Key || req.http.Surrogate-Key !~ "^[^\s]+$") {
            return (synth(400, "One Surrogate-Key header with one key"));
        }
        # The key as a literal inside the ban's regular expression.
        set req.http.X-Ban-Key = regsuball(req.http.Surrogate-Key,
            "([\\\^\$\.\|\?\*\+\(\)\[\]\{\}])", "\\\1");
        ban("obj.http.Surrogate-Key ~ (^|\s)" + req.http.X-Ban-Key + "(\s|$)");
        return (synth(200, "Banned"));
    }
    if (req.method != "GET" && req.method != "HEAD") {
        return (pass);
    }
    # The mirror never forwards cookies or credentials upstream and its
    # pages do not depend on them: they must not split or bypass the cache.
    unset req.http.Cookie;
    unset req.http.Authorization;
    # One variant per encoding the mirror makes: br, gzip or identity.
    if (req.http.Accept-Encoding ~ "(^|[\s,])br($|[\s,;])" && req.http.Accept-Encoding !~ "br;\s*q=0(\.0*)?($|[\s,])") {
        set req.http.Accept-Encoding = "br";
    } else if (req.http.Accept-Encoding ~ "(^|[\s,])gzip($|[\s,;])" && req.http.Accept-Encoding !~ "gzip;\s*q=0(\.0*)?($|[\s,])") {
        set req.http.Accept-Encoding = "gzip";
    } else {
        unset req.http.Accept-Encoding;
    }
    return (hash);
}

sub vcl_backend_response {
    # Builtin VCL follows: TTL from s-maxage (else max-age, Expires),
    # grace from stale-while-revalidate; private/no-store become
    # hit-for-miss objects, fetched anew for every reader.
    if (beresp.http.Cache-Control ~ "(private|no-store)") {
        set beresp.uncacheable = true;
        set beresp.ttl = 120s;
        return (deliver);
    }
}

sub vcl_deliver {
    # For readers and operators: whether this copy came from Varnish.
    if (obj.uncacheable) {
        set resp.http.X-Varnish-Cache = "PASS";
    } else if (obj.hits > 0) {
        set resp.http.X-Varnish-Cache = "HIT";
    } else {
        set resp.http.X-Varnish-Cache = "MISS";
    }
    # Surrogate keys are for purging here, not for readers.
    unset resp.http.Surrogate-Key;
}
