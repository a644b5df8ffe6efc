"""The benchmark pages, written to OUT_DIR: article.html (the demo article
padded with a news site's menus, link lists and footer to ~85 KB) and
small.html (~3 KB); with a corpus directory (../shared/corpora/aeb), also
real-1.html .. real-3.html: the real news pages at the 25th, 50th and 75th
percentile of size (their URLs left as they are: the mirror serves them as
pages of its site, rewriting whatever is mapped). Used by bench/load.sh and
bench/ab.sh.

    python3 bench/pages.py DEMO_ARTICLE OUT_DIR [CORPUS_DIR]
"""
import gzip
import os
import sys
src, out = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3 and os.path.isdir(os.path.join(sys.argv[3], "html")):
    d = os.path.join(sys.argv[3], "html")
    pages = sorted(
        (len(gzip.open(os.path.join(d, n)).read()), n) for n in os.listdir(d) if n.endswith(".html.gz")
    )
    for i, q in enumerate((0.25, 0.5, 0.75), 1):
        _, name = pages[int(q * (len(pages) - 1))]
        data = gzip.open(os.path.join(d, name)).read()
        open(f"{out}/real-{i}.html", "wb").write(data)
        print(f"real-{i}.html: {name} ({len(data)} bytes)", file=sys.stderr)
page = open(src, encoding="utf-8").read().replace("demo-news.test", "bench-news.test")
# A news site's usual menus, link lists and footer: URLs to rewrite everywhere.
block = "".join(
    f'<li><a href="https://www.bench-news.test/news/2026/11/story-{i}.html">Story {i} headline about the city</a>'
    f' <img src="https://img.bench-news.test/thumbs/2026/11/story-{i}_200.jpg" alt="thumb {i}"></li>\n'
    for i in range(40)
)
pad = ""
while len(page) + len(pad) < 85_000:
    pad += f'<nav class="menu"><ul>\n{block}</ul></nav>\n'
full = page.replace("</body>", pad + "</body>")
open(f"{out}/article.html", "w", encoding="utf-8").write(full)
small = ('<!doctype html><html><head><meta charset="utf-8"><title>Brief</title>'
         '<link rel="stylesheet" href="https://www.bench-news.test/css/site.css"></head><body><h1>Brief</h1>'
         + "".join(f'<p>Item {i}: <a href="https://www.bench-news.test/news/{i}.html">more</a></p>' for i in range(30))
         + "</body></html>")
while len(small) < 3000:
    small = small.replace("</body>", "<p>filler text for the brief page</p></body>")
open(f"{out}/small.html", "w", encoding="utf-8").write(small)
