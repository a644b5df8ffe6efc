#!/usr/bin/env python3
"""Generate every image (and the tiny video and icon font) of the bundled demo site.

The outputs are committed, so this only needs to run when the pictures change:

    pip install pillow av fonttools
    python3 demo/tools/make_images.py

Each picture is a simple flat illustration (gradient sky, a few shapes) with a
caption-like label, so that a reader can tell at a glance which image the
mirror served.  Everything is drawn here: no photos, no downloads.  Lead images
are 600x400 JPEGs kept under 40 KB, thumbnails 200x133.
"""

from __future__ import annotations

import io
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

DEMO = Path(__file__).resolve().parent.parent
NEWS = DEMO / "www.demo-news.test"
IMG = DEMO / "img.demo-news.test"
WIRE = DEMO / "photos.wirefeed.test"
WEEKLY = DEMO / "www.demo-weekly.test"

MAX_LEAD_BYTES = 40 * 1024


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def gradient(size: tuple[int, int], top: tuple[int, int, int], bottom: tuple[int, int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(h):
        t = y / max(h - 1, 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
        draw.line([(0, y), (w, y)], fill=colour)
    return img


# --- scenes: each draws on a 600x400 canvas ---------------------------------


def scene_bridge(night: bool = False) -> Image.Image:
    sky = ((18, 24, 60), (60, 70, 120)) if night else ((120, 180, 230), (250, 214, 160))
    img = gradient((600, 400), *sky)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 270, 600, 400], fill=(30, 70, 110) if night else (60, 120, 170))
    for x in (150, 450):
        d.rectangle([x - 8, 120, x + 8, 300], fill=(200, 60, 50))
    d.line([(0, 250), (600, 250)], fill=(90, 90, 90), width=10)
    for x0 in (150, 450):
        for k in range(-140, 141, 20):
            d.line([(x0, 125), (x0 + k, 248)], fill=(230, 230, 230), width=1)
    if night:
        for x in range(10, 600, 40):
            d.ellipse([x - 3, 243, x + 3, 249], fill=(255, 220, 120))
    else:
        d.ellipse([480, 40, 540, 100], fill=(255, 236, 170))
    return img


def scene_school() -> Image.Image:
    img = gradient((600, 400), (150, 205, 240), (235, 245, 250))
    d = ImageDraw.Draw(img)
    d.polygon([(0, 300), (160, 150), (330, 300)], fill=(90, 140, 90))
    d.polygon([(220, 300), (420, 120), (600, 300)], fill=(70, 120, 80))
    d.rectangle([0, 300, 600, 400], fill=(120, 170, 90))
    d.rectangle([200, 230, 400, 320], fill=(240, 230, 210))
    d.polygon([(190, 232), (300, 180), (410, 232)], fill=(170, 70, 60))
    for i in range(4):
        x = 215 + i * 45
        d.polygon([(x, 228), (x + 35, 210), (x + 35, 222), (x, 240)], fill=(40, 60, 120))
    d.ellipse([60, 40, 130, 110], fill=(255, 210, 80))
    return img


def scene_solar() -> Image.Image:
    img = gradient((600, 400), (110, 170, 230), (220, 235, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 290, 600, 400], fill=(150, 160, 150))
    for row in range(3):
        for col in range(5):
            x, y = 60 + col * 100, 120 + row * 55
            d.polygon([(x, y + 40), (x + 80, y + 40), (x + 95, y), (x + 15, y)], fill=(30, 50, 110), outline=(200, 210, 230))
    return img


def scene_snow() -> Image.Image:
    img = gradient((600, 400), (170, 180, 195), (235, 238, 242))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 300, 600, 400], fill=(250, 250, 252))
    for x in range(30, 600, 90):
        d.polygon([(x, 300), (x + 30, 200), (x + 60, 300)], fill=(60, 90, 70))
        d.polygon([(x + 12, 260), (x + 30, 200), (x + 48, 260)], fill=(245, 245, 250))
    rnd = random.Random(7)
    for _ in range(220):
        x, y, r = rnd.randrange(600), rnd.randrange(400), rnd.choice((1, 2, 2, 3))
        d.ellipse([x - r, y - r, x + r, y + r], fill=(255, 255, 255))
    return img


def scene_snowplough() -> Image.Image:
    img = scene_snow()
    d = ImageDraw.Draw(img)
    d.rectangle([200, 280, 400, 340], fill=(240, 140, 20))
    d.rectangle([340, 240, 400, 290], fill=(240, 140, 20))
    d.polygon([(170, 290), (200, 280), (200, 345), (160, 345)], fill=(90, 90, 90))
    for x in (240, 370):
        d.ellipse([x - 20, 330, x + 20, 370], fill=(30, 30, 30))
    return img


def scene_street() -> Image.Image:
    img = gradient((600, 400), (250, 200, 150), (250, 240, 220))
    d = ImageDraw.Draw(img)
    d.polygon([(0, 400), (250, 250), (350, 250), (600, 400)], fill=(150, 130, 110))
    colours = [(180, 60, 50), (200, 150, 60), (70, 120, 140), (140, 90, 60)]
    for i, c in enumerate(colours):
        d.rectangle([i * 60, 120 + i * 10, i * 60 + 55, 330 - i * 15], fill=c)
        d.rectangle([600 - (i + 1) * 60, 120 + i * 10, 600 - i * 60 - 5, 330 - i * 15], fill=colours[-1 - i])
    for x in range(40, 580, 50):
        d.ellipse([x, 100, x + 16, 122], fill=(220, 40, 40))
    d.line([(0, 98), (600, 98)], fill=(60, 40, 30), width=2)
    return img


def scene_library() -> Image.Image:
    img = gradient((600, 400), (200, 225, 240), (245, 240, 225))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 310, 600, 400], fill=(130, 150, 100))
    d.rectangle([140, 200, 460, 320], fill=(60, 110, 160))
    d.rectangle([400, 230, 455, 280], fill=(200, 225, 240))
    for x in (200, 400):
        d.ellipse([x - 28, 300, x + 28, 356], fill=(35, 35, 35))
    rnd = random.Random(3)
    x = 160
    while x < 380:
        w = rnd.randrange(10, 22)
        d.rectangle([x, 215 + rnd.randrange(0, 15), x + w, 290], fill=tuple(rnd.randrange(120, 250) for _ in range(3)))
        x += w + 3
    return img


def scene_ferry() -> Image.Image:
    img = gradient((600, 400), (140, 200, 230), (230, 245, 250))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 260, 600, 400], fill=(40, 110, 150))
    d.polygon([(120, 280), (480, 280), (440, 330), (160, 330)], fill=(245, 245, 245))
    d.rectangle([200, 230, 400, 280], fill=(250, 250, 250), outline=(60, 60, 60))
    for x in range(215, 390, 30):
        d.rectangle([x, 242, x + 18, 260], fill=(60, 120, 170))
    d.line([(300, 230), (300, 190)], fill=(60, 60, 60), width=3)
    d.polygon([(302, 190), (340, 200), (302, 210)], fill=(60, 180, 90))
    for k in range(0, 600, 30):
        d.arc([k, 335, k + 30, 355], 200, 340, fill=(200, 230, 240), width=2)
    return img


def scene_dock() -> Image.Image:
    img = scene_ferry()
    d = ImageDraw.Draw(img)
    d.rectangle([0, 300, 140, 330], fill=(120, 90, 60))
    for x in range(10, 140, 30):
        d.rectangle([x, 330, x + 8, 380], fill=(90, 70, 50))
    d.rectangle([40, 250, 90, 300], fill=(60, 180, 90))
    d.line([(65, 265), (65, 285)], fill=(255, 255, 255), width=4)
    return img


def scene_concert() -> Image.Image:
    img = gradient((600, 400), (40, 20, 50), (110, 40, 60))
    d = ImageDraw.Draw(img)
    d.rectangle([0, 300, 600, 400], fill=(90, 50, 30))
    for x in (120, 300, 480):
        d.polygon([(x, 0), (x - 90, 300), (x + 90, 300)], fill=(150, 90, 90))
    rnd = random.Random(11)
    for i in range(14):
        x = 40 + i * 40
        d.ellipse([x, 240, x + 22, 262], fill=(30, 20, 20))
        d.rectangle([x + 2, 262, x + 20, 300], fill=(30, 20, 20))
        if rnd.random() < 0.5:
            d.line([(x + 20, 268), (x + 34, 246)], fill=(200, 160, 90), width=2)
    return img


# --- helpers -------------------------------------------------------------------


def label(img: Image.Image, text: str) -> Image.Image:
    """Add a caption band, like an agency photo's credit line."""
    img = img.copy()
    w, h = img.size
    band = max(18, h // 11)
    overlay = Image.new("RGBA", (w, band), (0, 0, 0, 150))
    img.paste(overlay, (0, h - band), overlay)
    d = ImageDraw.Draw(img)
    d.text((10, h - band + band // 5), text, fill=(255, 255, 255), font=font(max(10, band * 3 // 5)))
    return img


def save_jpeg(img: Image.Image, path: Path, limit: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    for quality in (85, 78, 70, 62, 55, 48, 40):
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=quality, optimize=True, progressive=False)
        if limit is None or buf.tell() <= limit:
            break
    path.write_bytes(buf.getvalue())
    print(f"{path.relative_to(DEMO)}: {img.size[0]}x{img.size[1]}, {len(buf.getvalue())} bytes")


def save_png(img: Image.Image, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG", optimize=True)
    print(f"{path.relative_to(DEMO)}: {img.size[0]}x{img.size[1]}, {path.stat().st_size} bytes")


def lead_and_thumb(scene: Image.Image, name: str, text: str) -> None:
    save_jpeg(label(scene, text), IMG / "photos/2026/11" / f"{name}_600.jpg", MAX_LEAD_BYTES)
    save_jpeg(scene.resize((200, 133), Image.LANCZOS), IMG / "thumbs/2026/11" / f"{name}_200.jpg")


def banner(size: tuple[int, int], text: str, colours: tuple[tuple[int, int, int], tuple[int, int, int]]) -> Image.Image:
    img = gradient(size, *colours)
    d = ImageDraw.Draw(img)
    d.rectangle([0, 0, size[0] - 1, size[1] - 1], outline=(255, 255, 255), width=2)
    d.text((12, size[1] // 2 - 12), text, fill=(255, 255, 255), font=font(22))
    return img


def tile(size: int, base: tuple[int, int, int], dot: tuple[int, int, int], seed: int) -> Image.Image:
    img = Image.new("RGB", (size, size), base)
    d = ImageDraw.Draw(img)
    rnd = random.Random(seed)
    for _ in range(size):
        x, y = rnd.randrange(size), rnd.randrange(size)
        d.point((x, y), fill=dot)
    return img


# --- video -----------------------------------------------------------------------


def make_video(path: Path) -> None:
    """A 2-second 320x180 H.264 clip (sun moving over solar panels)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    base = scene_solar().resize((320, 214)).crop((0, 17, 320, 197))
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=12)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"crf": "36", "preset": "veryslow"}
        for i in range(24):
            frame = base.copy()
            d = ImageDraw.Draw(frame)
            x = 20 + i * 12
            y = 40 - int(20 * math.sin(math.pi * i / 23))
            d.ellipse([x, y, x + 26, y + 26], fill=(255, 215, 80))
            for packet in stream.encode(av.VideoFrame.from_image(frame)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    print(f"{path.relative_to(DEMO)}: {path.stat().st_size} bytes")


# --- icon font -------------------------------------------------------------------


def make_icon_font(path: Path) -> None:
    """A one-glyph WOFF font: U+E001 is a small newspaper icon used in the masthead."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    def rect(pen: TTGlyphPen, x0: int, y0: int, x1: int, y1: int) -> None:
        pen.moveTo((x0, y0))
        pen.lineTo((x0, y1))
        pen.lineTo((x1, y1))
        pen.lineTo((x1, y0))
        pen.closePath()

    notdef = TTGlyphPen(None)
    rect(notdef, 100, 0, 500, 700)
    paper = TTGlyphPen(None)
    rect(paper, 60, 0, 940, 80)  # bottom edge
    rect(paper, 60, 720, 940, 800)  # top edge
    rect(paper, 60, 80, 140, 720)  # left edge
    rect(paper, 860, 80, 940, 720)  # right edge
    rect(paper, 200, 560, 800, 640)  # headline
    for y in (420, 300, 180):
        rect(paper, 200, y, 460, y + 50)
        rect(paper, 540, y, 800, y + 50)

    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder([".notdef", "newspaper"])
    fb.setupCharacterMap({0xE001: "newspaper"})
    fb.setupGlyf({".notdef": notdef.glyph(), "newspaper": paper.glyph()})
    fb.setupHorizontalMetrics({".notdef": (600, 100), "newspaper": (1000, 60)})
    fb.setupHorizontalHeader(ascent=850, descent=-150)
    fb.setupNameTable({"familyName": "Demo News Icons", "styleName": "Regular"})
    fb.setupOS2(sTypoAscender=850, sTypoDescender=-150, usWinAscent=850, usWinDescent=150)
    fb.setupPost()
    fb.font.flavor = "woff"
    path.parent.mkdir(parents=True, exist_ok=True)
    fb.save(str(path))
    print(f"{path.relative_to(DEMO)}: {path.stat().st_size} bytes")


# --- everything ------------------------------------------------------------------


def main() -> None:
    # Lead images and thumbnails, one per article.
    lead_and_thumb(scene_bridge(), "river-bridge", "Hewan river bridge opens to traffic  |  Demo News")
    lead_and_thumb(scene_school(), "mountain-school", "Solar roof on a mountain school  |  Demo News")
    lead_and_thumb(scene_snow(), "first-snow", "First snow of the winter  |  Demo News")
    lead_and_thumb(scene_street(), "old-street", "Old street market reopens  |  Demo News")
    lead_and_thumb(scene_library(), "village-library", "Mobile library in the hills  |  Demo News")
    lead_and_thumb(scene_ferry(), "electric-ferry", "Electric ferry on trial  |  Demo News")
    lead_and_thumb(scene_concert(), "winter-concert", "Winter concert season  |  Demo News")

    # Inline images: the srcset family (one name holds a comma), the 2x ferry.
    photos = IMG / "photos/2026/11"
    save_jpeg(label(scene_bridge().resize((400, 267)), "bridge, 400w"), photos / "bridge_400.jpg")
    save_jpeg(label(scene_bridge(), "bridge, 600w"), photos / "bridge_600.jpg", MAX_LEAD_BYTES)
    save_jpeg(label(scene_bridge(night=True).resize((800, 533)), "bridge at night, 800w"), photos / "bridge,night_800.jpg", MAX_LEAD_BYTES)
    save_jpeg(label(scene_solar(), "Solar panels, 600w  |  Demo News"), photos / "solar-panels_600.jpg", MAX_LEAD_BYTES)
    save_jpeg(label(scene_ferry().resize((1200, 800)), "Electric ferry (2x)  |  Demo News"), photos / "electric-ferry_1200.jpg")
    save_jpeg(label(scene_street().resize((300, 200)), "Lanterns, lazy-loaded"), photos / "lanterns_300.jpg")
    save_jpeg(scene_snow().resize((1200, 300)), IMG / "bg/2026/11/snow-banner.jpg", MAX_LEAD_BYTES)

    # The video poster and clip.
    save_jpeg(label(scene_solar().resize((320, 214)).crop((0, 17, 320, 197)), "Video: solar roof"), IMG / "video/2026/11/solar-roof_poster.jpg")
    make_video(IMG / "video/2026/11/solar-roof.mp4")

    # Stylesheet images on the asset host, and ads.
    save_png(tile(32, (250, 248, 242), (232, 226, 210), 1), IMG / "bg/paper.png")
    save_png(gradient((8, 64), (160, 30, 40), (110, 15, 25)), IMG / "bg/masthead.png")
    save_png(banner((728, 90), "AD  |  Demo Bank: open an account today", ((240, 150, 40), (200, 90, 20))), IMG / "ads/leaderboard_728x90.png")
    save_png(banner((300, 250), "AD  |  Demo Travel", ((60, 150, 200), (20, 90, 150))), IMG / "ads/box_300x250.png")

    # Images on the news host itself (relative url() in site.css, logo, favicon, pixel).
    save_png(tile(16, (238, 238, 238), (220, 220, 220), 2), NEWS / "img/pattern.png")
    logo = Image.new("RGBA", (180, 40), (0, 0, 0, 0))
    ImageDraw.Draw(logo).text((4, 6), "DEMO NEWS", fill=(255, 255, 255), font=font(26))
    save_png(logo, NEWS / "img/logo.png")
    icon = Image.new("RGB", (32, 32), (160, 30, 40))
    ImageDraw.Draw(icon).text((7, 4), "D", fill=(255, 255, 255), font=font(22))
    icon.save(NEWS / "favicon.ico", sizes=[(16, 16), (32, 32)])
    Image.new("RGBA", (1, 1), (0, 0, 0, 0)).save(NEWS / "px.gif")
    make_icon_font(NEWS / "fonts/demo-icons.woff")

    # The photo agency (not an asset host: proxied through signed /_/img/ URLs).
    save_jpeg(label(scene_snowplough(), "WireFeed Photo 20261111-001: snow clearing"), WIRE / "2026/11/wf-20261111-001.jpg", MAX_LEAD_BYTES)
    save_jpeg(label(scene_snow(), "WireFeed Photo 20261111-002: pine ridge"), WIRE / "2026/11/wf-20261111-002.jpg", MAX_LEAD_BYTES)
    save_jpeg(label(scene_dock(), "WireFeed Photo 20261110-017: ferry pier"), WIRE / "2026/11/wf-20261110-017.jpg", MAX_LEAD_BYTES)

    # The weekly's own images, referenced with relative URLs.
    save_jpeg(label(scene_dock().resize((480, 320)), "Demo Weekly  |  Week 46"), WEEKLY / "images/week46.jpg")
    save_jpeg(label(scene_concert().resize((480, 320)), "Demo Weekly  |  Week 45"), WEEKLY / "images/week45.jpg")


if __name__ == "__main__":
    main()
