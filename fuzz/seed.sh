#!/usr/bin/env bash
# Builds the seed corpora under fuzz/corpus/<target>/ from the demo site
# (demo/) and the URL forms the unit tests use. Idempotent; the fuzzers add
# their own finds next to the seeds. Every input starts with the target's
# control bytes (see fuzz/src/checks.rs), then the payload.
set -euo pipefail
cd "$(dirname "$0")"
demo=../demo
corpus=corpus
mkdir -p "$corpus"/{url_map,srcset,css,charset,escape,pipeline}

# The demo's hosts, renamed to the fuzz configuration's (checks::CONFIG).
rename() {
  sed -e 's/www\.demo-news\.test/www.u.test/g' -e 's/img\.demo-news\.test/img.u.test/g' \
      -e 's/m\.demo-news\.test/m.u.test/g' -e 's/demo-news\.test/u.test/g' \
      -e 's/www\.demo-weekly\.test/www.v.test/g' -e 's/photos\.wirefeed\.test/cdn.other.test/g'
}

# seed TARGET NAME CONTROL-BYTES(printf format) < payload
seed() {
  { printf "$3"; cat; } > "$corpus/$1/$2"
}

n=0
for f in $(find "$demo" -name '*.html' | sort); do
  n=$((n + 1))
  rename < "$f" | seed pipeline "demo-$n" '\000\061\000'       # HTML, page 0, chunks ≤ 3
  rename < "$f" | seed pipeline "demo-$n-big" '\000\007\011'   # HTML, chunks ≤ 4096
  rename < "$f" | seed charset "demo-$n" '\000\064\007'        # HTML, no charset
  # Every URL place's value, for the mapper, srcset and escaping.
  grep -o -E '(href|src|srcset|data-src|data-srcset|poster|action|content)="[^"]*"' "$f" \
    | rename | sed -E 's/^[a-z-]+="(.*)"$/\1/' | sort -u | head -40 \
    | while IFS= read -r v; do
        h=$(printf '%s' "$v" | cksum | cut -d' ' -f1)
        printf '%s' "$v" | seed url_map "demo-$h" '\000'
        printf '%s' "$v" | seed url_map "demo-$h-img" '\005'
        printf '%s' "$v" | seed escape "demo-$h" ''
        case "$v" in *,*|*" "[0-9]*[wx]*) printf '%s' "$v" | seed srcset "demo-$h" '\000' ;; esac
      done
done
n=0
for f in $(find "$demo" -name '*.css' | sort); do
  n=$((n + 1))
  rename < "$f" | seed css "demo-$n" '\000\003\001'
  rename < "$f" | seed css "demo-$n-tagged" '\004\005\002'
  rename < "$f" | seed pipeline "css-$n" '\001\002\003'
  rename < "$f" | seed charset "css-$n" '\001\001\001'
done

# The URL forms of src/url_map/tests.rs, and mirror paths for the router.
i=0
while IFS= read -r line; do
  i=$((i + 1))
  printf '%b' "$line" | seed url_map "form-$i" '\000'
done <<'URLS'
https://www.u.test/a/b.htm
//www.u.test/a/b.htm
/a/b.htm
../../c.htm
?page=2
https://www.u.test/s?q=a&page=2#top
https://u.test/a
https://www.v.test/p.htm
https://www.w.test/news/2024/a.htm
https://img.u.test/p/x.jpg?w=1
https://cdn.other.test/x.jpg
javascript:alert(1)
data:image/png;base64,iVBORw0KGgo=
  /a/b.htm\n
https://www.u.test//two/slashes
x\n\n/m/a/b.htm?x=1&y=2
x\n\n/_/asset/img.u.test/p/x.jpg?w=1
x\n\n/w/2024/a.htm\nw.mirror.test
x\n\n/a/%2e%2e/b
x\nhttps://www.u.test/x/y/\n/v/p
URLS
printf '\005%s' 'https://cdn.other.test/x.jpg' > "$corpus/url_map/form-img"

printf '\000%s' 'a.jpg 480w, b.jpg 800w' > "$corpus/srcset/form-1"
printf '\000%s' 'https://img.u.test/a,b_800.jpg 800w, https://img.u.test/c,d.jpg 2x' > "$corpus/srcset/form-2"
printf '\004%s' '/img/w_400,h_300/x.jpg 400w,/img/w_800,h_600/x.jpg 800w' > "$corpus/srcset/form-3"

printf '\004\002\001%s' '@import "a.css";/* c */ .x{background:url( '"'"'i/b g.png'"'"' ) no-repeat} .y{b:image-set("1.png" 1x,'"'"'2.png'"'"' 2x)} .w{b:URL(  x  )}\75rl(n)' > "$corpus/css/form-1"
printf '\000\001\001%s' '.标题::before{content:"新闻"} .x{b:url(图片.png)}' > "$corpus/css/form-2"

printf '%s' '/s?q=a&amp;page=2 &#47;a&#x2F;b a&quot;b&lt; &#128; &not=2 &#;' > "$corpus/escape/form-1"

printf '\000\000\000%s' '<meta charset="gb2312"><title>x</title>' > "$corpus/charset/meta"
printf '\000\000\000%s' '<meta http-equiv="Content-Type" content="text/html; charset=iso-2022-jp">' > "$corpus/charset/meta-jis"
printf '\001\002\000%s' '@charset "gbk";.a{}' > "$corpus/charset/css-rule"
printf '\000\000\000\357\273\277%s' '<p>bom</p>' > "$corpus/charset/bom"
echo "seeded: $(find "$corpus" -type f | wc -l) files"
