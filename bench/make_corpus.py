#!/usr/bin/env python3
"""make_corpus.py: generates a test corpus shaped like a school library, for the import benchmark.

    make_corpus.py --out DIR [--size-mb 1000] [--files 5000] [--seed 1]
    make_corpus.py --mutate DIR [--seed 1] [--fraction 0.03]
    make_corpus.py --pages DIR [--files 10000] [--seed 1]

Generation writes a new folder DIR (which must not exist or be empty) holding about --size-mb
megabytes (10^6 bytes) in exactly --files files:

    outpost.toml                          channel id "outpost-bench-library"
    en/ fr/ ar/                           one tree per language (Arabic pages are dir="rtl")
      outpost.toml, assets/style.css
      <grade>/outpost.toml
        <subject>/[subject.css]
          <NN-unit>/                      lesson pages (HTML), PDFs, exercises
            images/                       PNG (valid, zlib) and SVG
            media/                        MP4 (valid 'ftyp' + 'mdat' boxes, random payload), WAV

Pages link to each other (previous / next / table of contents), to their images, PDFs, media
and style sheets, with relative URLs. Folder and file names use the language's own script
(accents in French, Arabic letters in Arabic). Everything is drawn from one random.Random(seed),
so the same options always give the same bytes. Byte budget at the default scale: videos
(5-60 MB each) ~45%, PDFs (100 KB-3 MB) ~25%, PNGs (3-500 KB) ~15%, WAV ~6%, the rest HTML,
CSS, SVG, exercises and metadata.

--mutate DIR changes a generated corpus in place the way a curriculum update would, touching
about --fraction of its files: edits a paragraph in some pages, appends an incremental update
to some PDFs, inserts a few KB in the middle of one video, renames or moves a few files,
deletes a few, and adds a few new pages, images and a PDF. The same --seed gives the same
changes.

--pages DIR writes a handbook of small pages instead, for the many-small-files case of
import.sh: exactly --files files, all HTML pages of 5-50 KB (uniformly drawn) in English,
French and Arabic, 50 to a unit folder (en/science/001-water/...), linked previous / next,
plus one style sheet per language and the root outpost.toml (channel
"outpost-bench-library-pages"). Page text is sentences drawn from a pool of 4,000 per language,
so the search index sees real words.

Only the Python standard library is used.
"""

import argparse
import json
import math
import os
import random
import re
import struct
import sys
import time
import zlib
from urllib.parse import quote

MB = 1_000_000
CHANNEL_ID = "outpost-bench-library"

# ---------------------------------------------------------------------------------------------
# Languages: small word lists, subject and grade names, labels.

WORDS = {
    "en": (
        "water cycle river rain cloud ocean mountain forest animal plant seed leaf root sun "
        "moon earth planet energy light heat sound number fraction triangle circle angle line "
        "measure length weight time hour minute market farmer village city school teacher "
        "student book story letter word sentence history map country continent desert island "
        "season summer winter spring autumn food health body heart blood bone muscle breathe "
        "grow change move build count add subtract multiply divide compare observe explain "
        "because therefore however during between under above small large quick careful "
        "important simple different together every many often always sometimes"
    ).split(),
    "fr": (
        "eau cycle rivière pluie nuage océan montagne forêt animal plante graine feuille racine "
        "soleil lune terre planète énergie lumière chaleur son nombre fraction triangle cercle "
        "angle droite mesure longueur masse heure minute marché agriculteur village ville école "
        "maître élève cahier histoire lettre mot phrase carte pays continent désert île saison "
        "été hiver printemps automne nourriture santé corps cœur sang os muscle respirer "
        "grandir changer déplacer construire compter ajouter soustraire multiplier diviser "
        "comparer observer expliquer parce que donc cependant pendant entre sous au-dessus petit "
        "grand rapide prudent important simple différent ensemble chaque souvent toujours "
        "parfois déjà très où ça à là français géographie leçon"
    ).split(),
    "ar": (
        "ماء دورة نهر مطر سحابة محيط جبل غابة حيوان نبات بذرة ورقة جذر شمس قمر أرض كوكب طاقة "
        "ضوء حرارة صوت عدد كسر مثلث دائرة زاوية خط قياس طول وزن وقت ساعة دقيقة سوق مزارع قرية "
        "مدينة مدرسة معلم طالب كتاب قصة حرف كلمة جملة تاريخ خريطة بلد قارة صحراء جزيرة فصل صيف "
        "شتاء ربيع خريف غذاء صحة جسم قلب دم عظم عضلة يتنفس ينمو يتغير يتحرك يبني يعد يجمع "
        "يطرح يضرب يقسم يقارن يلاحظ يشرح لأن لذلك لكن خلال بين تحت فوق صغير كبير سريع مهم "
        "بسيط مختلف معا كل كثير غالبا دائما أحيانا"
    ).split(),
}

SUBJECTS = {
    "en": [("science", "Science"), ("mathematics", "Mathematics"), ("reading", "Reading"),
           ("geography", "Geography"), ("health", "Health")],
    "fr": [("sciences", "Sciences"), ("mathématiques", "Mathématiques"), ("français", "Français"),
           ("géographie", "Géographie"), ("santé", "Santé")],
    "ar": [("علوم", "العلوم"), ("رياضيات", "الرياضيات"), ("لغة-عربية", "اللغة العربية"),
           ("جغرافيا", "الجغرافيا"), ("صحة", "الصحة")],
}

GRADE_FOLDER = {"en": "grade-{}", "fr": "niveau-{}", "ar": "الصف-{}"}
GRADE_TITLE = {"en": "Grade {}", "fr": "Niveau {}", "ar": "الصف {}"}
LANG_TITLE = {"en": "Lessons in English", "fr": "Leçons en français", "ar": "دروس بالعربية"}
LABELS = {
    "en": {"prev": "Previous", "next": "Next", "contents": "Contents", "document": "Download the document",
           "video": "Watch the video", "audio": "Listen", "check": "Check your understanding",
           "page": "Page"},
    "fr": {"prev": "Précédent", "next": "Suivant", "contents": "Sommaire", "document": "Télécharger le document",
           "video": "Regarder la vidéo", "audio": "Écouter", "check": "Vérifie ce que tu as compris",
           "page": "Page"},
    "ar": {"prev": "السابق", "next": "التالي", "contents": "المحتويات", "document": "تنزيل المستند",
           "video": "شاهد الفيديو", "audio": "استمع", "check": "تحقق من فهمك", "page": "صفحة"},
}
GRADES = [1, 2, 3, 4, 5, 6]

# Shares of the byte budget left after the small files, and size ranges (bytes) at full scale.
BIG_SHARES = {"video": 0.45, "pdf": 0.25, "png": 0.15, "audio": 0.06}
SIZE_RANGE = {"video": (5 * MB, 60 * MB), "pdf": (100_000, 3 * MB), "png": (3_000, 500_000),
              "audio": (1 * MB, 6 * MB)}
MEAN_VIDEO = 30 * MB


# ---------------------------------------------------------------------------------------------
# Text helpers.

def words(rng, lang, n):
    return " ".join(rng.choice(WORDS[lang]) for _ in range(n))


def sentence(rng, lang, lo=6, hi=16):
    s = words(rng, lang, rng.randint(lo, hi))
    if lang == "ar":
        return s + "."
    return s[0].upper() + s[1:] + "."


def paragraph(rng, lang):
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(3, 9)))


def title(rng, lang, lo=2, hi=5):
    t = words(rng, lang, rng.randint(lo, hi))
    return t if lang == "ar" else t[0].upper() + t[1:]


def slug(rng, lang, lo=1, hi=3):
    return "_".join(rng.choice(WORDS[lang]) for _ in range(rng.randint(lo, hi))).replace(" ", "_")


def esc(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def href(from_dir, target):
    return quote(os.path.relpath(target, from_dir).replace(os.sep, "/"), safe="/")


def ascii_text(text):
    # PDF base-14 fonts: keep it to printable ASCII, escaped for a PDF string.
    plain = "".join(c if 32 <= ord(c) < 127 else "?" for c in text)
    return plain.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


# ---------------------------------------------------------------------------------------------
# Binary formats.

def png_bytes(rng, target):
    """A valid 8-bit RGB PNG of about `target` bytes: a gradient band (compresses well) above a
    band of noise (does not)."""
    width = 64
    for w in (1024, 800, 640, 512, 320, 256, 128):
        if w * 3 * 16 <= target:
            width = w
            break
    row = width * 3
    grad_rows = max(1, min(rng.randint(4, 64), target // (2 * row)))
    r0, g0, b0 = rng.randrange(256), rng.randrange(256), rng.randrange(256)
    rows = []
    for y in range(grad_rows):
        line = bytearray(row)
        for x in range(width):
            line[3 * x] = (r0 + x) & 255
            line[3 * x + 1] = (g0 + y * 4) & 255
            line[3 * x + 2] = (b0 + x + y) & 255
        rows.append(b"\x00" + bytes(line))
    # The noise does not compress: size it from what the gradient compresses to.
    grad_packed = len(zlib.compress(b"".join(rows), 1))
    noise_rows = max(1, (target - 80 - grad_packed) // (row + 1))
    noise = rng.randbytes(noise_rows * row)
    rows.extend(b"\x00" + noise[i * row:(i + 1) * row] for i in range(noise_rows))
    raw = b"".join(rows)
    height = grad_rows + noise_rows

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(raw, 1))
            + chunk(b"IEND", b""))


def pdf_bytes(rng, target, heading, lines):
    """A minimal valid one-page PDF 1.4 with a text page and an unreferenced binary stream that
    pads it to about `target` bytes; correct xref offsets."""
    content = ["BT /F1 20 Tf 72 780 Td (%s) Tj ET" % ascii_text(heading)]
    y = 740
    for line in lines[:30]:
        content.append("BT /F1 11 Tf 72 %d Td (%s) Tj ET" % (y, ascii_text(line[:90])))
        y -= 16
    stream = "\n".join(content).encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    pad = max(0, target - len(out) - 400 - 20 * (len(objects) + 2))
    offsets.append(len(out))
    out += (b"%d 0 obj\n<< /Length %d >>\nstream\n" % (len(objects) + 1, pad) + rng.randbytes(pad)
            + b"\nendstream\nendobj\n")
    xref = len(out)
    size = len(offsets) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref)
    return bytes(out)


def pdf_append_update(rng, path, extra):
    """Appends a PDF incremental update (a new object, an xref section and a trailer whose /Prev
    is the previous xref) of about `extra` bytes."""
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        end = f.tell()
        f.seek(max(0, end - 2048))
        tail = f.read()
    prev = int(re.findall(rb"startxref\s+(\d+)", tail)[-1])
    size = int(re.findall(rb"/Size (\d+)", tail)[-1])
    payload = rng.randbytes(extra)
    obj = (b"%d 0 obj\n<< /Length %d >>\nstream\n" % (size, len(payload)) + payload
           + b"\nendstream\nendobj\n")
    with open(path, "ab") as f:
        obj_off = end
        f.write(obj)
        xref = obj_off + len(obj)
        f.write(b"xref\n0 1\n0000000000 65535 f \n%d 1\n%010d 00000 n \n" % (size, obj_off))
        f.write(b"trailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
                % (size + 1, prev, xref))
    return len(obj)


def mp4_write(rng, path, size):
    """An MP4 file: a valid 'ftyp' box, then one 'mdat' box of random bytes."""
    ftyp = struct.pack(">I4s4sI4s4s4s4s", 32, b"ftyp", b"isom", 0x200, b"isom", b"iso2", b"avc1", b"mp41")
    payload = max(0, size - len(ftyp) - 8)
    with open(path, "wb") as f:
        f.write(ftyp + struct.pack(">I4s", payload + 8, b"mdat"))
        _write_random(rng, f, payload)
    return len(ftyp) + 8 + payload


def wav_write(rng, path, size):
    """A PCM WAV file (16-bit mono, 22050 Hz) of noise."""
    data = max(0, size - 44) & ~1
    header = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + data, b"WAVE", b"fmt ", 16, 1, 1, 22050,
                         22050 * 2, 2, 16, b"data", data)
    with open(path, "wb") as f:
        f.write(header)
        _write_random(rng, f, data)
    return 44 + data


def _write_random(rng, f, n, piece=8 << 20):
    while n > 0:
        k = min(piece, n)
        f.write(rng.randbytes(k))
        n -= k


def svg_text(rng, lang, heading):
    shapes = []
    for _ in range(rng.randint(3, 40)):
        color = "#%06x" % rng.randrange(1 << 24)
        if rng.random() < 0.5:
            shapes.append('<circle cx="%d" cy="%d" r="%d" fill="%s"/>' % (
                rng.randrange(400), rng.randrange(300), rng.randint(5, 80), color))
        else:
            shapes.append('<rect x="%d" y="%d" width="%d" height="%d" fill="%s" opacity="0.%d"/>' % (
                rng.randrange(400), rng.randrange(300), rng.randint(10, 200), rng.randint(10, 150),
                color, rng.randint(2, 9)))
    anchor = ' direction="rtl"' if lang == "ar" else ""
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">\n'
            '<title>%s</title>\n%s\n<text x="20" y="280" font-size="20"%s>%s</text>\n</svg>\n'
            % (esc(heading), "\n".join(shapes), anchor, esc(heading)))


def css_text(rng):
    rules = ["body { font-family: %s; line-height: 1.%d; margin: 0 auto; max-width: %dem; }"
             % (rng.choice(["sans-serif", "serif", "'Noto Sans', sans-serif", "'Noto Naskh Arabic', serif"]),
                rng.randint(3, 7), rng.randint(36, 60))]
    for sel in ("h1", "h2", "p", "nav", "nav a", "figure", "img", "video", "footer", ".exercise",
                "[dir=rtl] nav", "a:hover", "table", "td", "th")[:rng.randint(6, 15)]:
        props = []
        for _ in range(rng.randint(1, 5)):
            props.append(rng.choice([
                "color: #%06x" % rng.randrange(1 << 24), "margin: %dpx" % rng.randint(0, 24),
                "padding: %dpx %dpx" % (rng.randint(0, 12), rng.randint(0, 24)),
                "font-size: %d%%" % rng.randint(80, 220), "border-bottom: 1px solid #%06x" % rng.randrange(1 << 24),
                "max-width: 100%", "display: block", "text-align: start"]))
        rules.append("%s { %s; }" % (sel, "; ".join(props)))
    return "\n".join(rules) + "\n"


def exercise_json(rng, lang, heading):
    w = WORDS[lang]
    a, b = rng.randint(2, 12), rng.randint(2, 12)
    questions = [
        {"type": "choice", "prompt": sentence(rng, lang).rstrip(".") + " ?",
         "choices": [title(rng, lang, 1, 3) for _ in range(rng.randint(2, 4))], "answer": 0,
         "feedback": sentence(rng, lang)},
        {"type": "numeric", "prompt": "%d × %d = ?" % (a, b), "answer": a * b, "tolerance": 0},
        {"type": "text", "prompt": sentence(rng, lang), "answers": [rng.choice(w), rng.choice(w)]},
    ]
    rng.shuffle(questions)
    return json.dumps({"title": heading, "language": lang, "questions": questions},
                      ensure_ascii=False, indent=2) + "\n"


def toml_str(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ---------------------------------------------------------------------------------------------
# Generation.

def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def scaled_sizes(rng, kind, count, budget):
    lo, hi = SIZE_RANGE[kind]
    raw = [log_uniform(rng, lo, hi) if kind != "video" else rng.randint(lo, hi) for _ in range(count)]
    total = sum(raw) or 1
    return [max(1024, int(s * budget / total)) for s in raw]


class Corpus:
    def __init__(self, out, rng):
        self.out = out
        self.rng = rng
        self.files = 0
        self.bytes = 0
        self.by_kind = {}

    def write(self, rel, data, kind):
        path = os.path.join(self.out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if isinstance(data, str):
            data = data.encode("utf-8")
        with open(path, "wb") as f:
            f.write(data)
        self.count(kind, len(data))

    def count(self, kind, n):
        self.files += 1
        self.bytes += n
        files, size = self.by_kind.get(kind, (0, 0))
        self.by_kind[kind] = (files + 1, size + n)


def plan_counts(n_files, size_bytes):
    counts = {
        "audio": max(1, round(n_files * 0.004)),
        "pdf": max(1, round(n_files * 0.06)),
        "png": max(1, round(n_files * 0.28)),
        "svg": max(1, round(n_files * 0.02)),
        "css": max(3, round(n_files * 0.01)),
        "exercise": max(1, round(n_files * 0.02)),
    }
    counts["video"] = max(1, min(round(size_bytes * BIG_SHARES["video"] / MEAN_VIDEO), n_files // 20 or 1))
    toml = 1 + 3 + 3 * len(GRADES)
    counts["html"] = n_files - toml - sum(counts.values())
    if counts["html"] < 3:
        raise SystemExit("make_corpus: --files %d is too few (need at least %d)"
                         % (n_files, n_files - counts["html"] + 3))
    return counts


def generate(out, size_mb, n_files, seed):
    rng = random.Random(seed)
    c = Corpus(out, rng)
    counts = plan_counts(n_files, size_mb * MB)

    # Units (leaf topics): spread over language / grade / subject.
    triples = [(lang, g, s) for lang in ("en", "fr", "ar") for g in GRADES for s in range(len(SUBJECTS[lang]))]
    rng.shuffle(triples)
    n_units = max(1, min(counts["html"] // 3, round(counts["html"] / 7)))
    units = []
    per_triple = {}
    for k in range(n_units):
        lang, g, s = triples[k % len(triples)]
        index = per_triple.get((lang, g, s), 0) + 1
        per_triple[(lang, g, s)] = index
        sub_folder, sub_title = SUBJECTS[lang][s]
        rel = os.path.join(lang, GRADE_FOLDER[lang].format(g), sub_folder,
                           "%02d-%s" % (index, slug(rng, lang)))
        units.append({"lang": lang, "grade": g, "subject": sub_folder, "dir": rel,
                      "title": title(rng, lang), "pages": [], "images": [], "pdfs": [], "media": [],
                      "exercises": [], "css": []})

    def spread(kind, n, at_least_one=False):
        order = list(range(len(units)))
        rng.shuffle(order)
        for k in range(n):
            u = units[order[k % len(order)]] if (at_least_one and k < len(order)) else rng.choice(units)
            u[kind].append(k)

    spread("pages", counts["html"], at_least_one=True)
    spread("images", counts["png"] + counts["svg"])
    spread("pdfs", counts["pdf"])
    spread("media", counts["video"] + counts["audio"])
    spread("exercises", counts["exercise"])

    # Style sheets: one per language, the rest per subject folder.
    css_for = {}
    for lang in ("en", "fr", "ar"):
        rel = os.path.join(lang, "assets", "style.css")
        c.write(rel, css_text(rng), "css")
        css_for[lang] = rel
    subject_dirs = sorted({os.path.dirname(u["dir"]) for u in units})
    rng.shuffle(subject_dirs)
    subject_css = {}
    for k in range(counts["css"] - 3):
        d = subject_dirs[k % len(subject_dirs)]
        name = "subject.css" if d not in subject_css else "subject-%d.css" % k
        rel = os.path.join(d, name)
        c.write(rel, css_text(rng), "css")
        subject_css.setdefault(d, rel)

    # Metadata.
    c.write("outpost.toml",
            "[channel]\nid = %s\ntitle = %s\ndescription = %s\nlanguage = \"en\"\nlicense = \"CC BY 4.0\"\n"
            "author = \"Outpost benchmark corpus\"\n" % (
                toml_str(CHANNEL_ID), toml_str("School library (benchmark corpus)"),
                toml_str("Generated by bench/make_corpus.py --seed %d" % seed)), "toml")
    for lang in ("en", "fr", "ar"):
        c.write(os.path.join(lang, "outpost.toml"),
                "[topic]\ntitle = %s\nlanguage = %s\n" % (toml_str(LANG_TITLE[lang]), toml_str(lang)), "toml")
        for g in GRADES:
            c.write(os.path.join(lang, GRADE_FOLDER[lang].format(g), "outpost.toml"),
                    "[topic]\ntitle = %s\ngrade = %s\n" % (toml_str(GRADE_TITLE[lang].format(g)), toml_str(str(g))),
                    "toml")

    # Decide names of every unit's files first, so that pages can link to them.
    kinds_media = ["video"] * counts["video"] + ["audio"] * counts["audio"]
    rng.shuffle(kinds_media)
    kinds_image = ["png"] * counts["png"] + ["svg"] * counts["svg"]
    rng.shuffle(kinds_image)
    for u in units:
        lang = u["lang"]
        u["page_files"] = ["%02d-%s.html" % (k + 1, slug(rng, lang)) for k in range(len(u["pages"]))]
        u["image_files"] = [("%s-%d.%s" % (slug(rng, lang, 1, 2), k, kinds_image[i]), kinds_image[i])
                            for k, i in enumerate(u["images"])]
        u["pdf_files"] = ["%s-%d.pdf" % (slug(rng, lang, 1, 3), k) for k in range(len(u["pdfs"]))]
        u["media_files"] = [("%s-%d.%s" % (slug(rng, lang, 1, 2), k, "mp4" if kinds_media[i] == "video" else "wav"),
                             kinds_media[i]) for k, i in enumerate(u["media"])]
        u["exercise_files"] = ["%s-%d.exercise.json" % (slug(rng, lang, 1, 2), k) for k in range(len(u["exercises"]))]

    # Small files: pages, SVGs, exercises.
    for u in units:
        lang, d = u["lang"], u["dir"]
        for k, name in enumerate(u["exercise_files"]):
            c.write(os.path.join(d, name), exercise_json(rng, lang, LABELS[lang]["check"] + " " + str(k + 1)), "exercise")
        for name, kind in u["image_files"]:
            if kind == "svg":
                c.write(os.path.join(d, "images", name), svg_text(rng, lang, title(rng, lang)), "svg")
        for k, name in enumerate(u["page_files"]):
            c.write(os.path.join(d, name), page_html(rng, u, k, css_for, subject_css), "html")

    # Large files: share what is left of the budget.
    left = max(0, size_mb * MB - c.bytes)
    share_total = sum(BIG_SHARES.values())
    sizes = {kind: scaled_sizes(rng, kind, counts[kind], left * BIG_SHARES[kind] / share_total)
             for kind in BIG_SHARES}
    used = {kind: 0 for kind in BIG_SHARES}

    def next_size(kind):
        s = sizes[kind][used[kind]]
        used[kind] += 1
        return s

    for u in units:
        lang, d = u["lang"], u["dir"]
        for name, kind in u["image_files"]:
            if kind == "png":
                c.write(os.path.join(d, "images", name), png_bytes(rng, next_size("png")), "png")
        for name in u["pdf_files"]:
            lines = [sentence(rng, lang) for _ in range(rng.randint(5, 30))]
            c.write(os.path.join(d, name), pdf_bytes(rng, next_size("pdf"), u["title"], lines), "pdf")
        for name, kind in u["media_files"]:
            path = os.path.join(c.out, d, "media", name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            n = (mp4_write if kind == "video" else wav_write)(rng, path, next_size(kind))
            c.count(kind, n)
    return c


def page_html(rng, u, k, css_for, subject_css):
    lang, d = u["lang"], u["dir"]
    lab = LABELS[lang]
    heading = u["title"] if k == 0 else title(rng, lang)
    direction = "rtl" if lang == "ar" else "ltr"
    parts = ['<!doctype html>\n<html lang="%s" dir="%s">\n<head>\n<meta charset="utf-8">\n'
             '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
             "<title>%s</title>\n" % (lang, direction, esc(heading))]
    parts.append('<link rel="stylesheet" href="%s">\n' % href(d, css_for[lang]))
    sub_css = subject_css.get(os.path.dirname(d))
    if sub_css:
        parts.append('<link rel="stylesheet" href="%s">\n' % href(d, sub_css))
    parts.append("</head>\n<body>\n<nav>")
    pages = u["page_files"]
    if k > 0:
        parts.append('<a href="%s">%s</a> ' % (quote(pages[k - 1]), lab["prev"]))
    parts.append('<a href="%s">%s</a>' % (quote(pages[0]), lab["contents"]))
    if k + 1 < len(pages):
        parts.append(' <a href="%s">%s</a>' % (quote(pages[k + 1]), lab["next"]))
    parts.append("</nav>\n<h1>%s</h1>\n" % esc(heading))
    if k == 0 and len(pages) > 1:
        parts.append("<ol>\n%s</ol>\n" % "".join(
            '<li><a href="%s">%s %d</a></li>\n' % (quote(p), lab["page"], i + 1) for i, p in enumerate(pages)))
    images = [name for name, _ in u.get("image_files", [])]
    n_par = rng.randint(3, 24)
    for p in range(n_par):
        if p % 3 == 0 and p // 3 < 2 and rng.random() < 0.5:
            parts.append("<h2>%s</h2>\n" % esc(title(rng, lang)))
        parts.append("<p>%s</p>\n" % esc(paragraph(rng, lang)))
        if images and rng.random() < 0.25:
            img = rng.choice(images)
            parts.append('<figure><img src="images/%s" alt="%s"><figcaption>%s</figcaption></figure>\n'
                         % (quote(img), esc(title(rng, lang)), esc(sentence(rng, lang, 3, 8))))
    if u.get("pdf_files") and (k == 0 or rng.random() < 0.3):
        parts.append('<p><a href="%s">%s</a></p>\n' % (quote(rng.choice(u["pdf_files"])), lab["document"]))
    for name, kind in u.get("media_files", []):
        if k == 0 or rng.random() < 0.3:
            if kind == "video":
                parts.append('<video controls preload="none" src="media/%s">%s</video>\n' % (quote(name), lab["video"]))
            else:
                parts.append('<audio controls src="media/%s">%s</audio>\n' % (quote(name), lab["audio"]))
    if u.get("exercise_files") and k + 1 == len(pages):
        parts.append('<p class="exercise"><a href="%s">%s</a></p>\n' % (quote(u["exercise_files"][0]), lab["check"]))
    parts.append("<footer>CC BY 4.0</footer>\n</body>\n</html>\n")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Many small pages (--pages): a handbook of HTML pages of 5-50 KB, for the many-small-files case.

PAGE_MIN, PAGE_MAX = 5_000, 50_000
PAGES_PER_UNIT = 50


def small_page(rng, lang, heading, pool, size, css, prev_name, next_name):
    lab = LABELS[lang]
    direction = "rtl" if lang == "ar" else "ltr"
    parts = ['<!doctype html>\n<html lang="%s" dir="%s">\n<head>\n<meta charset="utf-8">\n'
             '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
             '<title>%s</title>\n<link rel="stylesheet" href="%s">\n</head>\n<body>\n<nav>'
             % (lang, direction, esc(heading), css)]
    if prev_name:
        parts.append('<a href="%s">%s</a> ' % (quote(prev_name), lab["prev"]))
    if next_name:
        parts.append('<a href="%s">%s</a>' % (quote(next_name), lab["next"]))
    parts.append("</nav>\n<h1>%s</h1>\n" % esc(heading))
    tail = "<footer>CC BY 4.0</footer>\n</body>\n</html>\n"
    used = sum(len(x.encode()) for x in parts) + len(tail)
    while used < size:
        if rng.random() < 0.15:
            block = "<h2>%s</h2>\n" % esc(title(rng, lang))
        else:
            block = "<p>%s</p>\n" % esc(" ".join(rng.choice(pool) for _ in range(rng.randint(3, 9))))
        parts.append(block)
        used += len(block.encode())
    parts.append(tail)
    return "".join(parts)


def generate_pages(out, n_files, seed):
    """Exactly n_files files: n_files - 4 pages (one css per language, one outpost.toml)."""
    rng = random.Random("pages-%d" % seed)
    c = Corpus(out, rng)
    langs = ("en", "fr", "ar")
    # Sentences drawn from a pool per language: varied text without a random draw per word.
    pools = {lang: [sentence(rng, lang) for _ in range(4000)] for lang in langs}
    c.write("outpost.toml", '[channel]\nid = "%s-pages"\ntitle = "Handbook"\n' % CHANNEL_ID, "toml")
    for lang in langs:
        c.write(os.path.join(lang, "assets", "style.css"), css_text(rng), "css")
    n_pages = n_files - 4
    if n_pages < 1:
        raise SystemExit("make_corpus: --files must be at least 5 with --pages")
    for start in range(0, n_pages, PAGES_PER_UNIT):
        unit = start // PAGES_PER_UNIT
        lang = langs[unit % len(langs)]
        sub_folder = SUBJECTS[lang][(unit // len(langs)) % len(SUBJECTS[lang])][0]
        rel_dir = os.path.join(lang, sub_folder, "%03d-%s" % (unit + 1, slug(rng, lang)))
        count = min(PAGES_PER_UNIT, n_pages - start)
        names = ["%02d-%s.html" % (k + 1, slug(rng, lang)) for k in range(count)]
        css = href(rel_dir, os.path.join(lang, "assets", "style.css"))
        for k, name in enumerate(names):
            size = rng.randint(PAGE_MIN, PAGE_MAX)
            html = small_page(rng, lang, title(rng, lang), pools[lang], size, css,
                              names[k - 1] if k else None, names[k + 1] if k + 1 < count else None)
            c.write(os.path.join(rel_dir, name), html, "html")
    return c


# ---------------------------------------------------------------------------------------------
# Mutation.

def all_files(root):
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(n for n in dirnames if not n.startswith("."))
        for n in sorted(filenames):
            if not n.startswith("."):
                out.append(os.path.relpath(os.path.join(dirpath, n), root))
    return sorted(out)


def mutate(root, seed, fraction):
    rng = random.Random("mutate-%d" % seed)
    files = all_files(root)
    if not files:
        raise SystemExit("make_corpus: %s has no files" % root)
    by_ext = {}
    for f in files:
        by_ext.setdefault(os.path.splitext(f)[1].lower(), []).append(f)
    budget = max(6, round(len(files) * fraction))
    changes = {"html_edited": 0, "pdf_appended": 0, "video_inserted": 0, "moved": 0, "deleted": 0,
               "added": 0, "bytes_added": 0}
    touched = set()

    def pick(ext, n):
        pool = [f for f in by_ext.get(ext, []) if f not in touched]
        chosen = rng.sample(pool, min(n, len(pool)))
        touched.update(chosen)
        return chosen

    # Edit one paragraph in some pages.
    for rel in pick(".html", max(1, budget * 50 // 100)):
        path = os.path.join(root, rel)
        with open(path, encoding="utf-8") as f:
            text = f.read()
        lang = re.search(r'<html lang="(\w+)"', text)
        lang = lang.group(1) if lang and lang.group(1) in WORDS else "en"
        paras = list(re.finditer(r"<p>[^<]*</p>", text))
        if not paras:
            continue
        m = rng.choice(paras)
        text = text[:m.start()] + "<p>%s</p>" % esc(paragraph(rng, lang)) + text[m.end():]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        changes["html_edited"] += 1

    # Append an incremental update to some PDFs.
    for rel in pick(".pdf", max(1, budget * 10 // 100)):
        changes["bytes_added"] += pdf_append_update(rng, os.path.join(root, rel), rng.randint(2_000, 200_000))
        changes["pdf_appended"] += 1

    # Insert a few KB in the middle of one video (content-defined chunking keeps the rest).
    for rel in pick(".mp4", 1):
        path = os.path.join(root, rel)
        size = os.path.getsize(path)
        at = rng.randint(size // 4, 3 * size // 4)
        insert = rng.randbytes(rng.randint(1_000, 8_000))
        tmp = path + ".tmp"
        with open(path, "rb") as src, open(tmp, "wb") as dst:
            dst.write(src.read(32))  # ftyp
            mdat_size = struct.unpack(">I", src.read(4))[0]
            dst.write(struct.pack(">I", mdat_size + len(insert)))
            copied = 36
            while copied < at:
                data = src.read(min(8 << 20, at - copied))
                dst.write(data)
                copied += len(data)
            dst.write(insert)
            while True:
                data = src.read(8 << 20)
                if not data:
                    break
                dst.write(data)
        os.replace(tmp, path)
        changes["video_inserted"] += 1
        changes["bytes_added"] += len(insert)

    # Rename or move a few files (images and documents; the pages that link to them now don't).
    movable = [f for f in by_ext.get(".png", []) + by_ext.get(".pdf", []) + by_ext.get(".svg", [])
               if f not in touched]
    dirs = sorted({os.path.dirname(f) for f in movable})
    for rel in rng.sample(movable, min(len(movable), max(1, budget * 15 // 100))):
        touched.add(rel)
        base, ext = os.path.splitext(os.path.basename(rel))
        if rng.random() < 0.5:
            new_rel = os.path.join(os.path.dirname(rel), "%s-v2%s" % (base, ext))  # rename
        else:
            new_rel = os.path.join(rng.choice(dirs), "%s-moved%s" % (base, ext))  # move
        if os.path.exists(os.path.join(root, new_rel)):
            continue
        os.makedirs(os.path.dirname(os.path.join(root, new_rel)), exist_ok=True)
        os.rename(os.path.join(root, rel), os.path.join(root, new_rel))
        changes["moved"] += 1

    # Delete a few.
    for rel in pick(".png", max(1, budget * 5 // 100)) + pick(".html", max(1, budget * 3 // 100)):
        os.remove(os.path.join(root, rel))
        changes["deleted"] += 1

    # Add a few new pages, images and one PDF next to existing pages.
    page_dirs = sorted({os.path.dirname(f) for f in by_ext.get(".html", [])})
    for k in range(max(3, budget * 20 // 100)):
        d = rng.choice(page_dirs)
        lang = d.split(os.sep)[0] if d.split(os.sep)[0] in WORDS else "en"
        kind = "pdf" if k == 0 else rng.choice(["html", "html", "png"])
        if kind == "html":
            rel = os.path.join(d, "%02d-%s-new.html" % (90 + k % 10, slug(rng, lang)))
            u = {"lang": lang, "dir": d, "title": title(rng, lang), "page_files": [os.path.basename(rel)]}
            data = page_html(rng, u, 0, {lang: os.path.join(lang, "assets", "style.css")}, {}).encode("utf-8")
        elif kind == "png":
            rel = os.path.join(d, "images", "%s-new-%d.png" % (slug(rng, lang, 1, 2), k))
            data = png_bytes(rng, log_uniform(rng, *SIZE_RANGE["png"]))
        else:
            rel = os.path.join(d, "%s-new-%d.pdf" % (slug(rng, lang, 1, 2), k))
            data = pdf_bytes(rng, log_uniform(rng, *SIZE_RANGE["pdf"]), title(rng, lang),
                             [sentence(rng, lang) for _ in range(10)])
        path = os.path.join(root, rel)
        if os.path.exists(path):
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        changes["added"] += 1
        changes["bytes_added"] += len(data)
    return changes


def summarize(root):
    n, size = 0, 0
    for rel in all_files(root):
        n += 1
        size += os.path.getsize(os.path.join(root, rel))
    return n, size


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--out", metavar="DIR", help="generate a new corpus in DIR")
    mode.add_argument("--mutate", metavar="DIR", help="change a generated corpus in place")
    mode.add_argument("--pages", metavar="DIR",
                      help="generate a handbook of --files small HTML pages (5-50 KB) in DIR")
    ap.add_argument("--size-mb", type=int, default=1000, help="total size in MB (10^6 bytes); default 1000")
    ap.add_argument("--files", type=int, default=5000, help="number of files; default 5000")
    ap.add_argument("--seed", type=int, default=1, help="random seed; default 1")
    ap.add_argument("--fraction", type=float, default=0.03,
                    help="with --mutate: share of the files to touch; default 0.03")
    args = ap.parse_args(argv)

    start = time.monotonic()
    if args.pages:
        if os.path.isdir(args.pages) and os.listdir(args.pages):
            ap.error("%s exists and is not empty" % args.pages)
        c = generate_pages(args.pages, args.files, args.seed)
        print("pages %s: %d files, %d bytes (%.1f MB), seed %d, %.1f s"
              % (args.pages, c.files, c.bytes, c.bytes / MB, args.seed, time.monotonic() - start))
    elif args.out:
        if os.path.isdir(args.out) and os.listdir(args.out):
            ap.error("%s exists and is not empty" % args.out)
        if args.size_mb <= 0 or args.files <= 0:
            ap.error("--size-mb and --files must be positive")
        os.makedirs(args.out, exist_ok=True)
        c = generate(args.out, args.size_mb, args.files, args.seed)
        secs = time.monotonic() - start
        print("corpus %s: %d files, %d bytes (%.1f MB), seed %d, %.1f s"
              % (args.out, c.files, c.bytes, c.bytes / MB, args.seed, secs))
        for kind in sorted(c.by_kind):
            files, size = c.by_kind[kind]
            print("  %-9s %6d files %14d bytes" % (kind, files, size))
    else:
        if not os.path.isdir(args.mutate):
            ap.error("%s is not a directory" % args.mutate)
        changes = mutate(args.mutate, args.seed, args.fraction)
        files, size = summarize(args.mutate)
        secs = time.monotonic() - start
        print("mutated %s: %s; now %d files, %d bytes (%.1f MB), %.1f s"
              % (args.mutate, ", ".join("%s %d" % kv for kv in changes.items()), files, size, size / MB, secs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
