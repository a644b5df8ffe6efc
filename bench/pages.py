"""The benchmark pages, written to OUT_DIR: article.html (the demo article
padded with a news site's menus, link lists and footer to ~85 KB) and
small.html (~3 KB). Used by bench/load.sh and bench/ab.sh.

    python3 bench/pages.py DEMO_ARTICLE OUT_DIR
"""
import sys
src, out = sys.argv[1], sys.argv[2]
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
