#!/usr/bin/env python3
"""make_sync_corpus.py: a ~300 MB channel and a realistic update of it, for bench/sync.sh.

    make_sync_corpus.py --out DIR [--seed 1] [--scale 1.0]

Writes three versions of one channel folder (channel id "bench-sync"), each a folder named
bench-sync so that each publishes as the next version of the same channel:

    DIR/old/bench-sync     the channel as first published
    DIR/moves/bench-sync   old, with 5 files renamed and 5 moved to another folder (bytes unchanged)
    DIR/new/bench-sync     moves, then: ~3% of the HTML pages edited in place (a sentence changed or
                           a paragraph inserted), one video re-cut (`ffmpeg -ss 5 -c copy`: its
                           first seconds trimmed, the rest of the stream copied), 19 pages and a PDF
                           added, 20 files deleted
    DIR/update.json        what changed, file by file, with sizes
    DIR/summary.txt        the sizes of the corpus and of each part of the update (also printed)

The old tree, at --scale 1: outpost.toml; en/, fr/ and ar/ (Arabic pages dir="rtl"), each with
assets/style.css and 10 units of lesson pages (1,500 HTML pages of 5-40 KB of prose drawn from
word lists, linking to each other, to their images, PDFs and videos), units/images (100 PNGs
made here, 50 JPEGs made with ffmpeg, 50-500 KB), units/documents (40 PDFs of 0.5-3 MB: pages of
text, Flate-compressed in most of them, and embedded noise images, valid xref) and media/ (5
videos, ~160 MB together, 20-60 MB each, 640x360 25 fps made with ffmpeg from testsrc2 + noise
or mandelbrot, with a sine tone; libx264 -preset ultrafast, a keyframe every 2 s, AAC, moov at
the front). About 300 MB in all. --scale shrinks the counts and sizes (for trying the script).

The moves and new trees are copies (cp -a: unchanged files keep their modification times, as
they would on a publisher's disk, so rsync's quick check skips them); changed and added files
are written afresh. Everything Python makes is drawn from random.Random(seed); ffmpeg is run
with fixed seeds and bit-exact flags, and x264 with sliced threads (frame threads make its rate
control depend on timing), so the same ffmpeg build gives the same bytes.

Needs python3 (standard library; it borrows word lists and the PNG writer from make_corpus.py)
and ffmpeg (libx264, aac, lavfi).
"""

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_corpus import WORDS, css_text, esc, href, png_bytes, toml_str  # noqa: E402

MB = 1_000_000
CHANNEL = "bench-sync"
LANGS = ("en", "fr", "ar")
UNITS_PER_LANG = 10
UNIT_DIR = {"en": "unit-{:02d}", "fr": "unité-{:02d}", "ar": "وحدة-{:02d}"}
UNIT_TITLE = {"en": "Unit {}", "fr": "Unité {}", "ar": "الوحدة {}"}
PAGE_NAME = {"en": "lesson-{:03d}.html", "fr": "leçon-{:03d}.html", "ar": "درس-{:03d}.html"}
LANG_TITLE = {"en": "Lessons in English", "fr": "Leçons en français", "ar": "دروس بالعربية"}
LABELS = {
    "en": ("Previous", "Next", "Download the document", "Watch the video", "Figure"),
    "fr": ("Précédent", "Suivant", "Télécharger le document", "Regarder la vidéo", "Figure"),
    "ar": ("السابق", "التالي", "تنزيل المستند", "شاهد الفيديو", "شكل"),
}


# ---------------------------------------------------------------------------------------------
# Text.

def sentence(rng, lang, lo=6, hi=18):
    s = " ".join(rng.choices(WORDS[lang], k=rng.randint(lo, hi)))
    return (s if lang == "ar" else s[0].upper() + s[1:]) + "."


def paragraph(rng, lang):
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(3, 9)))


def heading(rng, lang, lo=2, hi=5):
    t = " ".join(rng.choices(WORDS[lang], k=rng.randint(lo, hi)))
    return t if lang == "ar" else t[0].upper() + t[1:]


def slug(rng, lang, lo=2, hi=3):
    return "-".join(w.replace(" ", "-") for w in rng.choices(WORDS[lang], k=rng.randint(lo, hi)))


def page_html(rng, lang, title, target, css, prev, nxt, images, doc, video):
    """An HTML lesson page of about `target` bytes (UTF-8): paragraphs, headings and figures."""
    lab = LABELS[lang]
    rtl = ' dir="rtl"' if lang == "ar" else ""
    head = ('<!DOCTYPE html>\n<html lang="%s"%s>\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            '<title>%s</title>\n<link rel="stylesheet" href="%s">\n</head>\n<body>\n<main>\n<h1>%s</h1>\n'
            % (lang, rtl, esc(title), css, esc(title)))
    nav = "<nav>"
    if prev:
        nav += '<a href="%s">%s</a> ' % (prev, lab[0])
    if nxt:
        nav += '<a href="%s">%s</a>' % (nxt, lab[1])
    nav += "</nav>\n"
    tail = ""
    if doc:
        tail += '<p class="download"><a href="%s">%s</a></p>\n' % (doc, lab[2])
    if video:
        tail += '<p class="video"><a href="%s">%s</a></p>\n' % (video, lab[3])
    tail += nav + "</main>\n</body>\n</html>\n"
    parts = [head]
    size = len(head.encode()) + len(tail.encode())
    images = list(images)
    n = 0
    while size < target:
        if n % 6 == 5:
            piece = "<h2>%s</h2>\n" % esc(heading(rng, lang))
        elif n % 9 == 4 and images:
            img = images.pop(0)
            piece = ('<figure><img src="%s" alt="%s"><figcaption>%s %d. %s</figcaption></figure>\n'
                     % (img, esc(heading(rng, lang)), lab[4], n, esc(sentence(rng, lang))))
        else:
            piece = "<p>%s</p>\n" % esc(paragraph(rng, lang))
        parts.append(piece)
        size += len(piece.encode())
        n += 1
    parts.append(tail)
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# PDF: pages of text (a Flate-compressed content stream each, or plain in one PDF in four) and
# embedded noise images (Flate), valid cross-reference table. Text in WinAnsi (Latin-1) bytes.

def pdf_text(text):
    text = text.replace("œ", "oe").replace("Œ", "OE")
    raw = text.encode("latin-1", "replace")
    return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def pdf_bytes(rng, target, title, lang, compress):
    text_lang = lang if lang != "ar" else rng.choice(("en", "fr"))  # base-14 fonts: no Arabic
    text_share = rng.uniform(0.25, 0.6)
    objects = {}  # number -> body (bytes)
    page_ids = []
    next_id = [4]  # 1 catalog, 2 pages, 3 font

    def new_id():
        next_id[0] += 1
        return next_id[0] - 1

    def add_page(content, xobjects):
        cid = new_id()
        data = zlib.compress(content, 6) if compress else content
        flt = b" /Filter /FlateDecode" if compress else b""
        objects[cid] = b"<< /Length %d%s >>\nstream\n" % (len(data), flt) + data + b"\nendstream"
        pid = new_id()
        xo = b"".join(b" /Im%d %d 0 R" % (i, x) for i, x in xobjects)
        objects[pid] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                        b"/Resources << /Font << /F1 3 0 R >> /XObject <<%s >> >> >>" % (cid, xo))
        page_ids.append(pid)
        return len(objects[cid]) + len(objects[pid]) + 60  # with headers and the xref entries

    # Text pages until the text share of the target is reached.
    text_bytes = 0
    page_no = 0
    while text_bytes < target * text_share:
        page_no += 1
        lines = [b"BT /F1 16 Tf 56 790 Td (%s) Tj ET" % pdf_text("%s - %d" % (title, page_no)),
                 b"BT /F1 10 Tf 56 760 Td 12.5 TL"]
        line = ""
        for _ in range(rng.randint(40, 58)):
            line = " ".join(rng.choices(WORDS[text_lang], k=rng.randint(9, 15)))
            lines.append(b"(%s) '" % pdf_text(line))
        lines.append(b"ET")
        text_bytes += add_page(b"\n".join(lines) + b"\n", [])
    # Figures: noise images (they do not compress, as photographs would not), one per page.
    left = target - text_bytes
    k = 0
    while left > 20_000:
        k += 1
        raw_len = min(left, rng.randint(200_000, 900_000))
        width = 600
        height = max(1, raw_len // (width * 3))
        pixels = rng.randbytes(width * height * 3)
        data = zlib.compress(pixels, 1)
        iid = new_id()
        objects[iid] = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                        b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                        % (width, height, len(data)) + data + b"\nendstream")
        content = (b"q 480 0 0 %d 56 200 cm /Im%d Do Q\nBT /F1 10 Tf 56 180 Td (%s) Tj ET\n"
                   % (max(1, 480 * height // width), k, pdf_text("%s %d" % (LABELS[text_lang][4], k))))
        left -= len(objects[iid]) + add_page(content, [(k, iid)])
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = (b"<< /Type /Pages /Kids [%s] /Count %d >>"
                  % (b" ".join(b"%d 0 R" % p for p in page_ids), len(page_ids)))
    objects[3] = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for n in range(1, size):
        out += b"%010d 00000 n \n" % offsets[n]
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info << /Title (%s) >> >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, pdf_text(title), xref))
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# ffmpeg.

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y"]
BITEXACT = ["-fflags", "+bitexact", "-flags", "+bitexact", "-map_metadata", "-1"]


def ffmpeg(args):
    try:
        subprocess.run(FFMPEG + args, check=True)
    except FileNotFoundError:
        raise SystemExit("make_sync_corpus: ffmpeg not found (apt-get install ffmpeg)")
    except subprocess.CalledProcessError as e:
        raise SystemExit("make_sync_corpus: ffmpeg failed (exit %d): %s" % (e.returncode, " ".join(args)))


def jpeg_write(rng, path, seed):
    """A JPEG of 50-500 KB: a mandelbrot or testsrc2 frame with noise, re-encoded at another
    quality or size until it lands in that range."""
    sizes = [(640, 480), (800, 600), (1024, 768), (1280, 720), (1600, 900), (1600, 1200)]
    i = rng.randrange(len(sizes))
    q = rng.randint(2, 6)
    noise = rng.randint(8, 20)
    if rng.random() < 0.6:
        src = ("mandelbrot=s={}:start_x=%.4f:start_y=%.4f:start_scale=%.3f"
               % (rng.uniform(-1.6, -0.4), rng.uniform(-0.6, 0.6), rng.uniform(0.5, 3.0)))
    else:
        src = "testsrc2=s={}"
    for _ in range(12):
        w, h = sizes[i]
        ffmpeg(["-f", "lavfi", "-i", src.format("%dx%d" % (w, h)),
                "-vf", "noise=alls=%d:allf=u:all_seed=%d" % (noise, seed),
                "-frames:v", "1", "-q:v", str(q)] + BITEXACT + [path])
        size = os.path.getsize(path)
        if size > 500_000:
            if q < 12:
                q += 2
            elif i > 0:
                i -= 1
            else:
                break
        elif size < 50_000:
            if q > 2:
                q -= 1
            elif i + 1 < len(sizes):
                i += 1
            else:
                noise += 10
        else:
            break


def video_write(rng, path, size, seconds, seed, mandelbrot):
    audio_kbps = 96
    video_kbps = max(200, int((size * 8 / seconds - audio_kbps * 1000) / 1000))
    if mandelbrot:
        src = "mandelbrot=s=640x360:r=25"
        vf = "noise=alls=8:allf=t:all_seed=%d" % seed
    else:
        src = "testsrc2=s=640x360:r=25"
        vf = "noise=alls=%d:allf=t+u:all_seed=%d" % (rng.randint(22, 32), seed)
    ffmpeg(["-f", "lavfi", "-i", src, "-f", "lavfi",
            "-i", "sine=frequency=%d:sample_rate=44100" % rng.choice([220, 330, 440, 550, 660]),
            "-t", str(seconds), "-vf", vf,
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-b:v", "%dk" % video_kbps, "-maxrate", "%dk" % video_kbps, "-bufsize", "%dk" % (2 * video_kbps),
            "-x264-params", "keyint=50:min-keyint=50:scenecut=0:sliced-threads=1",
            "-c:a", "aac", "-b:a", "%dk" % audio_kbps, "-movflags", "+faststart"] + BITEXACT + [path])


def video_recut(src, dst, trim_seconds):
    """`ffmpeg -ss N -i SRC -c copy DST`: the stream from the keyframe at or before N, copied."""
    ffmpeg(["-ss", str(trim_seconds), "-i", src, "-map", "0", "-c", "copy", "-movflags", "+faststart"]
           + BITEXACT + [dst])


# ---------------------------------------------------------------------------------------------
# The old tree.

def write_file(root, rel, data):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp-write"
    with open(tmp, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    os.replace(tmp, path)  # a new inode: never changes a file another tree shares


def kind_of(rel):
    ext = os.path.splitext(rel)[1].lower()
    return {".html": "html", ".pdf": "pdf", ".png": "image", ".jpg": "image", ".mp4": "video",
            ".css": "css", ".toml": "toml"}.get(ext, "other")


def generate(root, rng, scale, seed):
    n_pages = max(60, round(1500 * scale))
    n_pdfs = max(4, round(40 * scale))
    n_png = max(6, round(100 * scale))
    n_jpg = max(4, round(50 * scale))
    n_videos = 5
    video_total = max(5 * 2 * MB, int(160 * MB * scale))
    video_seconds = max(12, round(60 * min(1.0, scale * 2)))

    write_file(root, "outpost.toml",
               '[channel]\nid = "%s"\ntitle = "Sync benchmark"\n'
               'description = "A generated three-language channel for bench/sync.sh."\n'
               'language = "en"\nlicense = "CC0"\n\n[topic]\n'
               'description = "Lessons in English, French and Arabic, with documents, pictures and videos."\n'
               % CHANNEL)

    units = []
    for lang in LANGS:
        write_file(root, "%s/outpost.toml" % lang,
                   "[topic]\ntitle = %s\nlanguage = \"%s\"\n" % (toml_str(LANG_TITLE[lang]), lang))
        write_file(root, "%s/assets/style.css" % lang, css_text(rng))
        for u in range(1, UNITS_PER_LANG + 1):
            d = "%s/%s" % (lang, UNIT_DIR[lang].format(u))
            write_file(root, d + "/outpost.toml", "[topic]\ntitle = %s\ndescription = %s\n"
                       % (toml_str(UNIT_TITLE[lang].format(u) + " : " + heading(rng, lang)),
                          toml_str(sentence(rng, lang))))
            units.append({"lang": lang, "dir": d, "pages": [], "images": [], "docs": []})

    def spread(n):
        out = [i % len(units) for i in range(n)]
        rng.shuffle(out)
        return out

    # Videos (media/, linked from a few pages).
    sizes = [rng.uniform(20, 60) for _ in range(n_videos)]
    sizes = [max(2 * MB, int(s * video_total / sum(sizes))) for s in sizes]
    videos = []
    for i, size in enumerate(sizes):
        rel = "media/%02d-%s.mp4" % (i + 1, slug(rng, "en"))
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        print("make_sync_corpus: video %d/%d (%d MB, %d s) ..." % (i + 1, n_videos, size // MB, video_seconds),
              file=sys.stderr, flush=True)
        video_write(rng, path, size, video_seconds, seed * 100 + i, mandelbrot=(i == 0))
        videos.append(rel)

    # Images.
    for i, u in enumerate(spread(n_png + n_jpg)):
        unit = units[u]
        if i < n_png:
            rel = "%s/images/%s-%03d.png" % (unit["dir"], slug(rng, unit["lang"], 1, 2), i)
            write_file(root, rel, png_bytes(rng, rng.randint(50_000, 500_000)))
        else:
            rel = "%s/images/%s-%03d.jpg" % (unit["dir"], slug(rng, unit["lang"], 1, 2), i)
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            jpeg_write(rng, os.path.join(root, rel), seed * 1000 + i)
        unit["images"].append(rel)

    # PDFs.
    for i, u in enumerate(spread(n_pdfs)):
        unit = units[u]
        rel = "%s/documents/%s.pdf" % (unit["dir"], slug(rng, unit["lang"]))
        if os.path.exists(os.path.join(root, rel)):
            rel = rel[:-4] + "-%d.pdf" % i
        title = heading(rng, unit["lang"], 3, 6)
        write_file(root, rel, pdf_bytes(rng, rng.randint(500_000, 3_000_000), title, unit["lang"],
                                        compress=(i % 4 != 3)))
        unit["docs"].append(rel)

    # Pages: numbered within each unit, linking to the unit's images and documents.
    counts = [0] * len(units)
    for u in spread(n_pages):
        counts[u] += 1
    for ui, unit in enumerate(units):
        lang, d = unit["lang"], unit["dir"]
        n = counts[ui]
        unit["pages"] = ["%s/%s" % (d, PAGE_NAME[lang].format(k)) for k in range(1, n + 1)]
        for k, rel in enumerate(unit["pages"]):
            imgs = [href(d, x) for x in unit["images"] if rng.random() < 0.3]
            doc = href(d, rng.choice(unit["docs"])) if unit["docs"] and rng.random() < 0.3 else None
            vid = href(d, rng.choice(videos)) if rng.random() < 0.05 else None
            target = int(5000 + 35000 * rng.random() ** 1.3)
            html = page_html(rng, lang, heading(rng, lang, 3, 7), target, href(d, "%s/assets/style.css" % lang),
                             href(d, unit["pages"][k - 1]) if k else None,
                             href(d, unit["pages"][k + 1]) if k + 1 < n else None, imgs, doc, vid)
            write_file(root, rel, html)
    return units, videos


# ---------------------------------------------------------------------------------------------
# The update.

def all_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if not name.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


def tree_size(root):
    files = all_files(root)
    return len(files), sum(os.path.getsize(os.path.join(root, f)) for f in files)


def copy_tree(src, dst):
    # cp -a keeps modification times (rsync's quick check compares size and mtime).
    subprocess.run(["cp", "-a", src, dst], check=True)


def size_of(root, rel):
    return os.path.getsize(os.path.join(root, rel))


def edit_page(rng, path, lang):
    """Changes one sentence of a paragraph in place, or inserts a paragraph after one."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    paras = [i for i, line in enumerate(lines) if line.startswith("<p>") and line.endswith("</p>")]
    if not paras:
        paras = [i for i, line in enumerate(lines) if line.startswith("<h1>")]
    i = rng.choice(paras)
    if rng.random() < 0.5 and lines[i].startswith("<p>"):
        sentences = lines[i][3:-4].split(". ")
        j = rng.randrange(len(sentences))
        new = esc(sentence(rng, lang))
        sentences[j] = new[:-1] if j + 1 < len(sentences) else new
        lines[i] = "<p>" + ". ".join(sentences) + "</p>"
        how = "sentence"
    else:
        lines.insert(i + 1, "<p>%s</p>" % esc(paragraph(rng, lang)))
        how = "paragraph"
    tmp = path + ".tmp-write"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    os.replace(tmp, path)
    return how


def lang_of(rel):
    return rel.split("/", 1)[0] if rel.split("/", 1)[0] in LANGS else "en"


def make_update(out, rng):
    old = os.path.join(out, "old", CHANNEL)
    files = all_files(old)
    pages = [f for f in files if f.endswith(".html")]
    pdfs = [f for f in files if f.endswith(".pdf")]
    images = [f for f in files if f.endswith((".png", ".jpg"))]
    videos = [f for f in files if f.endswith(".mp4")]
    upd = {"renamed": [], "moved": [], "edited": [], "recut": [], "added": [], "deleted": []}
    taken = set()

    def pick(pool, n):
        pool = [f for f in pool if f not in taken]
        chosen = rng.sample(pool, n)
        taken.update(chosen)
        return chosen

    # Renames (same folder, new name) and moves (same name, another unit of the same language).
    for kind, n_pdf, n_img, n_page in (("renamed", 1, 2, 2), ("moved", 1, 2, 2)):
        for rel in pick(pdfs, n_pdf) + pick(images, n_img) + pick(pages, n_page):
            d, name = os.path.split(rel)
            stem, ext = os.path.splitext(name)
            if kind == "renamed":
                new = "%s/%s%s" % (d, slug(rng, lang_of(rel), 2, 3), ext)
            else:
                parts = rel.split("/")  # lang/unit/[images/|documents/]name
                others = []
                for u in range(1, UNITS_PER_LANG + 1):
                    there = "/".join([parts[0], UNIT_DIR[parts[0]].format(u)] + parts[2:])
                    if there != rel and not os.path.exists(os.path.join(old, there)):
                        others.append(there)
                if not others:  # every other unit has a file of that name: a new name there
                    u = rng.choice([u for u in range(1, UNITS_PER_LANG + 1)
                                    if UNIT_DIR[parts[0]].format(u) != parts[1]])
                    parts[1] = UNIT_DIR[parts[0]].format(u)
                    parts[-1] = "%s-%s%s" % (stem, slug(rng, lang_of(rel), 1, 1), ext)
                    others = ["/".join(parts)]
                new = rng.choice(others)
            upd[kind].append({"from": rel, "to": new, "bytes": size_of(old, rel)})

    # The moves tree: old plus those renames and moves.
    moves_root = os.path.join(out, "moves.tmp")
    copy_tree(os.path.join(out, "old"), moves_root)
    for e in upd["renamed"] + upd["moved"]:
        src, dst = os.path.join(moves_root, CHANNEL, e["from"]), os.path.join(moves_root, CHANNEL, e["to"])
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.rename(src, dst)

    # The new tree: the moves tree plus the rest of the update.
    new_root = os.path.join(out, "new.tmp")
    copy_tree(moves_root, new_root)
    new = os.path.join(new_root, CHANNEL)
    n_edit = max(3, round(0.03 * len(pages)))
    for rel in sorted(pick(pages, n_edit)):
        before = size_of(new, rel)
        how = edit_page(rng, os.path.join(new, rel), lang_of(rel))
        upd["edited"].append({"path": rel, "how": how, "bytes_before": before, "bytes": size_of(new, rel)})
    rel = pick(videos, 1)[0]
    tmp = os.path.join(new, rel + ".recut.mp4")
    video_recut(os.path.join(new, rel), tmp, 5)
    before = size_of(new, rel)
    os.replace(tmp, os.path.join(new, rel))
    upd["recut"].append({"path": rel, "trim_seconds": 5, "bytes_before": before, "bytes": size_of(new, rel)})
    for rel in sorted(pick(pages, 14)) + sorted(pick(images, 6)):
        upd["deleted"].append({"path": rel, "bytes": size_of(new, rel)})
        os.remove(os.path.join(new, rel))
    # Added: 19 pages at the end of random units, and one PDF.
    unit_dirs = sorted({"/".join(p.split("/")[:2]) for p in pages})
    for i in range(19):
        d = rng.choice(unit_dirs)
        lang = lang_of(d)
        k = 1
        while os.path.exists(os.path.join(new, d, PAGE_NAME[lang].format(k))):
            k += 1
        rel = "%s/%s" % (d, PAGE_NAME[lang].format(k))
        html = page_html(rng, lang, heading(rng, lang, 3, 7), int(5000 + 35000 * rng.random() ** 1.3),
                         href(d, "%s/assets/style.css" % lang),
                         href(d, "%s/%s" % (d, PAGE_NAME[lang].format(k - 1))) if k > 1 else None,
                         None, [], None, None)
        write_file(new, rel, html)
        upd["added"].append({"path": rel, "bytes": size_of(new, rel)})
    d = rng.choice(unit_dirs)
    rel = "%s/documents/%s.pdf" % (d, slug(rng, lang_of(d)))
    write_file(new, rel, pdf_bytes(rng, rng.randint(500_000, 3_000_000), heading(rng, lang_of(d), 3, 6),
                                   lang_of(d), compress=True))
    upd["added"].append({"path": rel, "bytes": size_of(new, rel)})

    os.rename(moves_root, os.path.join(out, "moves"))
    os.rename(new_root, os.path.join(out, "new"))
    return upd


def summarize(out, upd):
    lines = []
    for name in ("old", "moves", "new"):
        root = os.path.join(out, name, CHANNEL)
        by_kind = {}
        for rel in all_files(root):
            k = kind_of(rel)
            n, s = by_kind.get(k, (0, 0))
            by_kind[k] = (n + 1, s + size_of(root, rel))
        files = sum(n for n, _ in by_kind.values())
        total = sum(s for _, s in by_kind.values())
        kinds = ", ".join("%s %d / %.1f MB" % (k, n, s / MB) for k, (n, s) in sorted(by_kind.items()))
        lines.append("corpus %-5s %5d files %11d bytes (%.1f MB): %s" % (name, files, total, total / MB, kinds))

    def part(label, entries, key="bytes", extra=""):
        total = sum(e[key] for e in entries)
        lines.append("update %-8s %3d files %11d bytes%s" % (label, len(entries), total, extra))

    edited = upd["edited"]
    sentence_edits = sum(1 for e in edited if e["how"] == "sentence")
    part("renamed", upd["renamed"], extra=" (bytes unchanged, same folder, new name)")
    part("moved", upd["moved"], extra=" (bytes unchanged, another folder)")
    part("edited", edited, extra=" (%d sentences changed, %d paragraphs inserted; %+d bytes)"
         % (sentence_edits, len(edited) - sentence_edits, sum(e["bytes"] - e["bytes_before"] for e in edited)))
    r = upd["recut"][0]
    part("recut", upd["recut"], extra=" (%s: first %d s trimmed with -c copy; was %d bytes)"
         % (r["path"], r["trim_seconds"], r["bytes_before"]))
    part("added", upd["added"], extra=" (%d pages, %d PDF)" % (
        sum(1 for e in upd["added"] if e["path"].endswith(".html")),
        sum(1 for e in upd["added"] if e["path"].endswith(".pdf"))))
    part("deleted", upd["deleted"])
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="folder to write (must not exist, or be empty)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scale", type=float, default=1.0, help="shrink the corpus (0 < scale <= 1)")
    a = ap.parse_args(argv)
    if not 0 < a.scale <= 1:
        ap.error("--scale must be in (0, 1]")
    if os.path.exists(a.out) and os.listdir(a.out):
        ap.error("%s exists and is not empty" % a.out)
    if shutil.which("ffmpeg") is None:
        raise SystemExit("make_sync_corpus: ffmpeg not found (apt-get install ffmpeg)")
    os.makedirs(a.out, exist_ok=True)
    rng = random.Random(a.seed)
    old_tmp = os.path.join(a.out, "old.tmp")
    generate(os.path.join(old_tmp, CHANNEL), rng, a.scale, a.seed)
    os.rename(old_tmp, os.path.join(a.out, "old"))
    upd = make_update(a.out, random.Random(a.seed * 7919 + 1))
    with open(os.path.join(a.out, "update.json"), "w", encoding="utf-8") as f:
        json.dump(upd, f, ensure_ascii=False, indent=1)
    text = summarize(a.out, upd)
    with open(os.path.join(a.out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
